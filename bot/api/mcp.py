"""The MCP server for AI assistants, built with the official `mcp` SDK: `crier mcp` over
stdio, and streamable HTTP at /mcp on the web app. Each tool calls the same services as the
REST API (bot/api/service.py and the compose room), and its errors are the same plain
sentences the chat gives.

Authentication is a personal token (/api in the chat): over HTTP, each request's
`Authorization: Bearer crier_…` header; over stdio, the token `crier mcp` was started with
(CRIER_TOKEN). Either way it is checked again on every tool call, so revoking it in /api
stops the assistant at once.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp

from bot.accounts.api_tokens import Caller, authenticate
from bot.api import routes, service
from bot.api.problems import ApiProblem
from bot.api.schemas import PostIn, PostPatch
from bot.compose import posting, scheduled
from bot.config import Settings
from bot.ops.logs import get_logger
from bot.ops.platforms import build_registry
from bot.services import Services
from storage import api as api_store
from storage.db import Database
from storage.migrate import upgrade
from storage.secrets import SecretBox

log = get_logger(__name__)

#: Where the web app serves the streamable-HTTP endpoint.
PATH = "/mcp"
INSTRUCTIONS = (
    "Crier schedules posts to the user's social accounts (Telegram channels, Mastodon, "
    "Bluesky and more). Call list_accounts first to get account ids; times may be words "
    "such as 'tomorrow 9am' (read in the user's timezone) or RFC 3339 with an offset."
)


def _message(problem: ApiProblem) -> str:
    return problem.detail or problem.title


def build(services: Services, *, stdio_token: str | None = None) -> MCPServer:
    """The server with its tools; `stdio_token` is the token of a `crier mcp` process."""
    server: MCPServer = MCPServer(name="crier", instructions=INSTRUCTIONS)

    async def who(ctx: Context, *, write: bool) -> Caller:
        headers = ctx.headers if ctx is not None else None
        token = stdio_token
        if headers is not None:
            raw = headers.get("authorization", "")
            token = raw[7:].strip() if raw.lower().startswith("bearer ") else None
        found = await authenticate(services, token) if token else None
        if found is None:
            raise ToolError("The Crier token is missing, unknown or revoked. Make one with /api.")
        if found.refused:
            raise ToolError(found.refused)
        if write and not found.can_write:
            raise ToolError("This token is read-only. Make a read and write token with /api.")
        return found

    async def run(coro: Any) -> Any:
        try:
            return await coro
        except ApiProblem as problem:
            raise ToolError(_message(problem)) from problem

    @server.tool()
    async def list_accounts(ctx: Context) -> list[dict[str, Any]]:
        """List the user's connected accounts (id, platform, label, status); use the ids as
        account_ids when scheduling."""
        caller = await who(ctx, write=False)
        rows = await posting.user_accounts(services, caller.user_id)
        names = services.platform_names
        return [
            {
                "id": a.id,
                "platform": names.get(a.platform, a.platform),
                "label": a.label,
                "status": a.status.value,
            }
            for a in rows
        ]

    @server.tool()
    async def schedule_post(
        ctx: Context,
        text: str,
        account_ids: list[int],
        time: str = "now",
        media_urls: list[str] | None = None,
        media_ids: list[int] | None = None,
        repeat: str | None = None,
        notify: bool = True,
    ) -> dict[str, Any]:
        """Schedule a post on the given accounts at `time` ('now', 'tomorrow 9am', 'in 2h',
        or RFC 3339 with an offset), optionally with photos or videos by public https link
        or by uploaded media id, and an RRULE `repeat`; returns the scheduled post."""
        caller = await who(ctx, write=True)
        fetched = await run(service.fetch_links(services, caller, list(media_urls or [])))
        try:
            body = PostIn(
                text=text,
                account_ids=account_ids,
                time=time,
                media_ids=[*(media_ids or []), *fetched],
                repeat=repeat,
                notify=notify,
            )
        except ValueError as exc:
            raise ToolError(f"Those arguments don't make a post: {exc}") from exc
        post_id = await run(service.create_post(services, caller, body))
        return (await run(routes.load(services, caller, post_id))).model_dump(mode="json")

    @server.tool()
    async def list_posts(
        ctx: Context,
        status: Literal["queued", "publishing", "published", "failed", "cancelled", "unknown"]
        | None = None,
        limit: int = 10,
    ) -> list[dict[str, Any]]:
        """List the user's posts, newest first, each with every account's status and link;
        `status` keeps only posts with a copy in that state."""
        caller = await who(ctx, write=False)

        async def work(session: AsyncSession) -> list[dict[str, Any]]:
            rows = await api_store.posts_page(
                session, caller.user_id, status=status, limit=max(1, min(limit, 50))
            )
            return [routes.post_out(p, {}).model_dump(mode="json") for p in rows]

        return await services.db.run(work)

    @server.tool()
    async def get_post(ctx: Context, post_id: int) -> dict[str, Any]:
        """Get one post by id: each account's status, attempts and link once published."""
        caller = await who(ctx, write=False)
        return (await run(routes.load(services, caller, post_id))).model_dump(mode="json")

    @server.tool()
    async def reschedule_post(ctx: Context, post_id: int, time: str) -> dict[str, Any]:
        """Move a scheduled post's waiting copies to a new `time` (same words as
        schedule_post); copies already published stay as they are."""
        caller = await who(ctx, write=True)
        await run(service.patch_post(services, caller, post_id, PostPatch(time=time)))
        return (await run(routes.load(services, caller, post_id))).model_dump(mode="json")

    @server.tool()
    async def cancel_post(ctx: Context, post_id: int, scope: Literal["all", "next"] = "all") -> str:
        """Cancel what is still waiting of a post; for a repeating post, scope 'next'
        cancels only the next one and 'all' stops the series."""
        caller = await who(ctx, write=True)
        post = await run(routes.load(services, caller, post_id))
        waiting = [t for t in post.targets if t.status == "queued"]
        if not waiting:
            raise ToolError(f"Post #{post_id} has nothing waiting to go out.")
        if scope == "next" and post.repeat:
            first = min(t.occurrence for t in waiting)
            await scheduled.cancel_one(services, caller.user_id, post_id, first)
            return f"Cancelled the next post of series #{post_id}; the series goes on."
        await scheduled.cancel_all(services, caller.user_id, post_id)
        return f"Cancelled post #{post_id}."

    return server


