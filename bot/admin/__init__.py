"""What admins do and what keeps the instance in order: access control, alerts to admins,
broadcasts, stats.

Holds: access.py (roles, bans, the allow-list, invites, the over-budget reply), alerts.py
(deduplicated DMs about what needs an operator), broadcast.py (the durable broadcast
runner), broadcast_message.py (what a broadcast sends, its progress), ownership.py (one process at a
time sends broadcasts), pacer.py (the broadcast's own pace), stats.py (/stats).

May import: the rooms below it (compose, accounts, ops, engine, schedule, media), bot.config,
bot.services, telegram and telegram.ext. Never bot/ui (same level) nor bot/handlers.

Why here: pacer.py is only the broadcast's (an even pace, a gap per chat); Telegram's own
limits for every message are ops/outbound.py's, and the per-user budget of updates is
handlers/inbound.py's.
"""
