"""Posts after composing: /list and /cancel (schedules.py), /status, /history and /retry
(history.py), /drafts (drafts.py), /templates (templates.py), 🗑 Delete and ✏️ Edit on a
post that is out (published.py).

Resuming a draft or using a template moves the compose conversation, so these may import
handlers/compose/; the graph (bot/handlers/conversation.py) wires them in. Never edit/.
"""
