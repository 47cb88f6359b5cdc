"""Running Crier: the web server, metrics, logging, Telegram's pace, and timers.

Holds: web.py (webhook, /healthz, /metrics, /media; it mounts the REST API at /api/v1 and
serves the MCP endpoint at /mcp, both built by bot/api/ and handed in by app.py), signin.py
(the OAuth callback route and its page; the work is accounts/oauth.py's, handed in by
app.py), platforms.py (every platform's adapter, configured from the settings), metrics.py
(Prometheus; the engine's observer), logs.py (structured logs with secrets redacted),
outbound.py (the pace of everything sent to Telegram; PTB's rate limiter), wakeup.py (the
JobQueue timer the engine and the notifier are given).

May import: bot/engine, bot/schedule, bot/media, bot.config, bot.services, providers,
storage, telegram.ext. Not bot/compose or bot/accounts (same level) nor anything above.

Why here: wakeup.py is PTB's JobQueue, which the engine may not import, so the engine owns
the `Timer` interface (engine/hooks.py) and this room fills it in at wiring time.
"""
