"""/templates (use or delete one), and 💾 Save as template from the preview or a scheduled post.

Using a template and naming one move the compose conversation, so handlers/conversation.py
wires them into its graph; listing and deleting work at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.compose import drafts, scheduled
from bot.compose import templates as service
from bot.compose.posting import POST_NOT_FOUND, ComposeError
from bot.handlers.compose import content, preview
from bot.handlers.compose.common import COMPOSING, TEMPLATE_NAME
from bot.handlers.posts.drafts import copy_note
from bot.services import CustomContext
from bot.ui import render
from bot.ui.chat import (
    ID,
    Rows,
    callback_id,
    callback_int,
    drop_buttons,
    edit,
    reply,
    user_id,
)
from storage.models import PostStatus, Template

EMPTY = (
    "You have no templates yet. After scheduling a post (or from its preview), tap "
    "💾 <b>Save as template</b> and give it a name; then start new posts from it here."
)
GONE = "That template is gone. /templates shows the ones you have."
NAME_ROWS = [[("↩ Don't save", "t:noname")]]
#: Templates shown per /templates page.
PAGE_SIZE = 8


@dataclass(frozen=True)
class _Saving:
    """What the name being asked for is for (UI state: a restart forgets it)."""

    #: None: the draft being composed; else the scheduled post's id.
    post_id: int | None


def describe(template: Template) -> str:
    parts = [f"<b>{escape(template.name)}</b>"]
    if template.text.strip():
        parts.append(f"«{escape(render.snippet(template.text, 50))}»")
    if template.media_ids:
        n = len(template.media_ids)
        parts.append(f"📎 {n} item{'s' if n != 1 else ''}")
    return " · ".join(parts)


# -- /templates -----------------------------------------------------------------------------


async def templates_command(update: Update, context: CustomContext) -> None:
    """List the user's templates with Use and Delete."""
    text, rows = await _page(context, user_id(update), 0)
    await reply(update, text, rows)


async def templates_page(update: Update, context: CustomContext) -> None:
    """Turn the /templates page in place."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    text, rows = await _page(context, user_id(update), callback_int(query, smallest=0) or 0)
    await edit(query, text, rows)


async def _page(context: CustomContext, uid: int, number: int) -> tuple[str, Rows]:
    found = await service.listing(context.services, uid)
    if not found:
        return EMPTY, []
    pages = -(-len(found) // PAGE_SIZE)
    number = min(number, pages - 1)
    first = number * PAGE_SIZE
    head = f"📄 <b>Your templates</b> ({len(found)})"
    lines = [head + (f" — page {number + 1}/{pages}" if pages > 1 else "")]
    rows: list[list[tuple[str, str]]] = []
    for index, template in enumerate(found[first : first + PAGE_SIZE], start=first + 1):
        lines.append(f"\n<b>{index}.</b> {describe(template)}")
        rows.append(
            [(f"📄 Use {index}", f"t:use:{template.id}"), (f"🗑 {index}", f"t:del:{template.id}")]
        )
    nav = []
    if number > 0:
        nav.append(("◀", f"t:page:{number - 1}"))
    if number + 1 < pages:
        nav.append(("▶", f"t:page:{number + 1}"))
    rows.append(nav)
    return "\n".join(lines), rows


async def delete_ask(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    template_id = callback_int(query)
    found = (
        None
        if template_id is None
        else await service.get(context.services, user_id(update), template_id)
    )
    if found is None:
        await reply(update, GONE)
        return
    await reply(
        update,
        f"Delete the template {describe(found)}? Posts made from it stay as they are.",
        [[("🗑 Yes, delete it", f"t:delyes:{found.id}"), ("Keep it", "t:delno")]],
    )


async def delete_yes(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    template_id = callback_int(query)
    deleted = template_id is not None and await service.delete(
        context.services, user_id(update), template_id
    )
    await edit(query, "🗑 Template deleted. /templates shows the rest." if deleted else GONE)


async def delete_no(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await edit(query, "👍 Kept. /templates shows your templates.")


# -- in the compose conversation ------------------------------------------------------------


async def use(update: Update, context: CustomContext) -> int | None:
    """Start a new draft from the template and show it at the content step."""
    query = update.callback_query
    assert query is not None
    uid = user_id(update)
    services = context.services
    template_id = callback_int(query)
    previous = await drafts.in_progress(services, uid)
    try:
        if template_id is None:
            raise ComposeError(GONE)
        template, copied = await service.use(services, uid, template_id)
    except ComposeError as exc:
        await query.answer(str(exc), show_alert=True)
        return None
    await query.answer()
    head = f"📄 <b>A post from “{escape(template.name)}”</b>"
    await reply(update, copy_note(head, copied, previous) + "\nChange it or tap Done.")
    assert update.effective_chat is not None
    await content.show_status(context, update.effective_chat.id, uid)
    return COMPOSING


async def save_from_post(update: Update, context: CustomContext) -> int:
    """💾 on a scheduled post: ask for the template's name."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    named = callback_id(query)
    post = None
    if named.value is not None:
        post = await scheduled.get_post(context.services, user_id(update), named.value)
    if post is None or post.status == PostStatus.DRAFT:  # said now, not after the name
        await reply(update, POST_NOT_FOUND.format(id=named.shown))
        return ConversationHandler.END
    return await _ask_name(update, context, _Saving(post.id))


