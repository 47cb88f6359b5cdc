"""/status, /history, /retry and the Mark as published button: the truth about every attempt."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.accounts import users
from bot.compose import posting, scheduled
from bot.schedule.localtime import zone, zone_label
from bot.schedule.parse import format_short
from bot.services import CustomContext
from bot.ui import render
from bot.ui.chat import ID, IdArgument, callback_id, command_id, reply, user_id
from storage import history
from storage.models import Attempt, Target

#: Occurrences of a repeating post /status lists (the latest ones).
SHOWN_OCCURRENCES = 3
#: Attempts listed per account and occurrence (the latest ones).
MAX_ATTEMPT_LINES = 6
NOT_FOUND = posting.POST_NOT_FOUND
OUTCOMES = {
    "published": "✅ published",
    "transient": "⚠️ failed for now",
    "rate_limited": "⏳ rate limited",
    "auth": "🔑 refused the credentials",
    "permanent": "❌ refused the post",
    "ambiguous": "❓ no clear answer",
    "abandoned": "❓ the worker stopped midway",
    "found": "🔎 found out on the platform",
    "not_out": "🔎 not out: publishing again",
    "cant_tell": "🔎 the platform can't tell",
    "check_failed": "🔎 couldn't ask the platform",
}


def _post_id(update: Update, context: CustomContext) -> IdArgument | None:
    """The post a button or the command's argument names; None when the command has none."""
    if update.callback_query is not None:
        return callback_id(update.callback_query)
    return command_id(context.args)


async def status(update: Update, context: CustomContext) -> None:
    """Every attempt of a post, per account: when, how long, the outcome and the reason."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    named = _post_id(update, context)
    if named is None:
        await reply(update, "Tell me which post: <code>/status 12</code>.")
        return
    post_id = named.value
    services = context.services
    uid = user_id(update)
    found = None
    if post_id is not None:
        found = await services.db.run(lambda s: history.attempts_for_post(s, uid, post_id))
    if found is None or post_id is None:
        await reply(update, NOT_FOUND.format(id=named.shown))
        return
    user = await users.get_user(services, uid)
    tz = user.timezone if user else services.settings.default_timezone
    now = services.now()
    names = services.platform_names
    lines = [f"📋 <b>Post #{post_id}</b> ({escape(tz)})", ""]
    # A long series would pass Telegram's 4,096 characters: show its latest occurrences.
    occurrences = sorted({t.occurrence for t, _ in found})
    shown = set(occurrences[-SHOWN_OCCURRENCES:])
    if len(occurrences) > len(shown):
        lines += [f"Showing the last {len(shown)} of {len(occurrences)} repeats.", ""]
    for target, attempts in found:
        if target.occurrence not in shown:
            continue
        lines.append(render.target_line(target, names))
        when = format_short(target.publish_at, tz, now, with_zone=True)
        lines.append(f"    🕒 scheduled {escape(when)}")
        lines.extend(_attempt_line(a, tz, now) for a in attempts[-MAX_ATTEMPT_LINES:])
        if len(attempts) > MAX_ATTEMPT_LINES:
            lines.append(f"    … and {len(attempts) - MAX_ATTEMPT_LINES} earlier attempts")
        if not attempts:
            lines.append("    no attempt yet")
    text = "\n".join(lines)
    if len(text) > 4000:
        text = text[:3990].rsplit("\n", 1)[0] + "\n…"
    await reply(update, text, _buttons(post_id, [t for t, _ in found]))


def _attempt_line(attempt: Attempt, tz: str, now: object) -> str:
    when = format_short(attempt.started_at, tz, now)  # type: ignore[arg-type]
    local = attempt.started_at.astimezone(zone(tz))
    stamp = f"{when}{local.strftime(':%S')} {zone_label(local)}"
    outcome = OUTCOMES.get(attempt.outcome, attempt.outcome)
    line = f"    • {escape(stamp)} — {outcome} ({attempt.duration_ms:,} ms)"
    if attempt.error:
        line += f": {escape(attempt.error)}"
    return line


def _buttons(post_id: int, targets: list[Target]) -> list[list[tuple[str, str]]]:
    row = []
    if any(t.status.value in ("failed", "unknown") for t in targets):
        row.append(("🔁 Retry", f"p:retry:{post_id}"))
    if any(t.status.value == "unknown" for t in targets):
        row.append(("✔ Mark as published", f"p:mark:{post_id}"))
    return [row]


async def history_command(update: Update, context: CustomContext) -> None:
    """The latest outcomes, with links."""
    services = context.services
    uid = user_id(update)
    targets = await services.db.run(lambda s: history.recent_outcomes(s, uid, 10))
    if not targets:
        await reply(update, "Nothing has been published yet. /list shows what is scheduled.")
        return
    user = await users.get_user(services, uid)
    tz = user.timezone if user else services.settings.default_timezone
    now = services.now()
    names = services.platform_names
    lines = ["🗞 <b>Recent outcomes</b>", ""]
    for target in targets:
        when = target.published_at or target.updated_at
        lines.append(
            f"<b>#{target.post_id}</b> · {escape(format_short(when, tz, now, with_zone=True))} · "
            f"{escape(render.snippet(target.post.text, 40))}"
        )
        lines.append("   " + render.target_line(target, names))
    lines += ["", "Details of one post: <code>/status 12</code>."]
    await reply(update, "\n".join(lines))


async def retry_command(update: Update, context: CustomContext) -> None:
    named = _post_id(update, context)
    if named is None:
        await reply(update, "Tell me which post: <code>/retry 12</code>.")
        return
    post_id = named.value
    count = None
    if post_id is not None:
        count = await scheduled.retry(context.services, user_id(update), post_id)
    if count is None:
        await reply(update, NOT_FOUND.format(id=named.shown))
    elif count == 0:
        await reply(update, f"Nothing of post #{post_id} needs a retry.")
    else:
        copies = "copy" if count == 1 else "copies"
        await reply(update, f"🔁 Retrying post #{post_id} ({count} {copies}) now.")


async def mark_published(update: Update, context: CustomContext) -> None:
    """The user checked the platform: the post is there."""
    query = update.callback_query
    assert query is not None
    named = callback_id(query)
    post_id = named.value
    count = (
        await scheduled.mark_published(context.services, user_id(update), post_id)
        if post_id is not None
        else None
    )
    await query.answer()
    if count is None:
        await reply(update, NOT_FOUND.format(id=named.shown))
    elif count == 0:
        await reply(update, f"Post #{post_id} has nothing waiting for your check.")
    else:
        await reply(update, f"✔ Marked post #{post_id} as published. Thanks for checking.")


def install(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("status", status, filters=private))
    app.add_handler(CommandHandler("history", history_command, filters=private))
    app.add_handler(CommandHandler("retry", retry_command, filters=private))
    app.add_handler(CallbackQueryHandler(status, pattern=rf"^p:status:{ID}$"))
    app.add_handler(CallbackQueryHandler(mark_published, pattern=rf"^p:mark:{ID}$"))
