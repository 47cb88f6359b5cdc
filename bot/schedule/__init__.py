"""Time: reading what people type, timezones and the cities they name, repeats, queue slots.

Holds: parse.py (typed times, in eight languages; re-exports localtime), localtime.py (labels,
DST resolution, showing times back), words.py (the words parse.py reads), timezones.py and
cities.py (finding the zone a person means), recurrence.py (RRULEs in wall-clock time),
slots.py (weekly queue slots as text, and the next free one).

May import: bot.config only, of bot/ (it imports none today); zoneinfo, dateutil,
dateparser, timezonefinder. Pure functions: no database session, no Telegram types.

Why here: the queue slots' arithmetic is here and their storage in bot/compose/slots.py, so
the engine's rooms below compose can use the arithmetic; a series' next occurrence (which
needs the database) is bot/engine/series.py's, on top of recurrence.py.
"""
