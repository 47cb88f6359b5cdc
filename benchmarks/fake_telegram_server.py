"""Run the fake Bot API in its own process (benchmarks shouldn't share a CPU-bound event
loop with it). Prints `<token> <base_url> <file_base_url>` once ready; stops on SIGTERM.

    .venv/bin/python -m benchmarks.fake_telegram_server --users 1
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from tests.fakes.telegram_api import FakeTelegram


async def main(users: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with FakeTelegram() as tg:
        for n in range(1, users + 1):
            tg.add_user(n, f"User {n}")
        print(tg.token, tg.base_url, tg.file_base_url, flush=True)
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1)
    asyncio.run(main(parser.parse_args().users))
