"""Conversation states kept in the database, so a restart resumes a compose mid-way, and
several front-ends on one PostgreSQL database can answer one user's updates in turn
(SharedConversations reads each state before an update and writes it right after).

Only conversations are persisted: drafts themselves are rows already, and nothing else in
PTB's user/chat/bot data is used (but /slots keeps a pending choice in user_data: with
several front-ends, that step must land on the front-end that asked).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from telegram import Update
from telegram.ext import Application, BasePersistence, ConversationHandler, PersistenceInput
from telegram.ext._handlers.conversationhandler import PendingState

from storage import conversations, turns
from storage.db import Database

# PTB's own aliases live in a private module; these are the same shapes.
ConversationKey = tuple[int | str, ...]
ConversationDict = MutableMapping[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], Any]):
    def __init__(self, db: Database, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._db = db

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self._db.run(lambda s: conversations.load(s, name))
        return {tuple(json.loads(key)): state for key, state in rows.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        state = new_state if isinstance(new_state, int) else None
        await self._db.run(lambda s: conversations.save(s, name, json.dumps(list(key)), state))

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> Any:
        return None

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: Any) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Any) -> None:
        return None

    async def flush(self) -> None:
        return None


def utc_now() -> datetime:
    return datetime.now(UTC)


class SharedConversations:
    """Several front-ends on one database (webhook mode behind a load balancer): each update
    may land on any of them, so where its user is in each conversation is read from the
    database before the update is handled, and written back as soon as it was.

    PTB keeps conversation states in memory and writes them every `update_interval`; it
    has no public way to reload one key, so this reaches into `ConversationHandler`'s
    `_get_key` and `_conversations` (stable across PTB 20-22; the pin is in pyproject.toml)."""

    #: How long a front-end that died mid-update keeps the user's turn.
    HOLD = timedelta(seconds=60)
    #: How often a front-end waiting for a user's turn looks again.
    POLL = 0.02

    def __init__(self, db: Database, application: Application[Any, Any, Any, Any, Any, Any]):
        self._db = db
        self._app = application
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def _handlers(self) -> list[ConversationHandler[Any]]:
        return [
            handler
            for group in self._app.handlers.values()
            for handler in group
            if isinstance(handler, ConversationHandler) and handler.persistent and handler.name
        ]

    async def before(self, update: object) -> None:
        """Wait for the user's turn (another front-end may be handling their previous
        update), then load their conversation states as it left them."""
        if not isinstance(update, Update) or update.effective_user is None:
            return
        user_id = update.effective_user.id
        deadline = time.monotonic() + self.HOLD.total_seconds()
        while not await self._db.run(
            partial(turns.take, user_id=user_id, owner=self.owner, now=utc_now(), hold=self.HOLD)
        ):
            if time.monotonic() > deadline:
                break  # its holder died: the turn expires on the next try
            await asyncio.sleep(self.POLL)
        keys: dict[str, ConversationKey] = {}
        handlers = self._handlers()
        for handler in handlers:
            try:
                keys[str(handler.name)] = handler._get_key(update)
            except RuntimeError:
                continue  # this handler doesn't track updates like this one
        stored = await self._db.run(
            lambda s: conversations.load_keys(
                s, {name: json.dumps(list(key)) for name, key in keys.items()}
            )
        )
        for handler in handlers:
            key = keys.get(str(handler.name))
            if key is None:
                continue
            states = handler._conversations
            if isinstance(states.get(key), PendingState):
                continue  # a step of this very process is still running: it knows better
            state = stored.get(str(handler.name))
            if state is None:
                states.data.pop(key, None)  # type: ignore[attr-defined]
            else:
                states.update_no_track({key: state})  # type: ignore[attr-defined]

    async def after(self, update: object) -> None:
        """Write the states this update changed now, not at the next interval; then give
        the user's turn back."""
        await self._app.update_persistence()
        if isinstance(update, Update) and update.effective_user is not None:
            user_id = update.effective_user.id
            await self._db.run(partial(turns.give_back, user_id=user_id, owner=self.owner))
