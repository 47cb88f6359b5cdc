"""A post's URL buttons and Telegram options, and what the engine does with delete-after.

values.py: the options a post chose over its account's defaults, and the buttons, as
`PostContent` fields (content mapping, compose and the preview read them); deleter.py:
removes a published post when its `targets.delete_at` comes (the engine's timer and sweep
run it).

A sub-room of the engine: it may import what the engine may (providers, storage) and
bot.engine.content; the engine's runner and outcomes import it.
"""
