"""The compose conversation: content -> accounts -> time -> preview -> confirm.

The draft (text, media, chosen accounts and time) is a row from the first message on, and
the conversation state is persisted, so a restart resumes where the user was. This module
only declares the state graph (drawn in conversation.mmd beside it); each step's handlers
live in bot/handlers/compose/<step>.py, and the states it shares with editing a scheduled
post, resuming a draft and using a template in handlers/edit/ and handlers/posts/. It sits
directly in handlers/, above those sub-rooms, because it wires all of them.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.handlers import post_options  # issue 17: URL buttons, Telegram options
from bot.handlers.compose import (
    alt,
    calendar,
    common,
    content,
    preview,
    queue,
    repeat,
    switch,  # issue 6: drafts
    targets,
)
from bot.handlers.compose import time as timing
from bot.handlers.compose.common import (
    ALT_TEXT,
    BUTTONS,
    COMPOSING,
    CONTENT,
    EDIT_ACCOUNTS,
    EDIT_BUTTONS,
    EDIT_MEDIA,
    EDIT_OPTIONS,
    EDIT_OVERRIDE,
    EDIT_POST_TEXT,
    EDIT_TEXT,
    EDIT_TIME,
    EDITING,
    FORWARDED,
    OPTIONS,
    OVERRIDE_TEXT,
    PICK_ACCOUNTS,
    PICK_TIME,
    PREVIEW,
    REPEAT,
    REPEAT_COUNT,
    REPEAT_RULE,
    REPEAT_UNTIL,
    TEMPLATE_NAME,
)
from bot.handlers.edit import menu as editor  # issue 6: editing a scheduled post
from bot.handlers.edit import steps as editor_steps  # issue 6: editing
from bot.handlers.posts import (
    drafts,
    templates,  # issue 6: drafts, templates
)
from bot.ui.chat import ID


def build() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    # issue 6: editing a scheduled post. Every edit step can be left the same ways, and the
    # compose flow's own buttons are refused there instead of ending the edit.
    leave_edit: list[BaseHandler[Update, Any, Any]] = [
        CallbackQueryHandler(editor.discard, pattern=r"^e:discard$"),
        CommandHandler("abort", editor.discard),
        CallbackQueryHandler(editor.stray, pattern=r"^c:"),
    ]
    return ConversationHandler(
        entry_points=[
            CommandHandler("new", content.new, filters=filters.ChatType.PRIVATE),
            MessageHandler(CONTENT, content.first_content),
            # issue 6: drafts, templates, duplicates (the same buttons work mid-compose, below)
            CallbackQueryHandler(drafts.resume, pattern=rf"^d:resume:{ID}$"),
            CallbackQueryHandler(templates.use, pattern=rf"^t:use:{ID}$"),
            CallbackQueryHandler(templates.save_from_post, pattern=rf"^t:save:{ID}$"),
            CallbackQueryHandler(drafts.duplicate, pattern=rf"^p:dup:{ID}$"),
            CallbackQueryHandler(editor.start, pattern=rf"^p:edit:{ID}$"),  # issue 6: editing
            CommandHandler("edit", editor.start, filters=filters.ChatType.PRIVATE),  # issue 6
        ],
        states={
            COMPOSING: [
                MessageHandler(CONTENT, content.add_content),
                CallbackQueryHandler(content.done, pattern=r"^c:done$"),
                CallbackQueryHandler(alt.alt_start, pattern=r"^c:alt:s$"),
                CallbackQueryHandler(content.each, pattern=r"^c:each$"),
            ],
            PICK_ACCOUNTS: [
                CallbackQueryHandler(targets.toggle, pattern=rf"^c:(acc:{ID}|all)$"),
                CallbackQueryHandler(targets.accounts_next, pattern=r"^c:next$"),
                CommandHandler("new", switch.ask_new(PICK_ACCOUNTS)),  # issue 6: drafts
                MessageHandler(CONTENT, switch.interrupt(PICK_ACCOUNTS)),  # issue 6: drafts
            ],
            PICK_TIME: [
                CallbackQueryHandler(timing.time_button, pattern=r"^c:t:(now|1h|tom9)$"),
                CallbackQueryHandler(calendar.open_calendar, pattern=r"^c:t:cal$"),  # issue 6
                CallbackQueryHandler(calendar.tap, pattern=r"^cal:"),  # issue 6: calendar
                CallbackQueryHandler(timing.back, pattern=r"^c:t:back$"),  # issue 6
                CallbackQueryHandler(timing.dst_choice, pattern=timing.DST_PATTERN),  # issue 6
                CallbackQueryHandler(timing.add_to_queue, pattern=r"^c:t:q$"),  # issue 6: slots
                CallbackQueryHandler(preview.change_accounts, pattern=r"^c:chacc$"),
                CommandHandler("new", switch.ask_new(PICK_TIME)),  # issue 6: drafts
                MessageHandler(FORWARDED, switch.interrupt(PICK_TIME)),  # issue 6: not a time
                MessageHandler(text, timing.typed_time),
                MessageHandler(CONTENT, switch.interrupt(PICK_TIME)),  # issue 6: drafts
            ],
            PREVIEW: [
                CallbackQueryHandler(preview.confirm, pattern=r"^c:confirm$"),
                CallbackQueryHandler(queue.confirm, pattern=r"^c:confirm:q$"),  # issue 6: slots
                CallbackQueryHandler(preview.change_time, pattern=r"^c:chtime$"),
                CallbackQueryHandler(preview.change_accounts, pattern=r"^c:chacc$"),
                CallbackQueryHandler(preview.edit_text, pattern=r"^c:edit$"),
                CallbackQueryHandler(alt.alt_start, pattern=r"^c:alt:p$"),
                CallbackQueryHandler(repeat.open_menu, pattern=r"^c:rep$"),
                CallbackQueryHandler(templates.save_from_preview, pattern=r"^c:tsave$"),  # issue 6
                CallbackQueryHandler(preview.customize, pattern=rf"^c:ovr:{ID}$"),  # issue 6
                CallbackQueryHandler(preview.split, pattern=rf"^c:split:{ID}$"),  # issue 6: threads
                CallbackQueryHandler(post_options.ask_buttons, pattern=r"^c:btn$"),  # issue 17
                CallbackQueryHandler(post_options.open_options, pattern=r"^c:opt$"),  # issue 17
                CallbackQueryHandler(post_options.album_choice, pattern=r"^c:albm:(message|drop)$"),
                CommandHandler("new", switch.ask_new(PREVIEW)),  # issue 6: drafts
                MessageHandler(CONTENT, switch.interrupt(PREVIEW)),  # issue 6: drafts
            ],
            REPEAT: [
                CallbackQueryHandler(
                    repeat.kind_button,
                    pattern=r"^c:rep:(none|daily|weekdays|weekly|monthly|lastday)$",
                ),
                CallbackQueryHandler(repeat.day_button, pattern=r"^c:rep:d:[0-6]$"),
                CallbackQueryHandler(repeat.no_end, pattern=r"^c:rep:end:never$"),
                CallbackQueryHandler(repeat.ask, pattern=r"^c:rep:(custom|end:count|end:until)$"),
                CallbackQueryHandler(repeat.done, pattern=r"^c:rep:done$"),
                MessageHandler(CONTENT, common.nudge),
            ],
            REPEAT_RULE: [
                MessageHandler(text, repeat.typed_rule),
                CallbackQueryHandler(repeat.back, pattern=r"^c:rep:menu$"),
                MessageHandler(CONTENT, common.nudge),
            ],
            REPEAT_COUNT: [
                MessageHandler(text, repeat.typed_count),
                CallbackQueryHandler(repeat.back, pattern=r"^c:rep:menu$"),
                MessageHandler(CONTENT, common.nudge),
            ],
            REPEAT_UNTIL: [
                MessageHandler(text, repeat.typed_until),
                CallbackQueryHandler(repeat.back, pattern=r"^c:rep:menu$"),
                MessageHandler(CONTENT, common.nudge),
            ],
            BUTTONS: [  # issue 17: the post's URL buttons (handlers/post_options.py)
                MessageHandler(text, post_options.buttons_typed),
                CallbackQueryHandler(post_options.remove_buttons, pattern=r"^c:btn:rm$"),
                CallbackQueryHandler(post_options.back, pattern=r"^c:opt:back$"),
                MessageHandler(CONTENT, post_options.nudge),
            ],
            OPTIONS: [  # issue 17: the post's Telegram options
                CallbackQueryHandler(
                    post_options.option_button, pattern=post_options.OPTION_PATTERN
                ),
                CallbackQueryHandler(post_options.back, pattern=r"^c:opt:back$"),
                MessageHandler(text, post_options.delete_time_typed),
                MessageHandler(CONTENT, post_options.nudge),
            ],
            EDIT_TEXT: [
                MessageHandler(text, preview.new_text),
                MessageHandler(CONTENT, common.nudge),
            ],
            ALT_TEXT: [
                MessageHandler(text, alt.alt_typed),
                CallbackQueryHandler(alt.alt_skip, pattern=r"^c:alt:skip$"),
                CallbackQueryHandler(alt.alt_finish, pattern=r"^c:alt:done$"),
                MessageHandler(CONTENT, common.nudge),
            ],
            OVERRIDE_TEXT: [  # issue 6: one account's own text (compose/preview.py)
                MessageHandler(text, preview.override_typed),
                CallbackQueryHandler(preview.override_clear, pattern=rf"^c:ovr_clear:{ID}$"),
                CallbackQueryHandler(preview.override_back, pattern=r"^c:ovr_back$"),
                MessageHandler(CONTENT, common.nudge),
            ],
            EDITING: [  # issue 6: the edit menu (handlers/edit.py)
                CallbackQueryHandler(editor.save_button, pattern=r"^e:save$"),
                CallbackQueryHandler(editor.ask_text, pattern=r"^e:text$"),
                CallbackQueryHandler(editor_steps.ask_media, pattern=r"^e:media$"),
                CallbackQueryHandler(editor_steps.ask_time, pattern=r"^e:time$"),
                CallbackQueryHandler(editor_steps.ask_accounts, pattern=r"^e:acc$"),
                CallbackQueryHandler(editor_steps.ask_override, pattern=rf"^e:ovr:{ID}$"),
                CallbackQueryHandler(editor_steps.split, pattern=rf"^e:split:{ID}$"),
                CallbackQueryHandler(editor.back, pattern=r"^e:back$"),
                CallbackQueryHandler(post_options.ask_buttons, pattern=r"^e:btn$"),  # issue 17
                CallbackQueryHandler(post_options.open_options, pattern=r"^e:opt$"),  # issue 17
                CallbackQueryHandler(post_options.album_choice, pattern=r"^e:albm:(message|drop)$"),
                *leave_edit,
                MessageHandler(CONTENT, editor.nudge),
            ],
            EDIT_BUTTONS: [  # issue 17: the edited post's URL buttons
                MessageHandler(text, post_options.edit_buttons_typed),
                CallbackQueryHandler(post_options.remove_buttons, pattern=r"^e:btn:rm$"),
                CallbackQueryHandler(post_options.back, pattern=r"^e:opt:back$"),
                *leave_edit,
                MessageHandler(CONTENT, editor.nudge),
            ],
            EDIT_OPTIONS: [  # issue 17: the edited post's Telegram options
                CallbackQueryHandler(
                    post_options.option_button, pattern=post_options.EDIT_OPTION_PATTERN
                ),
                CallbackQueryHandler(post_options.back, pattern=r"^e:opt:back$"),
                MessageHandler(text, post_options.edit_delete_time_typed),
                *leave_edit,
                MessageHandler(CONTENT, editor.nudge),
            ],
            EDIT_POST_TEXT: [
                MessageHandler(text, editor.new_text),
                CallbackQueryHandler(editor.back, pattern=r"^e:back$"),
                *leave_edit,
                MessageHandler(CONTENT, editor.nudge),
            ],
            EDIT_MEDIA: [
                MessageHandler(CONTENT & ~filters.TEXT, editor_steps.media_received),
                CallbackQueryHandler(editor_steps.remove_media, pattern=r"^e:media_rm$"),
                CallbackQueryHandler(editor.back, pattern=r"^e:back$"),
                *leave_edit,
                MessageHandler(CONTENT, editor.nudge),
            ],
            EDIT_TIME: [
                CallbackQueryHandler(editor_steps.time_button, pattern=r"^e:at:(now|\d{1,12})$"),
                CallbackQueryHandler(editor.back, pattern=r"^e:back$"),
                MessageHandler(text, editor_steps.typed_time),
                *leave_edit,
                MessageHandler(CONTENT, editor.nudge),
            ],
            EDIT_ACCOUNTS: [
                CallbackQueryHandler(editor_steps.toggle, pattern=rf"^e:acc:{ID}$"),
                CallbackQueryHandler(editor.back, pattern=r"^e:back$"),
                *leave_edit,
                MessageHandler(CONTENT, editor.nudge),
            ],
            EDIT_OVERRIDE: [
                MessageHandler(text, editor_steps.override_typed),
                CallbackQueryHandler(editor_steps.override_clear, pattern=rf"^e:ovr_clear:{ID}$"),
                CallbackQueryHandler(editor.back, pattern=r"^e:back$"),
                *leave_edit,
                MessageHandler(CONTENT, editor.nudge),
            ],
            TEMPLATE_NAME: [  # issue 6: templates
                MessageHandler(text, templates.name_typed),
                CallbackQueryHandler(templates.name_skip, pattern=r"^t:noname$"),
                MessageHandler(CONTENT, templates.name_nudge),
            ],
        },
        fallbacks=[
            CommandHandler("abort", common.abort),
            CallbackQueryHandler(common.abort, pattern=r"^c:cancel$"),
            CallbackQueryHandler(drafts.keep, pattern=r"^c:keep$"),  # issue 6: drafts
            # /new from any step asks first: continue the post, or start one (the other stays
            # in /drafts). (allow_reentry would let the catch-all content entry point swallow
            # every typed time and text edit.)
            CommandHandler("new", switch.ask_new(COMPOSING), filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(switch.continue_draft, pattern=r"^c:cont:\d+$"),  # issue 6
            CallbackQueryHandler(switch.add_waiting, pattern=r"^c:add:\d+$"),  # issue 6
            CallbackQueryHandler(switch.fresh, pattern=r"^c:fresh:[01]$"),  # issue 6
            CallbackQueryHandler(drafts.resume, pattern=rf"^d:resume:{ID}$"),  # issue 6
            CallbackQueryHandler(templates.use, pattern=rf"^t:use:{ID}$"),  # issue 6
            CallbackQueryHandler(drafts.duplicate, pattern=rf"^p:dup:{ID}$"),  # issue 6
            CallbackQueryHandler(templates.busy, pattern=rf"^t:save:{ID}$"),  # issue 6
            CallbackQueryHandler(editor.start, pattern=rf"^p:edit:{ID}$"),  # issue 6: editing
            CommandHandler("edit", editor.start, filters=filters.ChatType.PRIVATE),  # issue 6
        ],
        name="compose",
        persistent=True,
    )


def install(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(build())
