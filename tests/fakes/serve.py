"""Serve any ASGI app on 127.0.0.1 for the duration of a test, in the current loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test runner owns signals
        return None


@asynccontextmanager
async def serve(app: Any, port: int = 0) -> AsyncIterator[str]:
    """Yields the base URL, e.g. http://127.0.0.1:40123 (on `port`, if given)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    server = _Server(
        uvicorn.Config(app, log_level="warning", log_config=None, lifespan="off", ws="none")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
        await asyncio.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def from_handler(handle: Callable[[httpx.Request], httpx.Response]) -> Starlette:
    """An ASGI app around an httpx-style handler (as used with httpx.MockTransport)."""

    async def endpoint(request: Request) -> Response:
        outgoing = httpx.Request(
            request.method,
            str(request.url),
            headers=list(request.headers.items()),
            content=await request.body(),
        )
        answer = handle(outgoing)
        return Response(
            content=answer.content,
            status_code=answer.status_code,
            headers={k: v for k, v in answer.headers.items() if k.lower() != "content-length"},
        )

    return Starlette(
        routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]
    )
