"""Admin commands: /stats, /users, /ban, /unban, /promote, /demote, /apiaccess, /allow,
/invite, /audit (and /broadcast, in broadcast.py). Every one checks the caller's role on every
call; every change is written to the audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from telegram import BotCommand, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.admin import access, stats
from bot.handlers.admin import broadcast as admin_broadcast
from bot.handlers.admin.guard import admin_only, hide_admin_menu, show_admin_menu
from bot.schedule.parse import distance, format_short
from bot.services import CustomContext, Services
from bot.ui.chat import ID, MAX_USER_ID, edit, parse_id, reply
from storage import admin as admin_repo
from storage.models import User, UserStatus

#: Users per /users page.
PAGE_SIZE = 10
#: Longest search text kept (it travels in the page buttons' callback data, max 64 bytes).
MAX_QUERY_BYTES = 40
#: Audit rows /audit shows.
AUDIT_ROWS = 20
_MENU_KEY = "admin_menu"


# -- /stats -----------------------------------------------------------------------------------


@admin_only("stats")
async def stats_command(update: Update, context: CustomContext, admin: User) -> None:
    """`/stats` for the instance, `/stats <id or @username>` for one user."""
    services = context.services
    subject: User | None = None
    if context.args:
        try:
            subject = await access.find_user(services, context.args[0])
        except access.AdminActionError as exc:
            await reply(update, escape(str(exc)))
            return
        await access.audit(services, admin.id, "stats.view", f"user:{subject.id}")
    now = services.now()
    uid = subject.id if subject else None
    figures = await services.db.run(lambda s: stats.gather(s, now, uid))
    await reply(
        update,
        stats.render(
            figures,
            now=now,
            tz=admin.timezone,
            platform_names=services.platform_names,
            user=subject,
        ),
    )


# -- /users -----------------------------------------------------------------------------------


def _clip_query(text: str) -> str:
    raw = text.strip().replace(":", " ")[:MAX_QUERY_BYTES]
    while len(raw.encode()) > MAX_QUERY_BYTES:
        raw = raw[:-1]
    return raw


def _user_line(user: User, waiting: int, services: Services) -> str:
    handle = f" @{escape(user.username)}" if user.username else ""
    flags = []
    if access.is_admin(user, services.settings):
        flags.append("👑 admin")
    if user.status == UserStatus.BANNED:
        flags.append("🚫 banned")
    elif user.status == UserStatus.BLOCKED:
        flags.append("blocked the bot")
    if not user.api_enabled:
        flags.append("🔌 API off")
    if waiting:
        flags.append(f"{waiting:,} waiting")
    seen = distance(user.last_seen_at - services.now())
    tail = " · ".join([f"seen {seen}", *flags])
    return f"• <b>{escape(user.first_name) or '—'}</b>{handle} · <code>{user.id}</code> · {tail}"


async def _users_page(
    services: Services, admin: User, query: str, number: int
) -> tuple[str, list[list[tuple[str, str]]]]:
    found, total = await services.db.run(
        lambda s: admin_repo.search_users(s, query, offset=number * PAGE_SIZE, limit=PAGE_SIZE)
    )
    pages = max(1, -(-total // PAGE_SIZE))
    if not found and number > 0:
        number = pages - 1
        found, total = await services.db.run(
            lambda s: admin_repo.search_users(s, query, offset=number * PAGE_SIZE, limit=PAGE_SIZE)
        )
    about = f" matching “{escape(query)}”" if query else ""
    if not found:
        return f"👥 No users{about}.", []
    ids = [u.id for u in found]
    waiting = await services.db.run(lambda s: admin_repo.waiting_counts(s, ids))
    lines = [_user_line(u, waiting.get(u.id, 0), services) for u in found]
    head = f"👥 <b>Users</b>{about}: {total:,} · page {number + 1}/{pages}"
    hint = "\n\n/stats <i>id</i> · /ban <i>id</i> · /unban <i>id</i> · /promote <i>id</i>"
    nav = []
    if number > 0:
        nav.append(("◀", f"au:{number - 1}:{query}"))
    if number + 1 < pages:
        nav.append(("▶", f"au:{number + 1}:{query}"))
    return head + "\n\n" + "\n".join(lines) + hint, [nav]


@admin_only("users")
async def users_command(update: Update, context: CustomContext, admin: User) -> None:
    """`/users [text]`: everyone, or those whose name, @username or id matches."""
    query = _clip_query(" ".join(context.args or []))
    text, rows = await _users_page(context.services, admin, query, 0)
    await reply(update, text, rows)


@admin_only("users")
async def users_page_button(update: Update, context: CustomContext, admin: User) -> None:
    query = update.callback_query
    assert query is not None
    _, raw_page, search = (query.data or "").split(":", 2)
    await query.answer()
    page = parse_id(raw_page, smallest=0) or 0  # a forged page past the last shows the last
    text, rows = await _users_page(context.services, admin, _clip_query(search), page)
    await edit(query, text, rows)


# -- bans and roles ---------------------------------------------------------------------------


async def _subject(update: Update, context: CustomContext, usage: str) -> User | None:
    """The user named in the command's argument, or None after telling the admin why not."""
    if not context.args:
        await reply(update, f"Tell me who: <code>{usage}</code>. /users finds ids.")
        return None
    try:
        return await access.find_user(context.services, context.args[0])
    except access.AdminActionError as exc:
        await reply(update, escape(str(exc)))
        return None


