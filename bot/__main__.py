"""`crier run | worker | migrate | keygen | demo | mcp` (also `python -m bot ...`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import signal
import sys
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr, ValidationError

from bot.config import Settings
from bot.ops import logs

if TYPE_CHECKING:
    from bot.app import Crier

log = logging.getLogger("crier")

NO_TOKEN = """\
Crier needs a Telegram bot token to run, and TELEGRAM_BOT_TOKEN is not set.

  1. In Telegram, open @BotFather, send /newbot and follow the steps.
  2. Put the token it gives you in the environment, or in a file named .env here:

       TELEGRAM_BOT_TOKEN=123456789:AAE...your-token...

  3. Run this command again.

To try Crier first without a token, run `crier demo`: a local chat with the bot in your
browser, against a Telegram emulator on this computer.

Every other setting has a default that works on one machine (SQLite in ./data);
they are all listed, with their defaults, in .env.example.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crier", description="Crier, the post scheduler bot.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (and, by default, the publish engine)")
    sub.add_parser("worker", help="run only the publish engine and notices")
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser("keygen", help="print a new CRIER_ENCRYPTION_KEY")
    sub.add_parser(
        "mcp",
        help="the MCP server for AI assistants over stdin/stdout (CRIER_TOKEN: a token from /api)",
    )
    demo = sub.add_parser(
        "demo", help="try Crier in a browser, with no Telegram token (a local Telegram emulator)"
    )
    demo.add_argument("--port", type=int, default=8080, help="the page's port (default 8080)")
    demo.add_argument(
        "--data",
        type=Path,
        default=None,
        help="keep the demo's database here (default: a temporary folder, deleted on exit)",
    )
    args = parser.parse_args(argv)

    if args.command == "demo":
        return _demo(args.port, args.data)

    if args.command == "keygen":
        from storage.secrets import generate_key

        print(generate_key())
        return 0
    try:
        settings = Settings()
    except ValidationError as exc:
        print("Crier's settings are not valid:", file=sys.stderr)
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]).upper()
            message = error["msg"].removeprefix("Value error, ")
            print(f"  {field}: {message}" if field else f"  {message}", file=sys.stderr)
        print("See .env.example for every setting and its default.", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, logs.known_secrets(settings), settings.log_format)

    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "mcp":
        return _mcp(settings)
    if settings.telegram_bot_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    return asyncio.run(_serve(settings, mode="bot" if args.command == "run" else "worker"))


