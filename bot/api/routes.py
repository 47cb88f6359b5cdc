"""The routes: accounts, media and posts. Each parses, calls a service (bot/compose, bot/media,
bot/api/service.py) and renders a schema; another user's ids answer 404 like unknown ones."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from bot.accounts.api_tokens import Caller
from bot.api import service
from bot.api.auth import Reader, Writer, services_of
from bot.api.idempotency import once
from bot.api.problems import ApiProblem, invalid, not_found, problem_responses
from bot.api.schemas import (
    AccountList,
    AccountOut,
    AttemptOut,
    Changed,
    MediaOut,
    PostIn,
    PostOut,
    PostPage,
    PostPatch,
    TargetOut,
)
from bot.compose import posting, scheduled
from bot.services import Services
from storage import api as api_store
from storage import posts as posts_store
from storage.models import Attempt, Media, Post, PostStatus, TargetStatus

MAX_ID = 2**31 - 1
PostId = Annotated[int, Path(ge=1, le=MAX_ID, description="the post's id", examples=[12])]
READ = problem_responses(401, 403, 429)
WRITE = problem_responses(401, 403, 422, 429)

router = APIRouter()


# -- rendering ------------------------------------------------------------------------------


def media_out(row: Media) -> MediaOut:
    return MediaOut(
        id=row.id,
        kind=row.kind,
        mime=row.mime,
        size=row.size,
        width=row.width,
        height=row.height,
        duration=row.duration,
        alt_text=row.alt_text,
        sha256=row.sha256,
    )


def post_out(post: Post, attempts: dict[int, list[Attempt]]) -> PostOut:
    return PostOut(
        id=post.id,
        status="cancelled" if post.status == PostStatus.CANCELLED else "scheduled",
        text=post.text,
        media=[media_out(link.media) for link in post.media_links],
        publish_at=post.publish_at,
        repeat=post.rrule,
        timezone=post.timezone,
        notify=post.notify,
        created_at=post.created_at,
        targets=[
            TargetOut(
                account_id=t.account_id,
                account=t.account.label,
                platform=t.account.platform,
                occurrence=t.occurrence,
                status=t.status.value,
                publish_at=t.publish_at,
                attempts=t.attempts,
                url=t.url,
                published_at=t.published_at,
                error=t.last_error,
                history=[
                    AttemptOut(
                        at=a.started_at,
                        outcome=a.outcome,
                        http_status=a.http_status,
                        error=a.error,
                        duration_ms=a.duration_ms,
                    )
                    for a in attempts.get(t.id, [])
                ],
            )
            for t in post.targets
        ],
    )


async def load(services: Services, caller: Caller, post_id: int) -> PostOut:
    """The caller's post as the API shows it; 404 when it isn't theirs or doesn't exist."""

    async def work(session: AsyncSession) -> PostOut | None:
        post = await posts_store.get(session, caller.user_id, post_id)
        if post is None or post.status == PostStatus.DRAFT:
            return None
        attempts = await api_store.attempts_of(
            session, caller.user_id, [t.id for t in post.targets]
        )
        return post_out(post, attempts)

    found = await services.db.run(work)
    if found is None:
        raise not_found("post", post_id)
    return found


def _json(model: PostOut | MediaOut | Changed, status: int = 200) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"), status_code=status)


# -- accounts -------------------------------------------------------------------------------


@router.get("/accounts", response_model=AccountList, tags=["accounts"], responses=READ)
async def list_accounts(request: Request, caller: Reader) -> AccountList:
    """The accounts you connected, to pick `account_ids` from."""
    services = services_of(request)
    rows = await posting.user_accounts(services, caller.user_id)
    names = services.platform_names
    return AccountList(
        items=[
            AccountOut(
                id=a.id,
                platform=a.platform,
                platform_name=names.get(a.platform, a.platform),
                label=a.label,
                status=a.status.value,
            )
            for a in rows
        ]
    )


# -- media ----------------------------------------------------------------------------------


@router.post(
    "/media",
    status_code=201,
    response_model=MediaOut,
    tags=["media"],
    responses=problem_responses(401, 403, 413, 422, 429),
)
async def upload_media(
    request: Request,
    caller: Writer,
    file: Annotated[UploadFile, File(description="a photo or a video")],
    alt_text: Annotated[str | None, Form(max_length=posting.MAX_ALT_TEXT)] = None,
) -> Response:
    """Upload a photo or video (multipart/form-data); the bytes are checked as media sent in
    the chat are. Returns the media id to use in `media_ids`."""
    services = services_of(request)
    sha = await _sha256(file)

    async def work() -> JSONResponse:
        row = await service.upload(
            services,
            caller,
            file.file,
            claimed_mime=file.content_type,
            file_name=file.filename,
            alt_text=alt_text,
        )
        return _json(media_out(row), 201)

    return await once(request, services, caller, {"file": sha, "alt_text": alt_text}, work)


async def _sha256(file: UploadFile) -> str:
    digest = hashlib.sha256()
    while chunk := await file.read(1 << 20):
        digest.update(chunk)
    await file.seek(0)
    return digest.hexdigest()


# -- posts ----------------------------------------------------------------------------------


@router.post("/posts", status_code=201, response_model=PostOut, tags=["posts"], responses=WRITE)
async def create_post(request: Request, caller: Writer, body: PostIn) -> Response:
    """Schedule a post on your accounts: checked like the chat's preview (422 lists each
    account's problems), then published by the engine at its time, with the same DMs."""
    services = services_of(request)

    async def work() -> JSONResponse:
        post_id = await service.create_post(services, caller, body)
        response = _json(await load(services, caller, post_id), 201)
        response.headers["Location"] = f"{request.scope.get('root_path', '')}/posts/{post_id}"
        return response

    return await once(request, services, caller, body.model_dump(mode="json"), work)


