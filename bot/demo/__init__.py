"""`crier demo`: the Telegram Bot API emulator and its local web chat.

The emulator (``emulator/``) imitates an outside service, api.telegram.org, so this room
imports no other room of bot/ (nor providers/ or storage/): the unmodified bot talks to it
over HTTP as it would to Telegram. The test suite's fake Telegram is this emulator. The web
chat (``web.py`` and the page in ``static/``) shows a person the emulated chat with the bot
and a demo channel, live, and turns what they type, send and tap into Telegram updates.
"""
