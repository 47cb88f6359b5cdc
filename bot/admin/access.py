"""Who may use the bot, and how much: admin roles, bans, the allow-list and invite codes,
and what a user over their update budget is told. (The caps on what one user may queue are
the compose flow's: bot/compose/posting.py.)

`screen()` runs in the gate before anything else touches an update, so it is cheap when
it can be: open mode needs no database. The budget itself is counted when an update
arrives (bot/handlers/inbound.py); `over_budget()` is what the gate does with one that is over.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ParseMode

from bot.admin.alerts import Alerts
from bot.config import Settings
from bot.services import Services
from storage import admin as admin_repo
from storage import api as api_store
from storage import notices, users
from storage.models import Invite, Role, User, UserStatus


def slow_down(resume_in: float) -> str:
    seconds = max(1, math.ceil(resume_in))
    return (
        f"🐢 You're sending faster than I can keep up; I'll pick up again in {seconds} s. "
        "What you sent meanwhile was skipped (text and media for the post you're writing "
        "are kept)."
    )


BANNED = (
    "🚫 An admin has suspended your access to Crier. Your scheduled posts are on hold and "
    "won't be published while it lasts. If you think this is a mistake, contact the admins."
)
NOT_ALLOWED = "⛔ That is for admins only."
#: A stranger is told about the allow-list at most this often (seconds).
REFUSAL_INTERVAL = 60.0
#: Invite codes: URL-safe, usable as a t.me deep-link start parameter.
INVITE_BYTES = 9


def refusal(user_id: int) -> str:
    return (
        "🔒 This Crier is invite-only. If you have an invite link, open it again; otherwise "
        f"ask an admin to let you in. Your Telegram id is <code>{user_id}</code>."
    )


BAD_INVITE = (
    "🔒 That invite link isn't valid any more: it was used up or has expired. "
    "Ask an admin for a new one."
)


def is_admin(user: User | None, settings: Settings) -> bool:
    return user is not None and (user.role == Role.ADMIN or user.id in settings.admin_ids)


#: A user over their budget is told at most once this often (seconds), and admins hear
#: about them at most once an hour.
WARN_EVERY = 10.0
ALERT_EVERY = timedelta(hours=1)


@dataclass
class _State:
    """Per-process memory of the access checks (never the source of truth)."""

    #: (user, about buttons?) -> when they were last told they're over budget (messages and
    #: buttons have budgets of their own); user -> when admins last heard about them.
    warned_at: dict[tuple[int, bool], float] = field(default_factory=dict)
    alerted_at: dict[int, float] = field(default_factory=dict)
    #: Users known to be let in (allow-list mode); nobody is ever taken off it but by a ban.
    admitted: set[int] = field(default_factory=set)
    #: Stranger -> when they were last told the bot is invite-only (monotonic seconds).
    refused_at: dict[int, float] = field(default_factory=dict)


_KEY = "access"


def _state(services: Services) -> _State:
    state = services.scratch.get(_KEY)
    if not isinstance(state, _State):
        state = services.scratch[_KEY] = _State()
    return state


# -- the gate's check ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Verdict:
    allowed: bool
    #: What to tell the user when refused (None: nothing).
    message: str | None = None


def start_argument(text: str | None) -> str | None:
    """The payload of `/start <payload>` (a deep link), if the text is one."""
    if not text:
        return None
    parts = text.split()
    if len(parts) == 2 and parts[0].split("@")[0] == "/start":
        return parts[1][:64]
    return None


async def screen(services: Services, user_id: int, update: Update) -> Verdict:
    """May this update from this user go on? Applies the allow-list."""
    state = _state(services)
    settings = services.settings
    if settings.access != "allowlist" or user_id in settings.admin_ids:
        return Verdict(allowed=True)
    if user_id in state.admitted:
        return Verdict(allowed=True)
    if await services.db.run(lambda s: admin_repo.is_allowed(s, user_id)):
        state.admitted.add(user_id)
        return Verdict(allowed=True)
    code = start_argument(update.message.text if update.message else None)
    if code is not None:
        if await _redeem(services, code, user_id):
            state.admitted.add(user_id)
            state.refused_at.pop(user_id, None)
            return Verdict(allowed=True)
        return Verdict(allowed=False, message=BAD_INVITE)
    now = time.monotonic()
    if now - state.refused_at.get(user_id, float("-inf")) < REFUSAL_INTERVAL:
        return Verdict(allowed=False)
    if len(state.refused_at) >= MAX_TRACKED:
        state.refused_at = {k: t for k, t in state.refused_at.items() if now - t < REFUSAL_INTERVAL}
    state.refused_at[user_id] = now
    return Verdict(allowed=False, message=refusal(user_id))


#: Users remembered by the in-memory checks before the stale ones are forgotten.
MAX_TRACKED = 10_000


def _prune(times: dict[Any, float], now: float, keep: float) -> None:
    if len(times) >= MAX_TRACKED:
        for key in [k for k, t in times.items() if now - t >= keep]:
            del times[key]


async def over_budget(
    services: Services,
    user_id: int,
    update: Update,
    resume_in: float,
    reporter: Alerts | None,
) -> None:
    """An update over the user's budget is dropped: say so once in a while (a toast on a
    button), and tell the admins once an hour per user."""
    state = _state(services)
    now = time.monotonic()
    key = (user_id, update.callback_query is not None)
    if now - state.warned_at.get(key, float("-inf")) >= WARN_EVERY:
        _prune(state.warned_at, now, WARN_EVERY)
        state.warned_at[key] = now
        await tell(update, slow_down(resume_in))
    elif update.callback_query is not None:
        await update.callback_query.answer()  # no spinner left on the button
    if now - state.alerted_at.get(user_id, float("-inf")) >= ALERT_EVERY.total_seconds():
        _prune(state.alerted_at, now, ALERT_EVERY.total_seconds())
        state.alerted_at[user_id] = now
        if reporter is not None:
            who = update.effective_user
            name = f"{who.full_name} (@{who.username}, id {who.id})" if who else str(user_id)
            name = name.replace(" (@None,", " (")
            await reporter.raise_alert(
                f"flood:{user_id}",
                f"{name} is sending updates faster than the limit "
                f"({services.settings.user_rate_limit} per "
                f"{services.settings.user_rate_window:g} s); the excess is dropped. "
                "Other users are not slowed down. /ban them if it goes on.",
                repeat_every=ALERT_EVERY,
            )


async def tell(update: Update, message: str | None) -> None:
    """Say why an update was refused: a toast on a button, a reply to a message."""
    if update.callback_query is not None:
        plain = re.sub(r"<[^>]+>", "", message or "")
        await update.callback_query.answer(plain[:200] or None)
    elif message and update.effective_chat is not None and update.message is not None:
        await update.effective_chat.send_message(message, parse_mode=ParseMode.HTML)


async def _redeem(services: Services, code: str, user_id: int) -> bool:
    now = services.now()

    async def work(session: AsyncSession) -> bool:
        if not await admin_repo.redeem_invite(session, code, user_id, now):
            return False
        await admin_repo.audit(
            session,
            actor_id=user_id,
            action="invite.redeem",
            subject=f"user:{user_id}",
            detail={"code": code},
            now=now,
        )
        return True

    return await services.db.run(work)


async def ban_notice(services: Services, user_id: int) -> str | None:
    """The suspension notice, the first time a banned user writes after the ban."""
    now = services.now()
    told = await services.db.run(lambda s: admin_repo.claim_status_notice(s, user_id, now))
    return BANNED if told else None


# -- admin role ---------------------------------------------------------------------------------


async def audit(
    services: Services,
    actor_id: int | None,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    now = services.now()
    await services.db.run(
        lambda s: admin_repo.audit(
            s, actor_id=actor_id, action=action, subject=subject, detail=detail, now=now
        )
    )


async def current_admin(services: Services, user_id: int) -> User | None:
    """The user if they are an admin right now (read fresh, never cached)."""
    user = await services.db.run(lambda s: users.get(s, user_id))
    return user if is_admin(user, services.settings) else None


async def authorize(services: Services, user_id: int, action: str) -> User | None:
    """`current_admin`, and a refusal is written to the audit trail."""
    admin = await current_admin(services, user_id)
    if admin is None:
        await audit(services, user_id, "denied", action)
    return admin


class AdminActionError(ValueError):
    """The admin action can't be done; the message says why, for the admin."""


