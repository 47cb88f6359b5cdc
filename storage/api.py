"""Personal API tokens and Idempotency-Key records. Every read of a user's rows takes the
user id; a token is found only by its hash (the token itself is never stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    ApiToken,
    Attempt,
    IdempotencyRecord,
    Post,
    PostStatus,
    Target,
    TargetStatus,
    User,
)


async def add_token(
    session: AsyncSession, user_id: int, name: str, scope: str, token_hash: str
) -> ApiToken:
    row = ApiToken(user_id=user_id, name=name, scope=scope, token_hash=token_hash)
    session.add(row)
    await session.flush()
    return row


async def tokens_of(session: AsyncSession, user_id: int) -> list[ApiToken]:
    """The user's live tokens, oldest first."""
    rows = await session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
    )
    return list(rows)


async def count_tokens(session: AsyncSession, user_id: int) -> int:
    return len(await tokens_of(session, user_id))


async def revoke(session: AsyncSession, user_id: int, token_id: int, now: datetime) -> bool:
    result = await session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            ApiToken.user_id == user_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def by_hash(session: AsyncSession, token_hash: str) -> tuple[ApiToken, User] | None:
    """The live token with this hash and its owner (the lookup is by an index on the hash;
    the caller compares the hash again in constant time)."""
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def touch(session: AsyncSession, token_id: int, now: datetime) -> None:
    await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


async def set_api_enabled(session: AsyncSession, user_id: int, enabled: bool) -> None:
    await session.execute(update(User).where(User.id == user_id).values(api_enabled=enabled))


# -- Idempotency-Key ------------------------------------------------------------------------


async def recorded(
    session: AsyncSession, user_id: int, key: str, since: datetime
) -> IdempotencyRecord | None:
    return await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at >= since,
        )
    )


async def record(
    session: AsyncSession,
    user_id: int,
    key: str,
    request_hash: str,
    status_code: int,
    body: str,
    since: datetime,
) -> bool:
    """Keep the first answer for this key; False if another request recorded one first.
    The user's answers older than `since` go first (so a key may be used again after)."""
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.created_at < since,
        )
    )
    try:
        async with session.begin_nested():
            session.add(
                IdempotencyRecord(
                    user_id=user_id,
                    key=key,
                    request_hash=request_hash,
                    status_code=status_code,
                    body=body,
                )
            )
    except IntegrityError:
        return False
    return True


# -- GET /posts -----------------------------------------------------------------------------


async def posts_page(
    session: AsyncSession,
    user_id: int,
    *,
    status: str | None = None,
    account_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> list[Post]:
    """The user's scheduled and past posts, newest first, with a copy (target) matching
    every filter given; `before_id` is the cursor (ids below it)."""
    where = [Post.user_id == user_id, Post.status != PostStatus.DRAFT]
    if before_id is not None:
        where.append(Post.id < before_id)
    conditions = [Target.post_id == Post.id, Target.user_id == user_id]
    if status is not None:
        conditions.append(Target.status == TargetStatus(status))
    if account_id is not None:
        conditions.append(Target.account_id == account_id)
    if since is not None:
        conditions.append(Target.publish_at >= since)
    if until is not None:
        conditions.append(Target.publish_at < until)
    if len(conditions) > 2:
        where.append(exists().where(*conditions))
    rows = await session.scalars(
        select(Post)
        .where(*where)
        .order_by(Post.id.desc())
        .limit(limit)
        .options(selectinload(Post.targets).joinedload(Target.account))
    )
    return list(rows)


async def attempts_of(
    session: AsyncSession, user_id: int, target_ids: list[int]
) -> dict[int, list[Attempt]]:
    """Every attempt of the user's targets, oldest first, by target id."""
    found: dict[int, list[Attempt]] = {i: [] for i in target_ids}
    if not target_ids:
        return found
    rows = await session.scalars(
        select(Attempt)
        .join(Target, Target.id == Attempt.target_id)
        .where(Target.user_id == user_id, Attempt.target_id.in_(target_ids))
        .order_by(Attempt.started_at, Attempt.id)
    )
    for row in rows:
        found[row.target_id].append(row)
    return found
