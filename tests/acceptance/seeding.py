"""Put users, accounts and scheduled posts straight into the database (engine tests start
from a state a user would have reached through the bot)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.app import Crier
from storage import accounts, posts, users
from storage.models import Account, Attempt, Target


async def seed_user(crier: Crier, user_id: int) -> None:
    async def work(session):  # type: ignore[no-untyped-def]
        await users.upsert(
            session,
            user_id=user_id,
            chat_id=user_id,
            first_name="Alice",
            username=None,
            language="en",
            default_timezone="UTC",
            admin=False,
        )

    await crier.db.run(work)


async def seed_account(
    crier: Crier,
    user_id: int,
    platform: str,
    label: str,
    *,
    config: Mapping[str, Any] | None = None,
    credentials: Mapping[str, Any] | None = None,
) -> int:
    assert crier.services is not None
    sealed = crier.services.secrets.seal(credentials) if credentials else None

    async def work(session):  # type: ignore[no-untyped-def]
        account = await accounts.add(
            session,
            user_id=user_id,
            platform=platform,
            label=label,
            external_id=label,
            config=dict(config or {}),
            credentials=sealed,
        )
        return account.id

    return await crier.db.run(work)


async def seed_post(
    crier: Crier,
    user_id: int,
    account_ids: Sequence[int],
    text: str,
    when: datetime | None = None,
) -> tuple[int, list[int]]:
    """A scheduled post (due now unless `when` says otherwise); the engine is woken."""
    at = when or datetime.now(UTC)

    async def work(session):  # type: ignore[no-untyped-def]
        post = await posts.new_draft(session, user_id)
        post.text = text
        chosen = await accounts.get_many(session, user_id, list(account_ids))
        result = await posts.schedule(session, post, chosen, at, "UTC")
        return post.id, [t.id for t in result.targets]

    post_id, target_ids = await crier.db.run(work)
    assert crier.services is not None
    crier.services.wake_engine(at)
    return post_id, target_ids


async def target(crier: Crier, target_id: int) -> Target:
    async with crier.db.session() as session:
        row = await session.get(Target, target_id, populate_existing=True)
        assert row is not None
        return row


async def account(crier: Crier, account_id: int) -> Account:
    async with crier.db.session() as session:
        row = await session.get(Account, account_id, populate_existing=True)
        assert row is not None
        return row


async def attempts(crier: Crier, target_id: int) -> list[Attempt]:
    async with crier.db.session() as session:
        return list(
            await session.scalars(
                select(Attempt).where(Attempt.target_id == target_id).order_by(Attempt.id)
            )
        )


async def seed_many(
    crier: Crier, user_id: int, account_id: int, times: Sequence[datetime]
) -> list[int]:
    """Many one-target posts in one transaction (bulk inserts); returns the target ids."""
    from sqlalchemy import insert

    from storage.models import Post, PostStatus, TargetStatus
    from storage.posts import idempotency_key

    async def work(session):  # type: ignore[no-untyped-def]
        post_ids = (
            await session.scalars(
                insert(Post).returning(Post.id),
                [
                    {
                        "user_id": user_id,
                        "status": PostStatus.SCHEDULED,
                        "text": f"post {n}",
                        "overrides": {},
                        "draft_account_ids": [account_id],
                        "publish_at": when,
                    }
                    for n, when in enumerate(times)
                ],
            )
        ).all()
        target_ids = (
            await session.scalars(
                insert(Target).returning(Target.id),
                [
                    {
                        "post_id": pid,
                        "account_id": account_id,
                        "user_id": user_id,
                        "occurrence": 0,
                        "publish_at": when,
                        "next_attempt_at": when,
                        "status": TargetStatus.QUEUED,
                        "attempts": 0,
                        "idempotency_key": idempotency_key(pid, account_id, 0),
                    }
                    for pid, when in zip(post_ids, times, strict=True)
                ],
            )
        ).all()
        return list(target_ids)

    return await crier.db.run(work)
