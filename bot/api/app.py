"""The FastAPI app mounted at /api/v1 on the web app (bot/ops/web.py), wired by bot/app.py.

Errors are RFC 9457 problem details whatever raised them (a route, the request's
validation, an unknown path); an unexpected error is logged and answered with a plain 500
problem, never a traceback. The docs page (/api/v1/docs) is Swagger UI with its files
served from the `swagger-ui-bundle` package, so it works with no internet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from bot.api.auth import Buckets
from bot.api.problems import ApiProblem, ProblemItem
from bot.api.routes import router
from bot.ops.logs import get_logger
from bot.services import Services

log = get_logger(__name__)
#: Room for a multipart body's boundaries and headers around the file itself.
UPLOAD_OVERHEAD = 65_536

DESCRIPTION = """\
Schedule posts to your connected accounts from scripts, n8n flows and AI assistants.
Everything goes through the same checks, engine and DMs as a post made in the chat.

Authenticate with a personal token made with **/api** in the chat:
`Authorization: Bearer crier_…`. Read-only tokens may only GET. Every POST takes an
optional `Idempotency-Key` header: the same key with the same body returns the first
answer (for 24 hours), with another body a 422. Errors are `application/problem+json`
(RFC 9457).
"""


def build(services: Services) -> FastAPI:
    settings = services.settings
    app = FastAPI(
        title="Crier API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.services = services
    app.state.buckets = Buckets(settings.api_rate_per_minute, settings.api_burst)
    app.include_router(router)
    assets = Path(swagger_ui_bundle.swagger_ui_path)
    app.mount("/docs/assets", StaticFiles(directory=assets), name="docs-assets")

    @app.middleware("http")
    async def refuse_large_uploads(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Refuse an upload by its declared length before its body is read (FastAPI reads a
        form before any dependency runs)."""
        declared = request.headers.get("content-length", "")
        limit = settings.api_upload_max_bytes + UPLOAD_OVERHEAD
        if request.method == "POST" and declared.isdigit() and int(declared) > limit:
            return ApiProblem(
                413,
                "Too large",
                f"Uploads may be at most {settings.api_upload_max_bytes / 1_000_000:g} MB.",
                kind="too-large",
            ).response()
        return await call_next(request)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="Crier API",
            swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs/assets/favicon-32x32.png",
        )

    @app.exception_handler(ApiProblem)
    async def on_problem(_request: Request, exc: ApiProblem) -> Response:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_request: Request, exc: RequestValidationError) -> Response:
        items = [
            ProblemItem(
                field=".".join(str(part) for part in error.get("loc", ()) if part != "body")
                or None,
                message=str(error.get("msg", "invalid")),
            )
            for error in exc.errors()
        ]
        detail = "; ".join(f"{i.field}: {i.message}" if i.field else i.message for i in items)
        return ApiProblem(
            422, "The request is not valid", detail[:1000], kind="validation", errors=items
        ).response()

    @app.exception_handler(HTTPException)
    async def on_http(_request: Request, exc: HTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed"}
        return ApiProblem(
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            str(exc.detail) if exc.detail else None,
            headers=exc.headers,
        ).response()

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("api.error", path=request.url.path, error=type(exc).__name__)
        return ApiProblem(
            500, "Internal error", "Something went wrong on our side; it was logged."
        ).response()

    return app
