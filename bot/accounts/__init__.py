"""The people who use Crier and the accounts they connect.

Holds: users.py (registering a user on first contact, their status and timezone),
connecting.py (connect, verify, rename, disconnect an account; credentials sealed),
options.py (per-account publishing options such as Mastodon's visibility), oauth.py
(connecting by signing in at the platform: the link, the callback's work, several
destinations to pick from), tokens.py (the job that refreshes tokens before they expire),
webhooks.py (a user's outgoing webhook: its URL, its signing secret, the latest deliveries;
the events and their sender are bot/engine/webhooks/), api_tokens.py (personal tokens for
the REST API and MCP: made, listed, revoked, checked).

May import: bot/engine, bot/schedule, bot/media, bot.config, bot.services, providers,
storage. Not bot/compose or bot/ops (same level) nor anything above.

Why a room of its own: connecting an account is no part of building a post (compose/), nor
an admin's work (admin/ is about other people's access); the /start, /timezone, /connect and
/accounts handlers need these services, and compose never does.
"""
