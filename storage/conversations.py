"""Conversation states of the bot's persistent conversations."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationState


async def load(session: AsyncSession, name: str) -> dict[str, int]:
    rows = await session.scalars(select(ConversationState).where(ConversationState.name == name))
    return {row.key: row.state for row in rows}


async def save(session: AsyncSession, name: str, key: str, state: int | None) -> None:
    row = await session.scalar(
        select(ConversationState).where(
            ConversationState.name == name, ConversationState.key == key
        )
    )
    if state is None:
        if row is not None:
            await session.execute(delete(ConversationState).where(ConversationState.id == row.id))
        return
    if row is None:
        session.add(ConversationState(name=name, key=key, state=state))
    else:
        row.state = state


async def load_keys(session: AsyncSession, keys: dict[str, str]) -> dict[str, int]:
    """The stored state of each conversation name -> key asked for (absent: none)."""
    if not keys:
        return {}
    rows = await session.scalars(
        select(ConversationState).where(
            ConversationState.name.in_(list(keys)), ConversationState.key.in_(set(keys.values()))
        )
    )
    return {row.name: row.state for row in rows if keys.get(row.name) == row.key}
