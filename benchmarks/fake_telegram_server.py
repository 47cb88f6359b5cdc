"""Run the fake Bot API in its own process (benchmarks shouldn't share a CPU-bound event
loop with it). Prints `<token> <base_url> <file_base_url>` once ready; on SIGTERM prints
one JSON line of counts (messages delivered, 429s answered, messages per chat) and stops.

    .venv/bin/python -m benchmarks.fake_telegram_server --users 1 [--rate-limits]
        [--blocked-every 2]

`--rate-limits` enforces Telegram's flood limits (30 messages/s overall, ~1/s per private
chat, 429 with retry_after); `--blocked-every N` makes every Nth user one who blocked the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.telegram_api import FakeTelegram


async def main(users: int, rate_limits: bool, blocked_every: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with FakeTelegram() as tg:
        tg.enforce_rate_limits = rate_limits
        for n in range(1, users + 1):
            tg.add_user(n, f"User {n}")
            if blocked_every and n % blocked_every == 0:
                tg.blocked.add(n)
        print(tg.token, tg.base_url, tg.file_base_url, flush=True)
        await stop.wait()
        per_chat = {n: len(tg.sent(n)) for n in range(1, users + 1)}
        counts = {
            "messages": sum(per_chat.values()),
            "rate_limited": tg.rate_limited_count,
            "most_to_one_chat": max(per_chat.values(), default=0),
        }
        print(json.dumps(counts), flush=True)


@dataclass
class FakeBotApi:
    """A running fake Bot API process: its URLs, and its counts once stopped."""

    token: str
    base_url: str
    file_base_url: str
    counts: dict[str, Any] = field(default_factory=dict)


@asynccontextmanager
async def fake_bot_api(
    users: int, *, rate_limits: bool = False, blocked_every: int = 0
) -> AsyncIterator[FakeBotApi]:
    """Start the fake in a subprocess for the block; `counts` is filled in when it ends."""
    args = ["--users", str(users), "--blocked-every", str(blocked_every)]
    if rate_limits:
        args.append("--rate-limits")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.fake_telegram_server",
        *args,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    token, base_url, file_base_url = (await process.stdout.readline()).decode().split()
    api = FakeBotApi(token=token, base_url=base_url, file_base_url=file_base_url)
    try:
        yield api
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
        lines = out.decode().strip().splitlines()
        if lines:
            api.counts = json.loads(lines[-1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1)
    parser.add_argument("--rate-limits", action="store_true")
    parser.add_argument("--blocked-every", type=int, default=0)
    parsed = parser.parse_args()
    asyncio.run(main(parsed.users, parsed.rate_limits, parsed.blocked_every))
