"""Templates: named posts a user starts new ones from. Every query is scoped to the owner."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Media, Template


async def list_for(session: AsyncSession, user_id: int) -> list[Template]:
    """The user's templates, by name."""
    result = await session.scalars(
        select(Template)
        .where(Template.user_id == user_id)
        .order_by(func.lower(Template.name), Template.id)
    )
    return list(result)


async def get(session: AsyncSession, user_id: int, template_id: int) -> Template | None:
    return await session.scalar(
        select(Template).where(Template.id == template_id, Template.user_id == user_id)
    )


async def by_name(session: AsyncSession, user_id: int, name: str) -> Template | None:
    """The user's template with this name, ignoring case ("Weekly" is "weekly")."""
    return await session.scalar(
        select(Template)
        .where(Template.user_id == user_id, func.lower(Template.name) == name.lower())
        .limit(1)
    )


async def count(session: AsyncSession, user_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Template).where(Template.user_id == user_id)
        )
        or 0
    )


async def add(session: AsyncSession, template: Template) -> Template:
    """Insert; a duplicate name raises IntegrityError at the flush (the caller checks first,
    the unique constraint settles a race)."""
    session.add(template)
    await session.flush()
    return template


async def delete_one(session: AsyncSession, user_id: int, template_id: int) -> bool:
    result = await session.execute(
        delete(Template).where(Template.id == template_id, Template.user_id == user_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def media_rows(session: AsyncSession, user_id: int, media_ids: Sequence[int]) -> list[Media]:
    """The user's media rows with these ids, in the given order; ids that are gone (or not
    the user's) are left out."""
    ids = [int(i) for i in media_ids]
    if not ids:
        return []
    found = await session.scalars(select(Media).where(Media.user_id == user_id, Media.id.in_(ids)))
    by_id = {row.id: row for row in found}
    return [by_id[i] for i in ids if i in by_id]


# -- clean-up (a maintenance read over every user's templates; nothing is shown) ------------


async def media_in_use(session: AsyncSession) -> set[int]:
    """Ids of the media rows templates hold: the media clean-up must keep them."""
    result = await session.scalars(select(Template.media_ids))
    return {int(i) for ids in result for i in ids or ()}
