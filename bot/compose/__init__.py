"""The post as the user builds it, and what the user does with it once scheduled.

Holds: posting.py (the draft's text, media, accounts and time; the checks; confirm; the caps
on what one user may queue), scheduled.py (/list's pages, cancel, post now, retry, mark
published, a series' one-or-all cancel), drafts.py, versions.py (a draft's per-account
text and threads), threads.py (splitting a text into a numbered thread), templates.py,
editing.py and edit_save.py (editing a scheduled post), series_draft.py (the 🔁 Repeat of a
draft), bulk.py and bulk_plan.py (CSV files of posts), slots.py (the stored queue slots and
"Add to queue"); and the sub-room options/ (the draft's URL buttons and Telegram options).

May import: bot/engine, bot/schedule, bot/media, bot.config, bot.services, providers,
storage. Not bot/ops, bot/accounts (same level) nor anything above (ui, admin, handlers).

Why here: cancelling a series' occurrence moves the series on with the engine's `advance`,
but it is the user's action, so it is here and the engine never needs Services.
"""
