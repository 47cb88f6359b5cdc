"""Drafts: unfinished posts kept between sessions, and new drafts made from other posts.

The draft the compose flow works on is the one touched last (`storage.posts.current_draft`):
resuming a draft touches it, and starting a new one leaves the others in /drafts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.compose.posting import MAX_DRAFTS, POST_NOT_FOUND, ComposeError, fresh_draft
from bot.engine.text import formatting
from bot.services import Services
from storage import accounts, posts
from storage.models import Media, Post, PostStatus

#: Drafts shown per /drafts page.
PAGE_SIZE = 5

GONE = "That draft is gone: it was scheduled or deleted. /drafts shows the ones you have."


@dataclass(frozen=True, kw_only=True)
class Copied:
    """A new draft made from a post or a template."""

    post: Post
    #: Media items left out because their file was cleaned up.
    skipped_media: int = 0
    #: Accounts left out because they are no longer connected.
    dropped_accounts: int = 0


def has_content(post: Post | None) -> bool:
    return post is not None and bool(post.text.strip() or post.media_links)


async def page(services: Services, user_id: int, number: int) -> tuple[list[Post], int, int]:
    """One page of the user's drafts, newest first: (drafts, pages, how many in all)."""
    found, total = await services.db.run(
        lambda s: posts.list_drafts(s, user_id, offset=number * PAGE_SIZE, limit=PAGE_SIZE)
    )
    return found, max(1, -(-total // PAGE_SIZE)), total


async def get(services: Services, user_id: int, post_id: int) -> Post | None:
    return await services.db.run(lambda s: posts.get_draft(s, user_id, post_id))


async def in_progress(services: Services, user_id: int) -> Post | None:
    """The current draft, if it has anything in it."""
    post = await services.db.run(lambda s: posts.current_draft(s, user_id))
    return post if has_content(post) else None


async def resume(services: Services, user_id: int, post_id: int) -> Post:
    """Make this draft the one the compose flow works on."""

    async def work(session: AsyncSession) -> Post:
        post = await posts.get_draft(session, user_id, post_id)
        if post is None:
            raise ComposeError(GONE)
        await posts.make_current(session, post)
        await posts.prune_empty_drafts(session, user_id, keep=post.id)
        return post

    return await services.db.run(work)


async def delete(services: Services, user_id: int, post_id: int) -> bool:
    return await services.db.run(lambda s: posts.delete_draft(s, user_id, post_id))


async def duplicate(services: Services, user_id: int, post_id: int) -> Copied:
    """A new current draft with a scheduled or past post's content and accounts."""

    async def work(session: AsyncSession) -> Copied:
        source = await posts.get(session, user_id, post_id)
        if source is None or source.status == PostStatus.DRAFT:
            raise ComposeError(POST_NOT_FOUND.format(id=post_id))
        account_ids = list(dict.fromkeys(t.account_id for t in source.targets))
        return await fill(
            session,
            user_id,
            text=source.text,
            entities=source.entities or [],
            overrides=source.overrides or {},
            account_ids=account_ids or list(source.draft_account_ids),
            media=[link.media for link in source.media_links],
            buttons=source.buttons,  # issue 17: URL buttons and Telegram options go along
            options=source.options,
        )

    return await services.db.run(work)


async def fill(
    session: AsyncSession,
    user_id: int,
    *,
    text: str,
    entities: Sequence[Mapping[str, Any]],
    overrides: Mapping[str, Any],
    account_ids: Iterable[Any],
    media: Sequence[Media],
    buttons: Sequence[Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Copied:
    """A new current draft holding this content; accounts the user no longer has and media
    whose file is gone are left out. ComposeError when nothing is left to post."""
    draft = await fresh_draft(session, user_id)
    owned = {a.id for a in await accounts.list_for(session, user_id)}
    wanted = [int(i) for i in account_ids]
    chosen = [i for i in dict.fromkeys(wanted) if i in owned]
    draft.text = text
    draft.entities = [dict(e) for e in entities]
    draft.overrides = {k: v for k, v in overrides.items() if k.isdigit() and int(k) in owned}
    draft.draft_account_ids = chosen
    draft.publish_at = None
    draft.buttons = [list(row) for row in buttons] if buttons else None
    draft.options = dict(options) if options else None
    skipped = await posts.attach_copies(session, draft, media)
    if not text.strip() and not draft.media_links:
        raise ComposeError(
            "There is nothing left to post: its photos and videos were cleaned up after the "
            "retention period. Send them to me again to make a new post."
        )
    return Copied(
        post=draft, skipped_media=skipped, dropped_accounts=len(set(wanted)) - len(chosen)
    )


# -- one post per message -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Part:
    """One message (or album) the user sent for the draft, as the draft recorded it."""

    #: Where its text ends in the draft's text (characters; the parts are in order and
    #: joined by formatting.SEPARATOR).
    end: int
    #: The media it added, in order.
    media_ids: tuple[int, ...] = ()


LOST_TRACK = (
    "I can't tell any more which message was which (the draft changed since, or I was "
    "restarted), so I left it as one post."
)


async def split(
    services: Services, user_id: int, draft_id: int, parts: Sequence[Part]
) -> list[Post]:
    """Make each part its own draft: the first stays the draft being composed, the others
    go to /drafts. Refused, changing nothing, unless the parts are exactly the draft."""

    async def work(session: AsyncSession) -> list[Post]:
        post = await posts.get_draft(session, user_id, draft_id)
        if post is None:
            raise ComposeError(GONE)
        links = list(post.media_links)
        if (
            len(parts) < 2
            or parts[-1].end != len(post.text)
            or [m for p in parts for m in p.media_ids] != [link.media_id for link in links]
        ):
            raise ComposeError(LOST_TRACK)
        room = MAX_DRAFTS - await posts.count_drafts(session, user_id) + 1
        if len(parts) > room:
            raise ComposeError(
                f"That makes {len(parts)} drafts, and you have room for {room} more (I keep "
                f"{MAX_DRAFTS} at most). Delete some in /drafts first."
            )
        pieces = formatting.cut(post.text, post.entities or [], [p.end for p in parts])
        by_media = {link.media_id: link for link in links}
        made: list[Post] = []
        for index, (part, (text, entities)) in enumerate(zip(parts, pieces, strict=True)):
            target = post if index == 0 else await posts.new_draft(session, user_id)
            target.text, target.entities = text, entities
            target.draft_account_ids = list(post.draft_account_ids)
            if index > 0:
                for media_id in part.media_ids:
                    link = by_media[media_id]
                    await session.delete(link)
                    await session.flush()
                    await posts.attach_media(session, target, link.media)
            made.append(target)
        await posts.make_current(session, post)  # the first is the one carried on with
        return made

    return await services.db.run(work)
