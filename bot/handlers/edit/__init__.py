"""Editing a scheduled post."""
