"""The draft's URL buttons and Telegram options (silent, protected, spoiler, link preview,
pin, delete-after, what an album does with its buttons), as the compose flow sets them.

Holds: draft.py (reading and setting them on the user's current draft, checked; the values
themselves and their defaults are bot/engine/options/values.py's).

A sub-room of compose: it may import what compose may (engine, schedule, media, providers,
storage, bot.config, bot.services) and bot.compose.posting; nothing in compose imports it.
"""
