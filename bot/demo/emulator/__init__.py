"""The Telegram Bot API emulator: methods, limits, errors and pacing as api.telegram.org has them.

``server.TelegramEmulator`` serves the Bot API over HTTP on 127.0.0.1 and keeps the world
(users, chats, messages, files, updates) in memory; ``users.UserActions`` is what a person
does (send text, media, albums, locations; press buttons). It imports nothing of Crier.
"""
