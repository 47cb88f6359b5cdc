"""Telegram UI: one module per conversation or command family. Parse the input, call a
service, render. No SQL, no HTTP, no domain rules.

Holds, directly: conversation.py (the compose conversation's state graph, drawn in
conversation.mmd beside it), gate.py (access, errors, fallbacks), inbound.py (PTB's update
processor: each user's updates in order, the per-user budget), persistence.py (conversation
states in the database), start.py, settings.py (/settings, /timezone), slots.py, bulk.py,
accounts.py, connect.py, options.py, post_options.py (compose's 🔗 Buttons and ⚙️ Options
steps for Telegram channels, from the preview). And sub-rooms: compose/ (the compose
steps), edit/ (editing a scheduled post), posts/ (/list, /status, /history, /drafts,
/templates), admin/ (admin commands and /broadcast), platforms/ (/accounts' 🎯 destination
and ⚙️ settings for accounts connected by signing in), automation/ (/api: personal tokens;
/webhook: outgoing webhooks).

May import: every room (ui, admin, compose, accounts, ops, engine, schedule, media),
bot.config, bot.services. Never bot/api, and nothing imports handlers but bot/app.py.
Inside: compose/ imports no other sub-room; edit/ and posts/ may import compose/; admin/
platforms/ and automation/ none; no sub-room imports the modules directly in handlers/ (they wire
the sub-rooms).
"""