async def find_user(services: Services, ref: str) -> User:
    found = await services.db.run(lambda s: admin_repo.find_user(s, ref))
    if found is None:
        raise AdminActionError(
            f"I don't know the user “{ref[:40]}”. Use their numeric id or @username; "
            "they must have written to the bot once. /users lists them."
        )
    return found


async def set_banned(
    services: Services, actor: User, target: User, banned: bool, reason: str = ""
) -> int:
    """Ban or unban; returns how many of the user's posts (targets) are held or released."""
    if banned and target.id == actor.id:
        raise AdminActionError("You can't ban yourself.")
    if banned and is_admin(target, services.settings):
        raise AdminActionError(f"{target.first_name} is an admin: /demote them first.")
    if banned == (target.status == UserStatus.BANNED):
        raise AdminActionError(
            f"{target.first_name} is {'already' if banned else 'not'} banned; nothing changed."
        )
    now = services.now()

    async def work(session: AsyncSession) -> int:
        held = await admin_repo.set_ban(session, target.id, banned)
        await admin_repo.audit(
            session,
            actor_id=actor.id,
            action="ban" if banned else "unban",
            subject=f"user:{target.id}",
            detail={"waiting_targets": held, **({"reason": reason[:200]} if reason else {})},
            now=now,
        )
        if not banned:
            released = f" Your {held} held post(s) are going out now." if held else ""
            await notices.enqueue(
                session,
                user_id=target.id,
                chat_id=target.chat_id,
                text=f"✅ An admin has restored your access to Crier.{released}",
                now=now,
            )
        return held

    held = await services.db.run(work)
    if not banned:
        services.notifier.wake()
        services.wake_engine(now)
    return held


