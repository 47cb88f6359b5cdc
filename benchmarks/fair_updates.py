"""Does one flooding user delay everyone else? One user sends `--flood-rate` short messages a
second while `--others` users each send /help once a second, for `--seconds`, through a fake
Bot API in its own process that enforces Telegram's flood limits (about 1 message/s per
private chat with short bursts, 30/s overall, 429 with retry_after).

    .venv/bin/python -m benchmarks.fair_updates [--flood-rate 150] [--others 50] [--seconds 20]

The users live in the fake's process (as they would on Telegram's side): it sends their
updates and times each /help from the moment it is sent to the moment the bot's answer
arrives. Crier runs unmodified in this process. Prints a table row and writes a JSON file
(`--json`). It uses only `Crier(settings)`, so the same file measures an older checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.app import Crier
from bot.config import Settings

FLOODER = 1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def users(
    others: int,
    flood_rate: float,
    seconds: float,
    patience: float,
    ready: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    """The fake Bot API with flood limits on, and the users sending; prints the figures."""
    from tests.fakes.telegram_api import FakeTelegram

    async with FakeTelegram() as tg:
        tg.enforce_rate_limits = True
        for n in range(1, others + 2):
            tg.add_user(n, f"User {n}")
        print(tg.token, tg.base_url, tg.file_base_url, flush=True)
        await ready.wait()
        for n in range(2, others + 2):  # everyone says hello first: registered, warm
            tg.send_text(n, "/start")
        await asyncio.sleep(3)
        latencies: list[float] = []
        unanswered = 0

        async def ask(user: int) -> None:
            nonlocal unanswered
            started = time.monotonic()
            waiting = asyncio.ensure_future(tg.wait_for(user, "/list", timeout=patience))
            tg.send_text(user, "/help")
            try:
                await waiting
                latencies.append(time.monotonic() - started)
            except AssertionError:
                unanswered += 1

        async def other(user: int) -> None:
            await asyncio.sleep((user % others) / others)  # spread over the second
            asks = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                asks.append(asyncio.create_task(ask(user)))
                await asyncio.sleep(1.0)
            await asyncio.gather(*asks)

        async def flood() -> int:
            sent = 0
            started = time.monotonic()
            while (elapsed := time.monotonic() - started) < seconds:
                while sent < elapsed * flood_rate:
                    sent += 1
                    tg.send_text(FLOODER, f"Forwarded post {sent}")
                await asyncio.sleep(0.005)
            return sent

        limited_before = tg.rate_limited_count
        flood_task = asyncio.create_task(flood())
        await asyncio.gather(*(other(n) for n in range(2, others + 2)))
        flooded = await flood_task
        figures = {
            "flood_messages": flooded,
            "requests": len(latencies) + unanswered,
            "unanswered": unanswered,
            "p50_s": statistics.median(latencies) if latencies else float("nan"),
            "p99_s": percentile(latencies, 99),
            "max_s": max(latencies, default=float("nan")),
            "rate_limited_429": tg.rate_limited_count - limited_before,
            "messages_to_flooder": len(tg.sent(FLOODER)),
        }
        print(json.dumps(figures), flush=True)
        await stop.wait()  # keep answering until the bot has stopped


async def serve(others: int, flood_rate: float, seconds: float, patience: float) -> None:
    ready, stop = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, ready.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await users(others, flood_rate, seconds, patience, ready, stop)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    fake = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.fair_updates",
        "--serve",
        "--others",
        str(args.others),
        "--flood-rate",
        str(args.flood_rate),
        "--seconds",
        str(args.seconds),
        "--timeout",
        str(args.timeout),
        stdout=asyncio.subprocess.PIPE,
    )
    assert fake.stdout is not None
    try:
        token, base_url, file_base_url = (await fake.stdout.readline()).decode().split()
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                telegram_bot_token=SecretStr(token),
                telegram_api_base_url=base_url,
                telegram_file_base_url=file_base_url,
                telegram_poll_timeout=2,
                database_url=args.db or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                media_dir=Path(tmp) / "media",
                web_port=0,
            )
            crier = Crier(settings)
            await crier.start()
            fake.send_signal(signal.SIGUSR1)
            line = await asyncio.wait_for(fake.stdout.readline(), args.seconds + 600)
            result = {
                "flood_rate": args.flood_rate,
                "others": args.others,
                "seconds": args.seconds,
                **json.loads(line.decode()),
            }
            report(result, args.json)
            try:
                # A bot that fell behind handles its whole backlog before it stops (updates
                # already confirmed to Telegram): give it a minute, then leave.
                await asyncio.wait_for(crier.stop(), timeout=60)
            except TimeoutError:
                print("(the bot was still working through its backlog; not waited for)")
    finally:
        if fake.returncode is None:
            fake.send_signal(signal.SIGTERM)
        await asyncio.wait_for(fake.wait(), timeout=60)
    return result


def report(result: dict[str, Any], path: Path | None) -> None:
    print(
        "| flood msg/s | others | answered | p50 | p99 | max | 429s | messages to flooder |\n"
        "|---|---|---|---|---|---|---|---|\n"
        f"| {result['flood_rate']:g} | {result['others']} | "
        f"{result['requests'] - result['unanswered']}/{result['requests']} | "
        f"{result['p50_s'] * 1000:,.0f} ms | {result['p99_s'] * 1000:,.0f} ms | "
        f"{result['max_s'] * 1000:,.0f} ms | {result['rate_limited_429']} | "
        f"{result['messages_to_flooder']} |",
        flush=True,
    )
    if path:
        path.write_text(json.dumps(result, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flood-rate", type=float, default=150.0)
    parser.add_argument("--others", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds a /help may wait for its answer"
    )
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.others, args.flood_rate, args.seconds, args.timeout))
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
