"""/start and /help (the timezone setting is in settings.py)."""

from __future__ import annotations

from datetime import datetime
from html import escape as _escape

from telegram import BotCommand, Update
from telegram.ext import Application, CommandHandler, filters

from bot.accounts import users
from bot.schedule.parse import zone
from bot.services import CustomContext
from bot.ui.chat import reply, user_id

#: The command menu (setMyCommands); admins get theirs on top (handlers/admin/guard.py).
COMMANDS = [
    BotCommand("new", "Start a post"),
    BotCommand("list", "Your scheduled and recent posts"),
    BotCommand("drafts", "Posts you kept to finish later"),
    BotCommand("templates", "Start a post from a saved template"),
    BotCommand("edit", "Edit a scheduled post: /edit 12"),
    BotCommand("cancel", "Cancel a scheduled post: /cancel 12"),
    BotCommand("status", "Every attempt of a post: /status 12"),
    BotCommand("history", "Recent outcomes with links"),
    BotCommand("retry", "Retry a failed post: /retry 12"),
    BotCommand("accounts", "Your connected accounts"),
    BotCommand("connect", "Connect a channel or account"),
    BotCommand("timezone", "See or change your timezone"),
    BotCommand("settings", "Your timezone and the Undo after Post now"),
    BotCommand("slots", "Weekly queue slots per account"),
    BotCommand("bulk", "Schedule many posts from a CSV file"),
    BotCommand("webhook", "Send post events to your server (signed)"),
    BotCommand("api", "Tokens for the REST API and AI assistants"),
    BotCommand("abort", "Leave what you are doing without saving"),
    BotCommand("help", "What Crier does and how"),
]


HELP = """\
<b>Crier</b> publishes your posts to your channels and accounts at the time you pick, \
and tells you how each one went.

<b>Make a post</b>: just send me text, photos, videos, files or an album (or /new). \
Tap <b>Done</b>, pick accounts, pick a time: a button, or type it, e.g. <i>in 2 hours</i>, \
<i>tomorrow 9am</i>, <i>fri 18:30</i>, <i>2026-12-24 18:00</i>, <i>morgen 9 uhr</i>, \
<i>demain 18h</i>; or tap 📅 <b>Pick a date</b> for a calendar. I echo it back with your \
zone (<i>Thu 24 Dec 18:00 CET — in 32 days</i>); a time the clocks skip or repeat that \
night gets buttons to choose, never a silent shift.

<b>Your timezone</b>: /timezone, then send your city (<i>berlin</i>, <i>portland</i>) or tap \
📍 to share your location.

<b>Queue slots</b>: give each account weekly posting times, e.g. \
<code>/slots Mon-Fri 09:00 17:00</code> (or tap through /slots). Then ➕ <b>Add to queue</b> \
puts a post in the next free slot of each account it goes to.

<b>Repeat it</b>: in the preview tap 🔁 <b>Repeat</b>: daily, weekdays, weekly on the days \
you tick, monthly, or a rule like <code>FREQ=WEEKLY;INTERVAL=2;BYDAY=MO</code>; optionally \
after 10 times or until a day. "Every Monday at 09:00" stays at 09:00 your time, summer and \
winter. /cancel offers only the next one or the whole series.

<b>Forward me a message</b> (with its photos, bold, links, spoilers) and it becomes a post: \
Telegram channels get the formatting as it is, Discord as Markdown, other platforms plain text \
with each link written out, e.g. <i>read the post (https://…)</i>.

<b>Drafts and templates</b>: tap 💾 <b>Keep as draft</b> to finish a post later; /drafts \
lists them (▶ Resume, 🗑 Delete), even after a restart. After scheduling, tap 💾 <b>Save as \
template</b> and name it, e.g. <i>Weekly digest</i>; /templates starts a new post from it. \
In /list, 📄 <b>Duplicate</b> schedules the same post again.

<b>Change a scheduled post</b>: in /list tap ✏️ <b>Edit</b> (or <code>/edit 12</code>) for new \
text, media, time or accounts, then 💾 <b>Save</b>; copies already out stay as they are. In the \
preview, 🎨 <b>Customize for X</b> gives one account its own text, and 🧵 <b>Split into a \
thread</b> turns a text too long for Bluesky (300) or Mastodon (500) into replies numbered \
<i>1/3, 2/3, 3/3</i>.

<b>Once it is out</b>: the message saying so, and the post in /list, carry 🗑 <b>Delete</b> \
(asks first) and ✏️ <b>Edit</b> (new text, checked as when you composed it) where the \
platform allows; Bluesky can't edit, so it offers to delete and post again. In /settings, \
↩ <b>Undo</b> (10, 30 or 60 s) makes ⚡ Post now wait that long with an Undo button.

<b>Many posts at once</b>: send /bulk for an example spreadsheet, fill in one post per row \
(e.g. <code>Hello!,2026-12-24 18:00,Dry run</code>: text, time, accounts), save it as CSV \
and send it to me. You see what is ready and what isn't before anything is scheduled.

/new — start a post
/list — your scheduled and recent posts
/drafts — posts you kept to finish later
/templates — start a post from a saved template
/edit <i>id</i> — change a scheduled post, e.g. /edit 12
/cancel <i>id</i> — cancel a scheduled post, e.g. /cancel 12
/status <i>id</i> — every attempt of a post, with reasons
/history — recent outcomes with links
/retry <i>id</i> — try a failed post again
/accounts — your connected accounts
/connect — connect a Telegram channel
/timezone — see or change your timezone (a city, or your location)
/settings — your timezone and the ↩ Undo after Post now
/slots — weekly queue slots per account
/webhook — signed post events to your server
/bulk — schedule many posts from a CSV file
/api — tokens for the REST API and AI assistants
/abort — leave what you are doing without saving
/help — this message

Every new user has a <b>Dry run</b> account: it goes through every step without posting anywhere."""


def _now_in(tz: str) -> str:
    return datetime.now(zone(tz)).strftime("%H:%M")


async def start(update: Update, context: CustomContext) -> None:
    """Welcome the user and ask for their timezone."""
    user = await users.get_user(context.services, user_id(update))
    assert user is not None
    default = context.services.settings.default_timezone
    await reply(
        update,
        f"👋 Hi {_escape(user.first_name)}! I'm <b>Crier</b>. Send me a post — text, photos, "
        "videos or an album — pick where and when, and I publish it on time and tell you "
        "how it went.\n\n"
        "You already have a <b>Dry run</b> account, so you can try the whole flow right now "
        "without posting anywhere. Connect a Telegram channel with /connect.\n\n"
        f"🕒 I'll show and read times in <b>{_escape(user.timezone)}</b> "
        f"(it's {_now_in(user.timezone)} there now). If that's not yours, tap 🌍 and send "
        "your city, or share your location.",
        [
            [(f"✅ Use {user.timezone}", "tz:keep")]
            if user.timezone == default
            else [(f"✅ Keep {user.timezone}", "tz:keep"), (f"Use {default}", "tz:default")],
            [("🌍 Change timezone", "tz:ask")],  # settings.py asks for a city or location
        ],
    )


async def help_command(update: Update, context: CustomContext) -> None:
    """List the commands."""
    await reply(update, HELP)


def install(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", start, filters=private))
    app.add_handler(CommandHandler("help", help_command, filters=private))
