"""Telegram UI: one module per conversation or command family."""
