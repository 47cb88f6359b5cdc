"""The compose draft's per-account versions: "Customize for X" (an own text for one account)
and "Split into a thread for X", stored in the draft's `overrides` (see bot/engine/overrides.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.compose.editing import EditError, own_text, thread_for
from bot.compose.posting import ACCOUNT_NOT_YOURS
from bot.engine.text import overrides
from bot.services import Services
from storage import accounts, posts
from storage.models import Post

#: An account of the user's that the draft doesn't go to.
NOT_PICKED = "That account isn't picked for this post."


async def set_draft_override(
    services: Services, user_id: int, account_id: int, text: str | None
) -> None:
    """The compose draft's own text for one of its accounts (None: the post's text)."""
    if text is not None:
        text = own_text(text, services)

    async def work(session: AsyncSession) -> None:
        post = await _chosen_draft(session, user_id, account_id)
        post.overrides = overrides.with_text(post.overrides, account_id, text)

    await services.db.run(work)


async def split_draft(services: Services, user_id: int, account_id: int) -> list[str]:
    """Split what one of the draft's accounts would get into a thread for it."""

    async def work(session: AsyncSession) -> list[str]:
        post = await _chosen_draft(session, user_id, account_id)
        account = await accounts.get(session, user_id, account_id)
        assert account is not None  # _chosen_draft checked it
        source, origin = overrides.thread_source(
            post.text, post.entities, post.overrides, account_id, account.platform
        )
        rows = [link.media for link in post.media_links]
        parts = thread_for(services, account, source, rows)
        post.overrides = overrides.with_thread(post.overrides, account_id, parts, source, origin)
        return parts

    return await services.db.run(work)


async def draft_text_changed(services: Services, user_id: int, old_text: str) -> None:
    """The draft's text was replaced: drop the threads split from the old one."""

    async def work(session: AsyncSession) -> None:
        post = await posts.current_draft(session, user_id)
        if post is not None and post.overrides:
            post.overrides = overrides.after_text_change(post.overrides, old_text)

    await services.db.run(work)


async def _chosen_draft(session: AsyncSession, user_id: int, account_id: int) -> Post:
    post = await posts.current_draft(session, user_id)
    if post is None:
        raise EditError("That draft is gone. Send /new to start a post.")
    if await accounts.get(session, user_id, account_id) is None:
        raise EditError(ACCOUNT_NOT_YOURS)
    if account_id not in post.draft_account_ids:
        raise EditError(NOT_PICKED)
    return post
