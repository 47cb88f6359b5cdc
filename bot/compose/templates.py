"""Templates: a composed post saved under a name, to start new posts from.

A template holds its own copies of the media rows (same stored file, own alt text), so
editing or deleting the post it came from leaves it as it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.compose import drafts
from bot.compose.drafts import Copied
from bot.compose.posting import POST_NOT_FOUND, ComposeError
from bot.services import Services
from storage import media, posts, templates
from storage.models import Post, PostStatus, Template

#: Longest template name (the column's size).
MAX_NAME = 64
#: Templates one user keeps at most.
MAX_TEMPLATES = 50


def clean_name(raw: str) -> str:
    """The name as stored, or ComposeError saying what is wrong with it."""
    name = " ".join(raw.split())
    if not name:
        raise ComposeError("Send a name for the template, like “Weekly digest”.")
    if len(name) > MAX_NAME:
        raise ComposeError(f"That name is {len(name)} characters; keep it to {MAX_NAME}.")
    if name.startswith("/"):
        raise ComposeError("A template name can't start with /. Send another name.")
    return name


async def save_draft(services: Services, user_id: int, name: str) -> Template:
    """Save the current draft as a template."""

    async def work(session: AsyncSession) -> Template:
        post = await posts.current_draft(session, user_id)
        if not drafts.has_content(post):
            raise ComposeError("That draft is gone or empty. Send /new to start a post.")
        assert post is not None
        return await _save(session, user_id, name, post)

    return await _run(services, work, name)


async def save_post(services: Services, user_id: int, post_id: int, name: str) -> Template:
    """Save one of the user's scheduled or past posts as a template."""

    async def work(session: AsyncSession) -> Template:
        post = await posts.get(session, user_id, post_id)
        if post is None or post.status == PostStatus.DRAFT:
            raise ComposeError(POST_NOT_FOUND.format(id=post_id))
        return await _save(session, user_id, name, post)

    return await _run(services, work, name)


async def _run(
    services: Services, work: Callable[[AsyncSession], Awaitable[Template]], name: str
) -> Template:
    try:
        return await services.db.run(work)
    except IntegrityError:
        # Another save with the same name won the race past the check in `_save`.
        raise ComposeError(_taken(clean_name(name))) from None


def _taken(name: str) -> str:
    return (
        f"You already have a template called “{name}”. Send another name, or delete that "
        "one in /templates first."
    )


async def _save(session: AsyncSession, user_id: int, raw_name: str, post: Post) -> Template:
    name = clean_name(raw_name)
    if await templates.by_name(session, user_id, name) is not None:
        raise ComposeError(_taken(name))
    if await templates.count(session, user_id) >= MAX_TEMPLATES:
        raise ComposeError(
            f"You have {MAX_TEMPLATES} templates, the most I keep. Delete one in /templates first."
        )
    copies = []
    for link in post.media_links:
        if link.media.storage_key:
            copies.append(await media.add(session, posts.media_copy(link.media)))
    account_ids = list(dict.fromkeys(t.account_id for t in post.targets)) or list(
        post.draft_account_ids
    )
    template = Template(
        user_id=user_id,
        name=name,
        text=post.text,
        entities=list(post.entities or []),
        media_ids=[row.id for row in copies],
        overrides=dict(post.overrides or {}),
        account_ids=account_ids,
        buttons=post.buttons,
        options=post.options,
    )
    return await templates.add(session, template)


async def listing(services: Services, user_id: int) -> list[Template]:
    return await services.db.run(lambda s: templates.list_for(s, user_id))


async def get(services: Services, user_id: int, template_id: int) -> Template | None:
    return await services.db.run(lambda s: templates.get(s, user_id, template_id))


async def use(services: Services, user_id: int, template_id: int) -> tuple[Template, Copied]:
    """A new current draft with the template's text, formatting, media, accounts, URL buttons
    and Telegram options."""

    async def work(session: AsyncSession) -> tuple[Template, Copied]:
        template = await templates.get(session, user_id, template_id)
        if template is None:
            raise ComposeError("That template is gone. /templates shows the ones you have.")
        rows = await templates.media_rows(session, user_id, template.media_ids)
        copied = await drafts.fill(
            session,
            user_id,
            text=template.text,
            entities=template.entities or [],
            overrides=template.overrides or {},
            account_ids=template.account_ids,
            media=rows,
            buttons=template.buttons,
            options=template.options,
        )
        missing = len(template.media_ids) - len(rows)
        if missing:
            copied = Copied(
                post=copied.post,
                skipped_media=copied.skipped_media + missing,
                dropped_accounts=copied.dropped_accounts,
            )
        return template, copied

    return await services.db.run(work)


async def delete(services: Services, user_id: int, template_id: int) -> bool:
    return await services.db.run(lambda s: templates.delete_one(s, user_id, template_id))