def _cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        value = int(base64.urlsafe_b64decode(raw.encode() + b"==").decode().removeprefix("p"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid("That cursor is not one this API gave.") from exc
    if not 1 <= value <= MAX_ID:
        raise invalid("That cursor is not one this API gave.")
    return value


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (OverflowError, ValueError) as exc:
        raise invalid(f"{name} is out of range.") from exc


@router.get(
    "/posts",
    response_model=PostPage,
    tags=["posts"],
    responses=problem_responses(401, 403, 422, 429),
)
async def list_posts(
    request: Request,
    caller: Reader,
    status: Annotated[
        Literal["queued", "publishing", "published", "failed", "cancelled", "unknown"] | None,
        Query(description="posts with a copy in this state"),
    ] = None,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: Annotated[
        datetime | None, Query(description="copies due at or after (RFC 3339)")
    ] = None,
    until: Annotated[datetime | None, Query(description="copies due before (RFC 3339)")] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PostPage:
    """Your scheduled and past posts, newest first, a page at a time (`next_cursor`)."""
    services = services_of(request)
    before = _cursor(cursor)
    start, end = _utc(since, "since"), _utc(until, "until")

    async def work(session: AsyncSession) -> PostPage:
        rows = await api_store.posts_page(
            session,
            caller.user_id,
            status=status,
            account_id=account_id,
            since=start,
            until=end,
            before_id=before,
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        attempts = await api_store.attempts_of(
            session, caller.user_id, [t.id for p in rows for t in p.targets]
        )
        token = None
        if more:  # opaque to callers: the last id shown, as GitHub's and Stripe's cursors are
            token = base64.urlsafe_b64encode(f"p{rows[-1].id}".encode()).decode().rstrip("=")
        return PostPage(items=[post_out(p, attempts) for p in rows], next_cursor=token)

    return await services.db.run(work)


@router.get(
    "/posts/{post_id}",
    response_model=PostOut,
    tags=["posts"],
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def get_post(request: Request, caller: Reader, post_id: PostId) -> PostOut:
    """One post: each account's copy, its status, attempts and link."""
    return await load(services_of(request), caller, post_id)


@router.patch(
    "/posts/{post_id}",
    response_model=PostOut,
    tags=["posts"],
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
async def edit_post(request: Request, caller: Writer, post_id: PostId, body: PostPatch) -> PostOut:
    """Change the copies still waiting, by the rules of /edit in the chat (copies already
    out stay as they are; a repeating post's new time moves the series)."""
    services = services_of(request)
    await service.patch_post(services, caller, post_id, body)
    return await load(services, caller, post_id)


@router.delete(
    "/posts/{post_id}",
    response_model=Changed,
    tags=["posts"],
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
async def cancel_post(
    request: Request,
    caller: Writer,
    post_id: PostId,
    scope: Annotated[
        Literal["all", "next"],
        Query(description="a repeating post: `next` cancels only the next one; `all` stops it"),
    ] = "all",
) -> Changed:
    """Cancel what is still waiting of the post; a series: the next one or all."""
    services = services_of(request)
    current = await load(services, caller, post_id)
    queued = [t for t in current.targets if t.status == TargetStatus.QUEUED.value]
    if not queued:
        raise _nothing(post_id, "cancel")
    stopped = False
    if scope == "next" and current.repeat:
        occurrence = min(t.occurrence for t in queued)
        done = await scheduled.cancel_one(services, caller.user_id, post_id, occurrence)
        count = done.count if done is not None else None
    else:
        both = await scheduled.cancel_all(services, caller.user_id, post_id)
        count, stopped = (None, False) if both is None else both
    if count is None:
        raise not_found("post", post_id)
    return Changed(
        changed=count, series_stopped=stopped, post=await load(services, caller, post_id)
    )


def _nothing(post_id: int, action: str) -> ApiProblem:
    words = {
        "cancel": "nothing of it is waiting to go out",
        "retry": "no copy of it failed or is in doubt",
        "publish-now": "nothing of it is waiting to go out",
    }
    return ApiProblem(
        409, f"Nothing to {action}", f"Post {post_id}: {words[action]}.", kind="conflict"
    )


@router.post(
    "/posts/{post_id}/retry",
    response_model=Changed,
    tags=["posts"],
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
async def retry_post(request: Request, caller: Writer, post_id: PostId) -> Response:
    """Queue the failed (and unknown) copies again, now."""
    return await _change(request, caller, post_id, "retry", scheduled.retry)


@router.post(
    "/posts/{post_id}/publish-now",
    response_model=Changed,
    tags=["posts"],
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
async def publish_now(request: Request, caller: Writer, post_id: PostId) -> Response:
    """Make the waiting copies due now (a series: its next post)."""
    return await _change(request, caller, post_id, "publish-now", scheduled.post_now)


async def _change(
    request: Request,
    caller: Writer,
    post_id: int,
    action: str,
    change: Callable[[Services, int, int], Awaitable[int | None]],
) -> Response:
    """A change to the post's copies through compose's service, replayed by Idempotency-Key:
    404 when the post isn't the caller's, 409 when nothing was there to change."""
    services = services_of(request)

    async def work() -> JSONResponse:
        count = await change(services, caller.user_id, post_id)
        if count is None:
            raise not_found("post", post_id)
        if not count:
            raise _nothing(post_id, action)
        return _json(Changed(changed=count, post=await load(services, caller, post_id)))

    return await once(request, services, caller, {"post_id": post_id}, work)
