"""What handlers share: the bot's texts, keyboards, replies and one-question conversations.

Holds: render.py (previews, statuses, /list entries; the outcome lines come from
engine/reports.py), calendar.py (the month calendar and time pickers as rows of buttons),
chat.py (reply, edit in place, keyboards, the ids buttons and commands carry), asking.py
(questions that read the next message before the features do), undo.py (the ↩ Undo after
"Post now", and its button taken away when the window ends).

May import: the rooms below it (compose, accounts, ops, engine, schedule, media), bot.config,
bot.services, telegram. Never bot/admin (same level) nor bot/handlers.
"""
