"""What makes several engine processes on one PostgreSQL database as good as one: the
LISTEN that other processes' new work wakes (listen.py), and the limits that hold across
every worker because they are counted in the database (quotas.py). Part of the engine
room: imports what bot/engine may import, and is imported only by the engine and the wiring.
"""
