"""Outgoing webhooks, the engine's second outbox: the events a user's receiver gets when a
post's target settles (events.py), and the job that signs and delivers them (sender.py).

Holds: events.py (post.published, post.failed, post.unknown, post.cancelled: their JSON,
queued in the transaction that settled the target), sender.py (Standard Webhooks
signatures, retries with backoff; an event is a row until the receiver answered 2xx).

May import what bot/engine may: bot.config, providers, storage. Never bot.services or the
rooms above: the user-facing service (set the URL, rotate the secret, list deliveries) is
bot/accounts/webhooks.py, and the wiring gives the sender its Timer like the notifier's.
"""
