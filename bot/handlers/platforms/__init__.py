"""/accounts' per-platform screens for accounts connected by signing in: 🎯 another
destination of the same sign-in (destinations.py) and ⚙️ the settings an adapter declares
(settings.py).

May import: the rooms below handlers/ (bot/accounts, bot/ui, ...), bot.services. No other
handlers sub-room, nor the modules directly in handlers/.
"""