def _name(user: User) -> str:
    return f"{escape(user.first_name)} (<code>{user.id}</code>)"


@admin_only("ban")
async def ban_command(update: Update, context: CustomContext, admin: User) -> None:
    subject = await _subject(update, context, "/ban 12345")
    if subject is None:
        return
    try:
        reason = " ".join((context.args or [])[1:])
        held = await access.set_banned(context.services, admin, subject, True, reason)
    except access.AdminActionError as exc:
        await reply(update, escape(str(exc)))
        return
    posts = f" {held:,} of their posts are on hold." if held else ""
    await reply(
        update,
        f"🚫 Banned {_name(subject)}.{posts} They are told once, the next time they write. "
        f"/unban {subject.id} lifts it.",
    )


@admin_only("unban")
async def unban_command(update: Update, context: CustomContext, admin: User) -> None:
    subject = await _subject(update, context, "/unban 12345")
    if subject is None:
        return
    try:
        released = await access.set_banned(context.services, admin, subject, banned=False)
    except access.AdminActionError as exc:
        await reply(update, escape(str(exc)))
        return
    posts = f" {released:,} held posts are going out now." if released else ""
    await reply(update, f"✅ Lifted the ban on {_name(subject)}.{posts}")


async def _set_role(update: Update, context: CustomContext, admin: User, make: bool) -> None:
    subject = await _subject(update, context, "/promote 12345" if make else "/demote 12345")
    if subject is None:
        return
    services = context.services
    try:
        await access.set_admin(services, admin, subject, admin=make)
    except access.AdminActionError as exc:
        await reply(update, escape(str(exc)))
        return
    if make:
        await show_admin_menu(context.bot, subject.chat_id, _everyone(services))
        await reply(update, f"👑 {_name(subject)} is an admin now.")
    else:
        await hide_admin_menu(context.bot, subject.chat_id)
        await reply(update, f"{_name(subject)} is no longer an admin.")


@admin_only("promote")
async def promote_command(update: Update, context: CustomContext, admin: User) -> None:
    await _set_role(update, context, admin, make=True)


@admin_only("demote")
async def demote_command(update: Update, context: CustomContext, admin: User) -> None:
    await _set_role(update, context, admin, make=False)


@admin_only("apiaccess")
async def api_access_command(update: Update, context: CustomContext, admin: User) -> None:
    """`/apiaccess <id or @username> on|off`: allow or stop a user's REST API and MCP use."""
    args = context.args or []
    if len(args) != 2 or args[1].lower() not in ("on", "off"):
        await reply(
            update,
            "Say whose and which way: <code>/apiaccess 12345 off</code> or "
            "<code>/apiaccess 12345 on</code>. /users finds ids.",
        )
        return
    subject = await _subject(update, context, "/apiaccess 12345 off")
    if subject is None:
        return
    enabled = args[1].lower() == "on"
    try:
        await access.set_api_access(context.services, admin, subject, enabled)
    except access.AdminActionError as exc:
        await reply(update, escape(str(exc)))
        return
    if enabled:
        await reply(update, f"🔌 {_name(subject)} can use the API again with their tokens.")
    else:
        await reply(
            update,
            f"🔌 API access of {_name(subject)} is off: their tokens are refused from now on. "
            f"<code>/apiaccess {subject.id} on</code> turns it back on.",
        )