def _mcp(settings: Settings) -> int:
    """`crier mcp`: stdout is the protocol's, so everything else goes to stderr."""
    import os

    from bot.api.mcp import serve_stdio

    token = os.environ.get("CRIER_TOKEN", "").strip()
    if not token:
        print(
            "crier mcp needs CRIER_TOKEN: a personal token made with /api in the chat "
            "(docs/API.md shows an assistant's configuration).",
            file=sys.stderr,
        )
        return 2
    if settings.telegram_bot_token is None:
        print(
            "crier mcp runs with the bot's settings (its .env or environment), "
            "TELEGRAM_BOT_TOKEN and DATABASE_URL included.",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(serve_stdio(settings, token))
    except KeyboardInterrupt:
        return 0


async def _migrate(settings: Settings) -> int:
    from storage.db import Database
    from storage.migrate import upgrade

    db = Database(settings.database_url)
    try:
        await upgrade(db)
    except Exception as exc:
        print(f"Could not migrate the database at {db.url!r}: {exc}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print("Database is up to date.")
    return 0


async def _serve(settings: Settings, *, mode: str) -> int:
    from sqlalchemy.exc import SQLAlchemyError
    from telegram.error import InvalidToken, NetworkError

    from bot.app import Crier
    from bot.ops.web import WebServerError
    from storage.secrets import SecretsUnavailable, WrongKey

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    crier = Crier(settings, mode=mode)
    try:
        async with crier:
            await stop.wait()
            log.info("stopping on signal")
    except (WrongKey, SecretsUnavailable) as exc:
        print(
            f"{exc} Nothing was changed. (`crier keygen` prints a new key, but a new key "
            "can't read credentials stored with the old one.)",
            file=sys.stderr,
        )
        return 2
    except WebServerError as exc:
        print(exc, file=sys.stderr)
        return 1
    except InvalidToken:
        print(
            "Telegram refused TELEGRAM_BOT_TOKEN. Check it with @BotFather (/token) and set it "
            "again.",
            file=sys.stderr,
        )
        return 2
    except NetworkError as exc:
        print(
            f"Could not reach the Telegram Bot API at {settings.telegram_api_base_url}: "
            f"{exc.message}. Check the network or TELEGRAM_API_BASE_URL.",
            file=sys.stderr,
        )
        return 1
    except SQLAlchemyError as exc:
        print(
            f"Database error: {exc.__class__.__name__}: {exc}. Check DATABASE_URL.", file=sys.stderr
        )
        return 1
    return 0


# ---------------------------------------------------------------------------- crier demo

#: The demo's world: the person at the page (a Telegram user id), the channel they own with
#: the bot as its admin, and the bot itself.
DEMO_USER = (5_000_000_001, "You", "demo_user")
DEMO_CHANNEL = (-1_005_000_000_001, "Demo channel", "crier_demo")
DEMO_BOT = (5_000_000_000, "crier_demo_bot")


def _demo(port: int, data: Path | None) -> int:
    """`crier demo`: the unmodified bot against the emulator, and the web chat on `port`."""
    try:
        return asyncio.run(_run_demo(port, data))
    except KeyboardInterrupt:
        return 0


async def _run_demo(port: int, data: Path | None) -> int:
    from bot.app import Crier
    from bot.demo.emulator.server import TelegramEmulator
    from bot.demo.web import DemoChat, DemoWorld, listen, serve

    try:  # first, so a taken port is said at once
        sock = listen("127.0.0.1", port)
    except OSError as exc:
        print(
            f"Could not serve the demo on 127.0.0.1:{port} ({exc.strerror}); "
            "try another, like `crier demo --port 8081`.",
            file=sys.stderr,
        )
        return 1
    # The compose flow's conversations track callbacks per chat on purpose (pyproject.toml).
    warnings.filterwarnings("ignore", message="If 'per_message=False'")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as stack:  # left in reverse: page, bot, emulator
        stack.callback(sock.close)
        folder = data or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crier-")))
        folder.mkdir(parents=True, exist_ok=True)
        bot_id, bot_username = DEMO_BOT
        tg = await stack.enter_async_context(
            TelegramEmulator(
                token=f"{bot_id}:DEMO-{secrets.token_urlsafe(24)}",
                bot_id=bot_id,
                bot_username=bot_username,
            )
        )
        tg.enforce_rate_limits = True  # Telegram's pace; Crier keeps it
        user = tg.add_user(*DEMO_USER)
        channel_id, title, username = DEMO_CHANNEL
        tg.add_channel(channel_id, title, username, admins={user.id: "creator"})
        settings = _demo_settings(tg.token, tg.base_url, tg.file_base_url, folder)
        logs.configure(settings.log_level, logs.known_secrets(settings), settings.log_format)
        crier = await stack.enter_async_context(Crier(settings))
        await _seed_demo(crier, user.id, user.first_name, username)
        chat = DemoChat(tg, DemoWorld(user=user, channel=tg.chats[channel_id]))
        bound = await stack.enter_async_context(serve(chat, sock))
        print(
            f"Crier demo: open http://127.0.0.1:{bound} in a browser "
            f"(data in {folder}; Ctrl-C stops it).",
            flush=True,
        )
        await stop.wait()
    return 0


def _demo_settings(token: str, base_url: str, file_url: str, folder: Path) -> Settings:
    """Settings for a demo: everything in `folder`, Telegram at the emulator, no web server
    of its own (its port would take the page's), an encryption key kept beside the data."""
    from storage.secrets import generate_key

    key_file = folder / "encryption.key"
    if not key_file.exists():
        key_file.write_text(generate_key())
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(token),
        telegram_api_base_url=base_url,
        telegram_file_base_url=file_url,
        telegram_mode="polling",
        webhook_url=None,
        database_url=f"sqlite+aiosqlite:///{folder / 'crier.db'}",
        media_dir=folder / "media",
        web_port=0,
        crier_encryption_key=SecretStr(key_file.read_text().strip()),
        log_level="WARNING",
    )


async def _seed_demo(crier: Crier, user_id: int, first_name: str, channel: str) -> None:
    """Give the demo user what a first visit needs: their Dry run account and the demo
    channel, connected as the bot would connect them (verified through the emulator). Kept
    across runs with --data; connecting again only refreshes it."""
    from bot.accounts import connecting, users

    assert crier.services is not None
    await users.ensure_user(
        crier.services,
        user_id=user_id,
        chat_id=user_id,
        first_name=first_name,
        username=DEMO_USER[2],
        language="en",
    )
    await connecting.connect(
        crier.services, user_id, "telegram", {"chat": f"@{channel}", "user_id": user_id}
    )


if __name__ == "__main__":
    sys.exit(main())
