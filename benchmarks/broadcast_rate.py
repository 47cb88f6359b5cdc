"""How fast does a broadcast go, and does it stay within Telegram's limits? Sends one
broadcast to `--users` people through a fake Bot API that enforces the flood limits (30
messages/s overall, ~1/s per chat, 429 with retry_after), running in its own process.

    .venv/bin/python -m benchmarks.broadcast_rate [--users 2000 10000] [--half-blocked 10000]
        [--db URL]

One run per `--users` count, and one to `--half-blocked` recipients of whom every second
one has blocked the bot (Telegram answers 403; the broadcast must record them as blocked
and not slow down for them). Reports the achieved rate (deliveries settled per second,
first to last), how they settled, and how many 429s the fake answered (the goal: none).
Prints a table; writes benchmarks/results/broadcast_rate.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import func, insert, select

from benchmarks.report import save, table
from bot.app import Crier
from bot.config import Settings
from bot.handlers.admin.broadcast import runner
from storage import broadcasts
from storage.models import BroadcastStatus, Delivery, DeliveryStatus, Role, User, UserStatus

ADMIN = 1


async def serve(users: int, blocked_every: int) -> None:
    """The fake Bot API with flood limits on; prints its URLs, and its counts on SIGTERM.
    Every `blocked_every`th user (0: none) has blocked the bot."""
    from tests.fakes.telegram_api import FakeTelegram

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with FakeTelegram() as tg:
        tg.enforce_rate_limits = True
        for n in range(1, users + 1):
            tg.add_user(n, f"User {n}")
            if blocked_every and n % blocked_every == 0 and n != ADMIN:
                tg.blocked.add(n)
        print(tg.token, tg.base_url, tg.file_base_url, flush=True)
        await stop.wait()
        sent = sum(1 for n in range(1, users + 1) for _ in tg.sent(n))
        print(json.dumps({"rate_limited": tg.rate_limited_count, "messages": sent}), flush=True)


async def seed(crier: Crier, users: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "id": n,
            "chat_id": n,
            "first_name": f"User {n}",
            "timezone": "UTC",
            "role": Role.ADMIN if n == ADMIN else Role.USER,
            "status": UserStatus.ACTIVE,
            "created_at": now,
            "last_seen_at": now,
        }
        for n in range(1, users + 1)
    ]
    async with crier.db.session() as session:
        await session.execute(insert(User), rows)


async def run(users: int, db_url: str | None, blocked_every: int = 0) -> dict[str, float]:
    fake = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.broadcast_rate",
        "--serve",
        "--users",
        str(users),
        "--blocked-every",
        str(blocked_every),
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
                database_url=db_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                media_dir=Path(tmp) / "media",
                admin_ids=[ADMIN],
                run_engine=False,
            )
            async with Crier(settings) as crier:
                figures = await broadcast(crier, users)
    finally:
        fake.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(fake.communicate(), timeout=60)
    counts = json.loads(out.decode().strip().splitlines()[-1])
    return {**figures, "rate_limited": counts["rate_limited"], "messages": counts["messages"]}


async def broadcast(crier: Crier, users: int) -> dict[str, float]:
    await seed(crier, users)
    progress = await crier.app.bot.send_message(ADMIN, "Benchmark broadcast")
    now = datetime.now(UTC)

    async def start(session):  # type: ignore[no-untyped-def]
        draft = await broadcasts.new_draft(session, ADMIN, crier.settings.broadcast_rate)
        await broadcasts.set_content(
            session, ADMIN, draft.id, {"text": "Benchmark", "entities": [], "media": []}
        )
        return await broadcasts.confirm(
            session,
            admin_id=ADMIN,
            broadcast_id=draft.id,
            now=now,
            progress_chat_id=ADMIN,
            progress_message_id=progress.message_id,
        )

    started = time.monotonic()
    row = await crier.db.run(start)
    assert crier.services is not None
    assert row is not None
    found = runner(crier.services)
    assert found is not None
    found.wake()
    while True:
        await asyncio.sleep(0.5)
        status = await crier.db.run(lambda s: broadcasts.status_of(s, row.id))
        if status == BroadcastStatus.DONE:
            break
    wall = time.monotonic() - started
    async with crier.db.session() as session:
        first, last, sent = (
            await session.execute(
                select(func.min(Delivery.sent_at), func.max(Delivery.sent_at), func.count()).where(
                    Delivery.status == DeliveryStatus.SENT
                )
            )
        ).one()
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        settled = {status: count for status, count in rows}
    span = (last - first).total_seconds() if first and last else 0.0
    return {
        "recipients": float(users),
        "sent": float(sent),
        "blocked": float(settled.get(DeliveryStatus.BLOCKED, 0)),
        "failed": float(settled.get(DeliveryStatus.FAILED, 0)),
        "wall_seconds": wall,
        "rate": (sent - 1) / span if span > 0 else 0.0,
        "runner_429s": float(found.rate_limited),
    }


COLUMNS = [
    ("run", "run"),
    ("recipients", "recipients"),
    ("sent", "sent"),
    ("blocked", "blocked"),
    ("failed", "failed"),
    ("rate", "sent/s"),
    ("settled_rate", "settled/s"),
    ("rate_limited", "429s"),
    ("wall_seconds", "confirm to done s"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, nargs="*", default=[2000, 10_000])
    parser.add_argument(
        "--half-blocked", type=int, default=10_000, help="recipients of that run (0: none)"
    )
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--blocked-every", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.users[0], args.blocked_every))
        return
    plans = [(f"{n:,} recipients", n, 0) for n in args.users]
    if args.half_blocked:
        plans.append((f"{args.half_blocked:,}, half blocked", args.half_blocked, 2))
    rows = []
    for name, users, blocked_every in plans:
        result = asyncio.run(run(users, args.db, blocked_every))
        counts = {k: int(result[k]) for k in ("recipients", "sent", "blocked", "failed")}
        settled = counts["sent"] + counts["blocked"] + counts["failed"]
        settled_rate = settled / result["wall_seconds"]
        rows.append(
            {
                "run": name,
                "db": "postgres" if args.db else "sqlite",
                **result,
                **counts,
                "settled_rate": settled_rate,
            }
        )
        print(table(rows[-1:], COLUMNS).splitlines()[-1], flush=True)
    print()
    print(table(rows, COLUMNS))
    print(f"\nwritten to {save('broadcast_rate', rows, args.json)}")


if __name__ == "__main__":
    main()