def http_app(server: MCPServer) -> ASGIApp:
    """The streamable-HTTP endpoint, served at /mcp by the web app (its session manager runs
    while Crier does: `server.session_manager.run()`). Stateless: each request carries its
    token, and no session outlives it. DNS-rebinding protection (checking Host and Origin)
    is off: it guards servers that trust a browser's ambient credentials, and this one
    trusts only the bearer token, behind whatever public host name the instance has."""
    return server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )


class _NoNotices:
    """The notifier of a process that sends no Telegram messages (`crier mcp`): notices stay
    in the outbox for the bot's notifier, which sweeps it."""

    def wake(self) -> None:
        return None


async def serve_stdio(settings: Settings, token: str) -> int:
    """`crier mcp`: the MCP server over stdin/stdout for one person's token, on the same
    database as the bot (whose engine publishes what is scheduled here: its sweep finds it).
    Returns the exit status."""
    db = Database(settings.database_url)
    http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0))
    try:
        await upgrade(db)
        key = settings.crier_encryption_key
        services = Services(
            settings=settings,
            db=db,
            registry=build_registry(settings, http),
            secrets=SecretBox(key.get_secret_value() if key else None),
            http=http,
            notifier=_NoNotices(),
        )
        caller = await authenticate(services, token)
        if caller is None or caller.refused:
            reason = caller.refused if caller else "CRIER_TOKEN is unknown or was revoked."
            log.error("mcp.refused", reason=f"{reason} Make a token with /api in the chat.")
            return 2
        await build(services, stdio_token=token).run_stdio_async()
        return 0
    finally:
        await http.aclose()
        await db.dispose()
