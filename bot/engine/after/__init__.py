"""After a post is out: deleting it and editing it in place on each account where its
platform allows (manage.py, what the ✏️ Edit and 🗑 Delete buttons call), and settling an
unknown outcome by asking the platform first (settle.py, what the engine does before it asks
the user).

May import what the engine may (bot/engine, bot.config, bot/media, providers, storage).
Handlers call manage.py with the Telegram user's id: every read and write is scoped to it.
"""