async def save_from_preview(update: Update, context: CustomContext) -> int:
    """💾 in the preview: ask for the template's name, then come back to the preview."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await drop_buttons(query)
    return await _ask_name(update, context, _Saving(None))


async def _ask_name(update: Update, context: CustomContext, saving: _Saving) -> int:
    context.services.scratch[f"template-name:{user_id(update)}"] = saving
    await reply(
        update,
        "💾 <b>Name the template</b>, e.g. <i>Weekly digest</i>. It keeps the text, "
        "formatting, media and accounts; /templates starts new posts from it.",
        NAME_ROWS,
    )
    return TEMPLATE_NAME


async def name_typed(update: Update, context: CustomContext) -> int:
    """Save under the typed name; a taken or bad name is asked again."""
    uid = user_id(update)
    services = context.services
    saving = services.scratch.get(f"template-name:{uid}")
    if not isinstance(saving, _Saving):
        await reply(
            update,
            "I lost track of what to save (I restarted meanwhile). Tap 💾 Save as template again.",
        )
        return await _back(update, context, None)
    name = update.effective_message.text or ""  # type: ignore[union-attr]
    try:
        if saving.post_id is None:
            template = await service.save_draft(services, uid, name)
        else:
            template = await service.save_post(services, uid, saving.post_id, name)
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}", NAME_ROWS)
        return TEMPLATE_NAME
    services.scratch.pop(f"template-name:{uid}", None)
    await reply(
        update,
        f"💾 Saved the template <b>{escape(template.name)}</b>. /templates starts a post from it.",
    )
    return await _back(update, context, saving)


async def name_skip(update: Update, context: CustomContext) -> int:
    """Don't save after all."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    saving = context.services.scratch.pop(f"template-name:{user_id(update)}", None)
    await edit(query, "Not saved as a template.")
    return await _back(update, context, saving if isinstance(saving, _Saving) else None)


async def name_nudge(update: Update, context: CustomContext) -> None:
    await reply(update, "Send the template's name as text, or tap ↩ Don't save.", NAME_ROWS)


async def _back(update: Update, context: CustomContext, saving: _Saving | None) -> int:
    """Back to the preview when saving from it; else the conversation is over."""
    if saving is not None and saving.post_id is None:
        return await preview.show_preview(update, context, fresh=True)
    return ConversationHandler.END


async def busy(update: Update, context: CustomContext) -> None:
    """💾 on a scheduled post while composing another: finish or keep that one first."""
    query = update.callback_query
    assert query is not None
    await query.answer(
        "You're composing a post: finish it, or tap 💾 Keep as draft, then save this one.",
        show_alert=True,
    )


def install(app: Application) -> None:  # type: ignore[type-arg]
    """The handlers outside the compose conversation (handlers/conversation.py wires the rest)."""
    app.add_handler(
        CommandHandler("templates", templates_command, filters=filters.ChatType.PRIVATE)
    )
    app.add_handler(CallbackQueryHandler(templates_page, pattern=r"^t:page:\d+$"))
    app.add_handler(CallbackQueryHandler(delete_ask, pattern=rf"^t:del:{ID}$"))
    app.add_handler(CallbackQueryHandler(delete_yes, pattern=rf"^t:delyes:{ID}$"))
    app.add_handler(CallbackQueryHandler(delete_no, pattern=r"^t:delno$"))
