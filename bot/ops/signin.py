"""`/oauth/<platform>/callback`: where a platform sends the browser back after a sign-in.

The route only carries the request to the sign-in service it is given (accounts/oauth.py's
`complete`, wired by app.py, since ops/ doesn't import accounts/) and shows its answer as a
small page, never JSON. The address holds a one-time code and state: the page is not
cached, sends no referrer, and nothing of the query string is logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from html import escape
from typing import Protocol

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from bot.ops.logs import get_logger

log = get_logger(__name__)


class SignInPage(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str:
        """HTML, already escaped where it quotes anything."""


Finish = Callable[[str, Mapping[str, str]], Awaitable[SignInPage]]

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;display:flex;min-height:100vh;"
    "align-items:center;justify-content:center;background:#f4f6f8;color:#1c2733}"
    "main{background:#fff;padding:2rem 2.5rem;border-radius:12px;max-width:30rem;"
    "box-shadow:0 2px 12px rgba(0,0,0,.08)}h1{font-size:1.3rem;margin:0 0 .75rem}"
    "p{margin:.5rem 0}.small{color:#5b6b7a;font-size:.9rem}"
)


def render(page: SignInPage) -> str:
    """The page: a title, what happened, and where to go next."""
    icon = "✅" if page.status == 200 and "Connected" in page.title else "🔌"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(page.title)} · Crier</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{icon} {escape(page.title)}</h1><p>{page.text}</p>"
        "<p class=small>You can close this tab and go back to Telegram.</p></main></body></html>"
    )


def routes(finish: Finish) -> list[BaseRoute]:
    """The callback route, mounted under /oauth by the web server."""

    async def callback(request: Request) -> Response:
        platform = str(request.path_params["platform"])[:32]
        try:
            page = await finish(platform, dict(request.query_params))
        except Exception:
            log.exception("signin.failed", platform=platform)
            page = _Failed()
        log.info("signin.callback", platform=platform, status=page.status)
        return HTMLResponse(
            render(page),
            status_code=page.status,
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )

    return [Route("/{platform}/callback", callback, methods=["GET"])]


class _Failed:
    status = 500
    title = "Something went wrong"
    text = "Crier couldn't finish the sign-in. Send /connect to the bot in Telegram to try again."