async def set_admin(services: Services, actor: User, target: User, admin: bool) -> None:
    """Promote or demote. Admins from ADMIN_IDS stay admins; nobody demotes themselves."""
    if not admin and target.id in services.settings.admin_ids:
        raise AdminActionError(
            f"{target.first_name} is an admin from ADMIN_IDS; remove them there instead."
        )
    if not admin and target.id == actor.id:
        raise AdminActionError("You can't demote yourself; ask another admin.")
    if admin and target.status == UserStatus.BANNED:
        raise AdminActionError(f"{target.first_name} is banned: /unban them first.")
    if admin == (target.role == Role.ADMIN):
        raise AdminActionError(
            f"{target.first_name} is {'already' if admin else 'not'} an admin; nothing changed."
        )
    now = services.now()
    role = Role.ADMIN if admin else Role.USER

    async def work(session: AsyncSession) -> None:
        await admin_repo.set_role(session, target.id, role)
        await admin_repo.audit(
            session,
            actor_id=actor.id,
            action="promote" if admin else "demote",
            subject=f"user:{target.id}",
            now=now,
        )

    await services.db.run(work)


async def set_api_access(services: Services, actor: User, target: User, enabled: bool) -> None:
    """Turn a user's REST API and MCP access on or off; their tokens are refused while it is
    off (kept, so turning it back on needs no new tokens)."""
    if enabled == target.api_enabled:
        state = "on" if enabled else "off"
        raise AdminActionError(f"API access of {target.first_name} is already {state}.")
    now = services.now()

    async def work(session: AsyncSession) -> None:
        await api_store.set_api_enabled(session, target.id, enabled)
        await admin_repo.audit(
            session,
            actor_id=actor.id,
            action="api.enable" if enabled else "api.disable",
            subject=f"user:{target.id}",
            detail={},
            now=now,
        )

    await services.db.run(work)
    target.api_enabled = enabled


async def allow_user(services: Services, actor: User, user_id: int) -> bool:
    """Put a Telegram user id on the allow-list; False if they were let in already."""
    now = services.now()

    async def work(session: AsyncSession) -> bool:
        added = await admin_repo.allow(session, user_id, added_by=actor.id)
        await admin_repo.audit(
            session,
            actor_id=actor.id,
            action="allow",
            subject=f"user:{user_id}",
            detail={"new": added},
            now=now,
        )
        return added

    return await services.db.run(work)


async def create_invite(services: Services, actor: User, uses: int) -> Invite:
    now = services.now()
    code = secrets.token_urlsafe(INVITE_BYTES)
    expires = now + timedelta(days=services.settings.invite_days)

    async def work(session: AsyncSession) -> Invite:
        invite = await admin_repo.create_invite(
            session, code=code, created_by=actor.id, uses=uses, expires_at=expires
        )
        await admin_repo.audit(
            session,
            actor_id=actor.id,
            action="invite.create",
            subject=f"invite:{code}",
            detail={"uses": uses, "expires_at": expires.isoformat()},
            now=now,
        )
        return invite

    return await services.db.run(work)


# -- caps for the compose flow -----------------------------------------------------------------
