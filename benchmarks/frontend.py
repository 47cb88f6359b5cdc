"""How many updates a second does the bot's front-end answer, and how fast? `--users`
simulated people each go round a loop for `--seconds`: type a post (the bot's status
message), press ✅ Done on it (the account picker), /abort, then /list, waiting for each
answer and then `--think` seconds before the next step, as a person at a keyboard would.

    .venv/bin/python -m benchmarks.frontend [--users 200] [--seconds 30] [--think 2]
        [--no-limits]

Through a fake Bot API in its own process, over HTTP. With Telegram's flood limits on (the
default: about 1 message a second per private chat, 30 a second overall, 429 with
retry_after) the answers a second are capped by Telegram, not by Crier; `--no-limits` turns
them off on both sides (the fake's limits and Crier's own pace) to measure Crier itself.
Each step is timed from the moment the user sent it to the moment the bot's answer arrived
(a message sent or edited, or a callback answered). Prints a table row; `--json` keeps it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from benchmarks.fair_updates import percentile
from bot.app import Crier
from bot.config import Settings

STEPS = ("compose", "press", "abort", "list")


async def people(args: argparse.Namespace, ready: asyncio.Event, stop: asyncio.Event) -> None:
    """The fake Bot API and the users on its side; prints one JSON line of figures."""
    from tests.fakes.telegram_api import FakeTelegram

    async with FakeTelegram() as tg:
        tg.enforce_rate_limits = not args.no_limits
        for n in range(1, args.users + 1):
            tg.add_user(n, f"User {n}")
        print(tg.token, tg.base_url, tg.file_base_url, flush=True)
        await ready.wait()
        for n in range(1, args.users + 1):
            tg.send_text(n, "/start")
        await asyncio.sleep(min(20.0, 2 + args.users / 20))  # everyone registered
        times: dict[str, list[float]] = {step: [] for step in STEPS}
        missed = 0

        async def answered(user: int, act: Any, predicate: Any = lambda m: True) -> None:
            nonlocal missed
            started = time.monotonic()
            waiting = asyncio.ensure_future(tg.wait_for(user, predicate, timeout=args.patience))
            await asyncio.sleep(0)  # the wait starts before the update exists
            step = act()
            try:
                await waiting
            except AssertionError:
                missed += 1
                return
            times[step].append(time.monotonic() - started)

        async def person(user: int) -> None:
            rng = random.Random(user)
            await asyncio.sleep(rng.uniform(0, args.think))  # not all at once
            end = time.monotonic() + args.seconds
            round_no = 0
            while time.monotonic() < end:
                round_no += 1

                def compose(n: int = round_no) -> str:
                    tg.send_text(user, f"Idea {n} from user {user}")
                    return "compose"

                await answered(user, compose, "New post")
                await asyncio.sleep(args.think)
                status = next(
                    (m for m in reversed(tg.sent(user)) if "New post" in (m.get("text") or "")),
                    None,
                )
                if status is not None:

                    def press(message: dict[str, Any] = status) -> str:
                        tg.press(user, message, "✅ Done")
                        return "press"

                    def moved_on(m: dict[str, Any], shown: int = status["message_id"]) -> bool:
                        return m.get("message_id") != shown or "New post" not in (
                            m.get("text") or ""
                        )

                    await answered(user, press, moved_on)
                    await asyncio.sleep(args.think)

                def abort() -> str:
                    tg.send_text(user, "/abort")
                    return "abort"

                await answered(user, abort)
                await asyncio.sleep(args.think)

                def listing() -> str:
                    tg.send_text(user, "/list")
                    return "list"

                await answered(user, listing)
                await asyncio.sleep(args.think)

        limited_before = tg.rate_limited_count
        started = time.monotonic()
        await asyncio.gather(*(person(n) for n in range(1, args.users + 1)))
        elapsed = time.monotonic() - started
        every = [t for step in STEPS for t in times[step]]
        figures: dict[str, Any] = {
            "answered": len(every),
            "missed": missed,
            "elapsed_s": elapsed,
            "updates_per_s": len(every) / elapsed,
            "p50_s": statistics.median(every) if every else float("nan"),
            "p99_s": percentile(every, 99),
            "max_s": max(every, default=float("nan")),
            "rate_limited_429": tg.rate_limited_count - limited_before,
            "per_step": {
                step: {
                    "n": len(values),
                    "p50_s": statistics.median(values) if values else float("nan"),
                    "p99_s": percentile(values, 99),
                }
                for step, values in times.items()
            },
        }
        print(json.dumps(figures), flush=True)
        await stop.wait()


async def serve(args: argparse.Namespace) -> None:
    ready, stop = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, ready.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await people(args, ready, stop)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.frontend", "--serve", *sys.argv[1:]]
    fake = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    assert fake.stdout is not None
    try:
        token, base_url, file_base_url = (await fake.stdout.readline()).decode().split()
        with tempfile.TemporaryDirectory() as tmp:
            pace: dict[str, Any] = {}
            if args.no_limits:
                pace = {"telegram_rate": 10_000.0, "telegram_chat_rate": 1_000.0}
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                telegram_bot_token=SecretStr(token),
                telegram_api_base_url=base_url,
                telegram_file_base_url=file_base_url,
                telegram_poll_timeout=2,
                database_url=args.db or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                media_dir=Path(tmp) / "media",
                web_port=0,
                **pace,
            )
            crier = Crier(settings)
            await crier.start()
            fake.send_signal(signal.SIGUSR1)
            line = await asyncio.wait_for(fake.stdout.readline(), args.seconds + 900)
            result = {
                "users": args.users,
                "seconds": args.seconds,
                "think_s": args.think,
                "telegram_limits": not args.no_limits,
                "database": "postgresql" if args.db else "sqlite",
                **json.loads(line.decode()),
            }
            report(result, args.json)
            await asyncio.wait_for(crier.stop(), timeout=120)
    finally:
        if fake.returncode is None:
            fake.send_signal(signal.SIGTERM)
        await asyncio.wait_for(fake.wait(), timeout=60)
    return result


def report(result: dict[str, Any], path: Path | None) -> None:
    steps = ", ".join(
        f"{step} {figures['p50_s'] * 1000:,.0f}/{figures['p99_s'] * 1000:,.0f} ms"
        for step, figures in result["per_step"].items()
    )
    print(
        "| users | Telegram's limits | answered | missed | updates/s | p50 | p99 | max | 429s |"
        " per step p50/p99 |\n|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {result['users']} | {'on' if result['telegram_limits'] else 'off'} | "
        f"{result['answered']:,} | {result['missed']} | {result['updates_per_s']:.1f} | "
        f"{result['p50_s'] * 1000:,.0f} ms | {result['p99_s'] * 1000:,.0f} ms | "
        f"{result['max_s'] * 1000:,.0f} ms | {result['rate_limited_429']} | {steps} |",
        flush=True,
    )
    if path:
        path.write_text(json.dumps(result, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=2.0, help="seconds between steps")
    parser.add_argument(
        "--patience", type=float, default=60.0, help="seconds an answer may take (else missed)"
    )
    parser.add_argument("--no-limits", action="store_true", help="Telegram's limits off")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args))
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
