"""Media files: bytes in, files out. What a file really is, whether it plays, what each
platform accepts, and the copy each platform gets.

Holds: receive.py (a Telegram download probed and stored content-addressed), sniff.py (the
first bytes), probe.py (decoding with Pillow and PyAV), profile.py (what one platform
accepts), adapt.py (convert, turn upright, strip location, shrink; cached), fetch.py (a
link fetched safely, for bulk files and the MCP server; a file uploaded to the REST API),
prepare.py (a post's files checked for one account
while composing, adapted when publishing), cleanup.py (freeing what nothing needs).

May import: bot.config only, of bot/; providers.base's dataclasses, storage (rows and the
media table), PIL, av.

Why here: prepare.py works on the files only; the post around them (its text per platform,
the account's credentials) is bot/engine/content.py's, which calls it. The clean-up's
periodic job is wired in bot/app.py, so this room never reads Services.
"""
