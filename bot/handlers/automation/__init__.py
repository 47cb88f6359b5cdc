"""Handlers for driving Crier from other programs: api_tokens.py (/api: personal tokens for
the REST API and MCP; its 🪝 Webhook button opens /webhook's screen) and webhook.py (/webhook:
a user's outgoing webhook, its URL, the secret shown once, the latest deliveries).

May import: the rooms below handlers/ (ui, accounts, compose, schedule, engine), bot.config,
bot.services. No other handler sub-room, and no module directly in handlers/.
"""
