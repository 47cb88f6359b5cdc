"""The post's words as each platform gets them: Telegram's formatting written for each
platform (formatting.py), an account's own version of the text (overrides.py), and many
outcome summaries made one DM (digest.py).

A sub-room of the engine, because the engine's content mapping needs it at publish time
and compose, ui and handlers use it to show the same thing before. Pure text work: it
imports nothing of bot/ but itself.
"""
