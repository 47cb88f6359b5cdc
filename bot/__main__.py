"""`crier run | worker | migrate | keygen` (also `python -m bot ...`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from pydantic import ValidationError

from bot.config import Settings
from bot.ops import logs

log = logging.getLogger("crier")

NO_TOKEN = """\
Crier needs a Telegram bot token to run, and TELEGRAM_BOT_TOKEN is not set.

  1. In Telegram, open @BotFather, send /newbot and follow the steps.
  2. Put the token it gives you in the environment, or in a file named .env here:

       TELEGRAM_BOT_TOKEN=123456789:AAE...your-token...

  3. Run this command again.

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
    args = parser.parse_args(argv)

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
    if settings.telegram_bot_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    return asyncio.run(_serve(settings, mode="bot" if args.command == "run" else "worker"))


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


if __name__ == "__main__":
    sys.exit(main())
