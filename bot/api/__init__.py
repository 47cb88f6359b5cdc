"""The second front-end: the REST API at /api/v1 (FastAPI) for scripts, n8n flows and AI
assistants, over the same services the chat uses.

Holds: app.py (the FastAPI app: routers, problem+json errors, the offline docs page),
auth.py (the bearer token, scopes, the per-token rate limit), problems.py (RFC 9457 problem
details), idempotency.py (Idempotency-Key replays, kept 24 h), schemas.py (the pydantic
models, the OpenAPI document's single source), service.py (a post from a request: the same
checks, caps and scheduling as the compose flow's confirm), routes.py (accounts, media and
posts), mcp.py (the MCP server's tools, over stdio for `crier mcp` and streamable HTTP at
/mcp).

May import: the rooms below it (ui, admin, compose, accounts, ops, engine, schedule, media),
bot.config, bot.services. Never bot/handlers (and handlers never import it): like handlers/,
it parses, calls a service and renders. The tokens themselves are bot/accounts/api_tokens.py's,
since /api in the chat (a handler) makes them.
"""
