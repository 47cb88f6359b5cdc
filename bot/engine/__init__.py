"""The publish engine: claims due targets, publishes, retries, records outcomes, advances
series and delivers notices. It runs without the Telegram front-end (`crier worker`).

Holds: runner.py (the Engine: claims, concurrency, breakers, leases), outcomes.py (the
attempt, the target's state, the summary notice, in one transaction), reports.py (the words
of that notice), notifier.py (the outbox to Telegram), series.py (the next occurrence of a
repeating post), retry.py, breaker.py, concurrency.py (how many publishes at once),
content.py (rows to what providers take; checked and prepared), options/ (a post's buttons
and Telegram options, and the delete-after deleter), formatting.py and overrides.py (the
post's text per platform, and each account's own version), hooks.py (the Timer and the
Observers the wiring plugs in), webhooks/ (users' outgoing webhooks: the events queued
with outcomes, and their signed sender, an outbox like the notifier's), after/ (a post
once it is out: deleting and editing it per account; settling a lost answer by asking the
platform first), and cluster/ (several engine processes on one PostgreSQL: the NOTIFY
wake-ups, and the quotas counted in the database).

May import: bot.config, bot/schedule, bot/media, providers, storage; plain `telegram` types
(the notifier sends with a Bot). Never bot.services, handlers, ui, compose or telegram.ext:
what wakes it and what counts its work come in through hooks.py.

Why here: formatting.py (Telegram entities -> each platform's text) and overrides.py are
read when publishing, so they live where the engine may import them; compose and ui import
them from here. reports.py holds the summary DM's text because notices are the engine's
output; ui/render.py builds the bot's other texts on top of it.
"""
