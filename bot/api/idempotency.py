"""`Idempotency-Key` on POST: the first answer to a key is kept 24 hours and replayed for
the same request; the same key with another request is refused (422). Answers that never
started the work (401, 403, 429) are not kept, so a retry after them runs for real."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from bot.accounts.api_tokens import Caller
from bot.api.problems import MEDIA_TYPE, ApiProblem
from bot.services import Services
from storage import api as api_store

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
MAX_KEY = 255
#: Answers kept: anything the work itself gave (success, or a problem with the request).
_NOT_KEPT = (401, 403, 429)


def fingerprint(request: Request, body: object) -> str:
    """What "the same request" means: method, path and the parsed body."""
    raw = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.url.path}\n{raw}".encode()).hexdigest()


async def once(
    request: Request,
    services: Services,
    caller: Caller,
    body: object,
    work: Callable[[], Awaitable[JSONResponse]],
) -> Response:
    """Run `work` unless this key already has an answer; keep the answer it gives."""
    key = request.headers.get(HEADER)
    if key is None:
        return await work()
    if not key.strip() or len(key) > MAX_KEY:
        raise ApiProblem(
            422,
            "Bad Idempotency-Key",
            f"An Idempotency-Key is 1 to {MAX_KEY} characters, such as a UUID.",
            kind="idempotency-key",
        )
    wanted = fingerprint(request, body)
    since = services.now() - KEEP

    async def look(session: AsyncSession) -> tuple[str, int, str] | None:
        row = await api_store.recorded(session, caller.user_id, key, since)
        return None if row is None else (row.request_hash, row.status_code, row.body)

    found = await services.db.run(look)
    if found is not None:
        return _replay(found, wanted)
    try:
        response = await work()
        status, content = response.status_code, bytes(response.body).decode()
    except ApiProblem as problem:
        if problem.status in _NOT_KEPT:
            raise
        response = problem.response()
        status, content = problem.status, json.dumps(problem.body())

    async def keep(session: AsyncSession) -> bool:
        return await api_store.record(session, caller.user_id, key, wanted, status, content, since)

    if not await services.db.run(keep):
        # Another request with this key finished first: answer as it did.
        again = await services.db.run(look)
        if again is not None:
            return _replay(again, wanted)
    return response


def _replay(found: tuple[str, int, str], wanted: str) -> Response:
    request_hash, status, content = found
    if request_hash != wanted:
        raise ApiProblem(
            422,
            "Idempotency-Key reused",
            "This Idempotency-Key was used with a different request in the last 24 hours. "
            "Use a new key for a new request.",
            kind="idempotency-key-reused",
        )
    media_type = MEDIA_TYPE if status >= 400 else "application/json"
    return Response(
        content,
        status_code=status,
        media_type=media_type,
        headers={"Idempotent-Replayed": "true"},
    )
