"""Posts after composing: /list, /cancel, /status, /history, /drafts, /templates."""