# -- allow-list and invites ---------------------------------------------------------------------


@admin_only("allow")
async def allow_command(update: Update, context: CustomContext, admin: User) -> None:
    """`/allow <Telegram id>`: let someone in before they ever wrote."""
    args = context.args or []
    uid = parse_id(args[0], largest=MAX_USER_ID) if args else None
    if uid is None:
        await reply(
            update,
            "Tell me their numeric Telegram id: <code>/allow 12345</code>. A refused person "
            "is shown their id, or send them an invite link from /invite.",
        )
        return
    services = context.services
    added = await access.allow_user(services, admin, uid)
    note = ""
    if services.settings.access != "allowlist":
        note = " (Access is open right now, so everyone can use Crier anyway.)"
    state = "can use Crier now" if added else "was already let in"
    await reply(update, f"✅ <code>{uid}</code> {state}.{note}")


@admin_only("invite")
async def invite_command(update: Update, context: CustomContext, admin: User) -> None:
    """`/invite [uses]`: an invite link for one person, or for `uses` people."""
    args = context.args or []
    uses = parse_id(args[0], largest=1000) if args else 1
    if uses is None:
        await reply(update, "Uses must be a number from 1 to 1000: <code>/invite 5</code>.")
        return
    services = context.services
    invite = await access.create_invite(services, admin, uses)
    link = f"https://t.me/{context.bot.username}?start={invite.code}"
    people = "1 person" if uses == 1 else f"{uses:,} people"
    days = services.settings.invite_days
    await reply(
        update,
        f"🎟 Invite link for {people}, valid for {days} days:\n{link}\n\n"
        f"(or they send <code>/start {invite.code}</code> to me)",
    )


# -- /audit -------------------------------------------------------------------------------------


@admin_only("audit")
async def audit_command(update: Update, context: CustomContext, admin: User) -> None:
    services = context.services
    rows = await services.db.run(lambda s: admin_repo.recent_audit(s, limit=AUDIT_ROWS))
    if not rows:
        await reply(update, "📜 The audit trail is empty.")
        return
    now = services.now()
    lines = []
    for row in rows:
        when = format_short(row.at, admin.timezone, now, with_zone=True)
        detail = (
            f" {escape(json.dumps(row.detail, ensure_ascii=False))[:120]}" if row.detail else ""
        )
        lines.append(
            f"{when} · <code>{row.actor_id}</code> <b>{escape(row.action)}</b> "
            f"{escape(row.subject or '')}{detail}"
        )
    await reply(
        update, f"📜 <b>Latest admin actions</b> ({escape(admin.timezone)})\n\n" + "\n".join(lines)
    )


# -- wiring -------------------------------------------------------------------------------------


def _everyone(services: Services) -> Sequence[BotCommand]:
    found = services.scratch.get(_MENU_KEY)
    return found if isinstance(found, list) else []


def install(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    admin_broadcast.install(app)
    for name, handler in (
        ("stats", stats_command),
        ("users", users_command),
        ("ban", ban_command),
        ("unban", unban_command),
        ("promote", promote_command),
        ("demote", demote_command),
        ("apiaccess", api_access_command),
        ("allow", allow_command),
        ("invite", invite_command),
        ("audit", audit_command),
    ):
        app.add_handler(CommandHandler(name, handler, filters=private))
    app.add_handler(CallbackQueryHandler(users_page_button, pattern=rf"^au:{ID}:.{{0,40}}$"))


async def start(app: Application, everyone: Sequence[BotCommand]) -> None:  # type: ignore[type-arg]
    """Once the bot is up: resume running broadcasts, give admins their command menu."""
    services: Services = app.bot_data.services
    services.scratch[_MENU_KEY] = list(everyone)
    await admin_broadcast.load_drafts(services)
    await admin_broadcast.start_runner(services)
    ids = set(services.settings.admin_ids) | set(await services.db.run(admin_repo.admin_ids))
    for admin_id in sorted(ids):
        await show_admin_menu(app.bot, admin_id, everyone)


async def stop(app: Application) -> None:  # type: ignore[type-arg]
    services: Services | None = app.bot_data.services
    if services is not None:
        await admin_broadcast.stop_runner(services)
