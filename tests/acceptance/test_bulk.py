"""Bulk scheduling through the real bot: a CSV file in, a summary back, stored on Confirm.

Media links are served over real HTTP by a local server (tests/fakes/serve.py); the bot is
allowed to fetch from this machine only because the test settings say so.
"""

from __future__ import annotations

import asyncio
import csv
import io
import socket
import struct
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.app import Crier
from bot.config import Settings
from providers.base import PostContent
from providers.dryrun import DryRunProvider
from storage.models import Account, AccountStatus, Media, Post, PostStatus, Target, User
from tests.acceptance.conftest import Person, buttons, eventually, jpeg, make_due
from tests.acceptance.test_compose_flow import CHANNEL, connect_channel
from tests.fakes.serve import serve
from tests.fakes.telegram_api import FakeTelegram

JSON = dict[str, Any]


def exe() -> bytes:
    """A DOS stub pointing at a PE header: how every Windows .exe starts."""
    stub = bytearray(b"MZ" + bytes(0x3A) + struct.pack("<I", 0x80))
    stub += bytes(0x80 - len(stub)) + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 1)
    return bytes(stub) + bytes(range(256)) * 8


class MediaSite:
    """A photo, and an executable renamed .jpg."""

    def __init__(self) -> None:
        self.photo = jpeg(320, 240, "teal")
        self.requests: list[str] = []

    async def handle(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        if request.url.path == "/photo.jpg":
            return Response(self.photo, media_type="image/jpeg")
        if request.url.path == "/setup.jpg":
            return Response(exe(), media_type="image/jpeg")
        if request.url.path == "/slow.jpg":
            await asyncio.sleep(5)
            return Response(self.photo, media_type="image/jpeg")
        return Response("not found", status_code=404)


@pytest.fixture
async def site() -> AsyncIterator[tuple[MediaSite, str]]:
    media = MediaSite()
    async with serve(Starlette(routes=[Route("/{path:path}", media.handle)])) as url:
        yield media, url


@pytest.fixture
async def crier(make_settings: Callable[..., Settings]) -> AsyncIterator[Crier]:
    async with Crier(make_settings(media_fetch_allow_private=True)) as app:
        yield app


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


def later(days: int, hour: int = 9) -> str:
    """A local time `days` ahead (the user's zone is UTC in these tests)."""
    return (datetime.now(UTC) + timedelta(days=days)).strftime(f"%Y-%m-%d {hour:02d}:00")


async def sends_file(
    tg: FakeTelegram, person: Person, data: bytes, name: str, expect: str, *, after: int = 0
) -> JSON:
    waiting = tg.wait_for(person.user, expect, timeout=15, after=after)
    tg.send_document(person.user, data, file_name=name, mime_type="text/csv")
    return await waiting


async def count(crier: Crier, model: type[Any]) -> int:
    async with crier.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def scheduled_posts(crier: Crier) -> list[Post]:
    async with crier.db.session() as session:
        found = await session.scalars(
            select(Post).where(Post.status == PostStatus.SCHEDULED).order_by(Post.id)
        )
        return list(found)


def dry_run_records(crier: Crier) -> list[PostContent]:
    assert crier.services is not None
    provider = crier.services.registry["dryrun"]
    assert isinstance(provider, DryRunProvider)
    return [record.post for record in provider.records]


def incoming(crier: Crier) -> list[str]:
    folder = crier.settings.media_dir / ".incoming"
    return [p.name for p in folder.glob("*") if p.is_file()] if folder.exists() else []


def confirm_label(message: JSON) -> str:
    return next(b for b in buttons(message) if b.startswith("✅ Confirm"))


async def test_good_and_bad_rows_are_reported_then_only_the_good_ones_stored_and_published(
    tg: FakeTelegram, crier: Crier, alice: Person, site: tuple[MediaSite, str]
) -> None:
    media, url = site
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    data = csv_bytes(
        [
            ["text", "time", "accounts", "media_url", "alt_text"],
            ["Good text post", later(1), "Dry run", "", ""],
            ["Bad time", "2020-01-01 09:00", "Dry run", "", ""],
            ["Unknown account", later(1), "Dry run; Mastodon", "", ""],
            ["x" * 5000, later(2), "dry run;@news", "", ""],
            ["Unreachable", later(2), "Dry run", f"http://127.0.0.1:{closed_port()}/a.jpg", ""],
            ["Renamed program", later(2), "Dry run", f"{url}/setup.jpg", ""],
            ["Photo with alt", later(3), "Dry run;news", f"{url}/photo.jpg", "A teal square"],
        ]
    )
    summary = await sends_file(tg, alice, data, "posts.csv", "ready to schedule")
    text = summary["text"]
    assert "2 ready to schedule, 5 rejected" in text
    assert "Row 2 ·" in text
    assert "Row 8 ·" in text
    assert "Row 3: time “2020-01-01 09:00”: " in text
    assert "is in the past" in text
    assert "Row 4: unknown account “Mastodon” (yours: Dry run, @news)" in text
    assert "Row 5: @news: Text is 5,000 characters; Telegram channel allows" in text
    assert "Row 6: media_url: Couldn't connect to 127.0.0.1" in text
    assert "Row 7: media_url: That file says it's a JPEG but it isn't one: it's a Windows" in text
    assert "send the file again" in text
    assert buttons(summary) == ["✅ Confirm 2", "✖ Cancel"]
    # Nothing is stored before Confirm: no post, no target, no media row.
    assert (await count(crier, Post), await count(crier, Target), await count(crier, Media)) == (
        0,
        0,
        0,
    )

    done = await alice.presses(summary, "✅ Confirm 2", "Scheduled 2 posts")
    assert "#1–#2" in done["text"]
    posts = await scheduled_posts(crier)
    assert [p.text for p in posts] == ["Good text post", "Photo with alt"]
    async with crier.db.session() as session:
        targets = list(await session.scalars(select(Target).order_by(Target.id)))
        stored = list(await session.scalars(select(Media)))
    assert [(t.post_id, t.account_id) for t in targets] == [(1, 1), (2, 1), (2, 2)]
    assert len(stored) == 1
    assert stored[0].alt_text == "A teal square"
    assert (crier.settings.media_dir / stored[0].storage_key).read_bytes() == media.photo
    assert incoming(crier) == []

    await make_due(crier)
    records = await eventually(lambda: len(dry_run_records(crier)) == 2 and dry_run_records(crier))
    by_text = {r.text: r for r in records}
    assert by_text["Good text post"].media == ()
    photo = by_text["Photo with alt"].media
    assert len(photo) == 1
    assert photo[0].alt_text == "A teal square"
    channel_photo = await eventually(
        lambda: [m for m in tg.sent(CHANNEL) if m.get("photo")], timeout=10
    )
    assert channel_photo[0]["caption"] == "Photo with alt"


async def test_the_rows_are_stored_in_one_transaction_or_not_at_all(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    data = csv_bytes(
        [
            ["text", "time", "accounts"],
            ["First", later(1), "Dry run"],
            ["Second", later(1), "Dry run"],
            ["Third", later(2), "@news"],
        ]
    )
    summary = await sends_file(tg, alice, data, "posts.csv", "ready to schedule")
    assert "3 ready to schedule, 0 rejected" in summary["text"]
    # The channel goes away between the check and Confirm: the third row can't be stored,
    # and the first two, written before it in the same transaction, are rolled back.
    async with crier.db.session() as session:
        await session.execute(
            update(Account).where(Account.label == "@news").values(status=AccountStatus.DISABLED)
        )
    refused = await alice.presses(summary, "✅ Confirm 3", "Nothing was scheduled")
    assert "row 4 was disconnected" in refused["text"]
    assert (await count(crier, Post), await count(crier, Target)) == (0, 0)


async def test_cancel_stores_nothing_and_drops_the_fetched_files(
    tg: FakeTelegram, crier: Crier, alice: Person, site: tuple[MediaSite, str]
) -> None:
    media, url = site
    await alice.says("/start", "Crier")
    data = csv_bytes(
        [
            ["text", "time", "accounts", "media_url", "alt_text"],
            ["With a photo", later(1), "all", f"{url}/photo.jpg", "Teal"],
        ]
    )
    summary = await sends_file(tg, alice, data, "posts.csv", "ready to schedule")
    assert "1 ready to schedule, 0 rejected" in summary["text"]
    assert media.requests == ["/photo.jpg"]
    assert len(incoming(crier)) == 1  # fetched, not kept
    cancelled = await alice.presses(summary, "✖ Cancel", "Cancelled")
    assert "Nothing was scheduled" in cancelled["text"]
    assert buttons(cancelled) == []
    assert (await count(crier, Post), await count(crier, Media)) == (0, 0)
    assert incoming(crier) == []
    # The old buttons do nothing any more.
    answer = await alice.forges(
        cancelled, summary["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    )
    assert "already" in answer.get("text", "")
    assert await count(crier, Post) == 0


async def test_bulk_sends_an_example_and_takes_a_semicolon_file_with_a_byte_order_mark(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    intro = await alice.says("/bulk", "Schedule many posts")
    assert "text" in intro["text"]
    assert "accounts" in intro["text"]
    example = await tg.wait_for(alice.user, lambda m: "document" in m, after=intro["message_id"])
    assert example["document"]["file_name"] == "crier-bulk.csv"
    sample = tg.file_bytes(example["document"]["file_id"])
    assert sample.startswith(b"\xef\xbb\xbf")
    assert sample.decode("utf-8-sig").splitlines()[0] == "text,time,accounts,media_url,alt_text"

    # After /bulk any document is read as a bulk file, whatever its name.
    data = csv_bytes(
        [
            ["Text", "Time", "Accounts"],
            ["Grüße aus Köln;\nzweite Zeile", later(1, 10), "dry run"],
            ["Second post", later(2, 11), "1"],
        ],
        delimiter=";",
        bom=True,
    )
    summary = await sends_file(tg, alice, data, "export.txt", "ready to schedule")
    assert "2 ready to schedule, 0 rejected" in summary["text"]
    await alice.presses(summary, confirm_label(summary), "Scheduled 2 posts")
    posts = await scheduled_posts(crier)
    assert [p.text for p in posts] == ["Grüße aus Köln;\nzweite Zeile", "Second post"]
    assert [p.publish_at.strftime("%Y-%m-%d %H:%M") for p in posts if p.publish_at] == [
        later(1, 10),
        later(2, 11),
    ]


async def test_a_csv_that_is_not_a_bulk_file_is_an_ordinary_attachment(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    waiting = tg.wait_for(alice.user, "New post")
    tg.send_document(
        alice.user, b"name,price\nTea,3\n", file_name="prices.csv", mime_type="text/csv"
    )
    status = await waiting
    assert "1 file" in status["text"]
    assert await count(crier, Media) == 1


async def test_too_many_rows_and_unreadable_files_get_a_clear_message(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(make_settings(bulk_max_rows=2)) as crier:
        await alice.says("/start", "Crier")
        rows = [["text", "time", "accounts"]] + [[f"Post {n}", later(1), "all"] for n in range(3)]
        refused = await sends_file(tg, alice, csv_bytes(rows), "many.csv", "more than 2 rows")
        assert "Split it into smaller files" in refused["text"]
        intro = await alice.says("/bulk", "Schedule many posts")
        refused = await sends_file(
            tg,
            alice,
            "text,time,accounts\nCafé,now,all\n".encode("cp1252"),
            "latin.csv",
            "isn't UTF-8",
            after=intro["message_id"],
        )
        assert "Nothing was scheduled" in refused["text"]
        assert await count(crier, Post) == 0


async def test_many_rejected_rows_come_back_as_a_csv_with_a_reason_column(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    rows = [["text", "time", "accounts"], ["Fine", later(1), "all"]]
    rows += [[f"Post {n}", later(1), f"Nobody {n}"] for n in range(12)]
    summary = await sends_file(tg, alice, csv_bytes(rows), "posts.csv", "ready to schedule")
    assert "1 ready to schedule, 12 rejected" in summary["text"]
    assert "Row 12: unknown account “Nobody 9”" in summary["text"]
    assert "Row 13:" not in summary["text"]
    assert "…and 2 more" in summary["text"]
    attached = await tg.wait_for(alice.user, lambda m: "document" in m, after=summary["message_id"])
    assert attached["document"]["file_name"] == "rejected-rows.csv"
    lines = list(
        csv.reader(io.StringIO(tg.file_bytes(attached["document"]["file_id"]).decode("utf-8-sig")))
    )
    assert lines[0] == ["row", "text", "time", "accounts", "reason"]
    assert len(lines) == 13
    assert lines[-1][0] == "14"
    assert lines[-1][-1].startswith("unknown account “Nobody 11”")


async def test_after_a_restart_the_summary_asks_for_the_file_again(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = make_settings()
    data = csv_bytes([["text", "time", "accounts"], ["Before restart", later(1), "all"]])
    async with Crier(settings):
        await alice.says("/start", "Crier")
        summary = await sends_file(tg, alice, data, "posts.csv", "ready to schedule")
        assert "if I restart before then, send the file again" in summary["text"]
    async with Crier(settings) as crier:
        gone = await alice.presses(summary, "✅ Confirm 1", "no longer waiting")
        assert "send the file again" in gone["text"]
        assert await count(crier, Post) == 0
        again = await sends_file(
            tg, alice, data, "posts.csv", "ready to schedule", after=gone["message_id"]
        )
        await alice.presses(again, "✅ Confirm 1", "Scheduled 1 post")
        assert await count(crier, Post) == 1


def next_spring_forward() -> datetime:
    """The next last Sunday of March (Europe/Berlin skips 02:00–03:00 that night)."""
    today = datetime.now(UTC)
    for year in (today.year, today.year + 1):
        day = datetime(year, 3, 31, tzinfo=UTC)
        day -= timedelta(days=(day.weekday() + 1) % 7)
        if day > today + timedelta(days=1):
            return day
    raise AssertionError("unreachable")


async def test_a_time_the_clocks_skip_is_rejected_with_the_ways_to_write_it(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    async with crier.db.session() as session:
        await session.execute(update(User).values(timezone="Europe/Berlin"))
    day = next_spring_forward().strftime("%Y-%m-%d")
    data = csv_bytes(
        [
            ["text", "time", "accounts"],
            ["In the gap", f"{day} 02:30", "Dry run"],
            ["Written with its offset", f"{day}T03:00+02:00", "Dry run"],
        ]
    )
    summary = await sends_file(tg, alice, data, "dst.csv", "ready to schedule")
    text = summary["text"]
    assert "1 ready to schedule, 1 rejected" in text
    assert "Row 2: time “" in text
    assert "so 02:30 does not exist there" in text
    assert f"{day}T03:00+02:00" in text
    assert "Row 3 ·" in text
    assert "03:00 CEST" in text
    await alice.presses(summary, "✅ Confirm 1", "Scheduled 1 post")
    posts = await scheduled_posts(crier)
    assert [p.publish_at for p in posts] == [datetime.fromisoformat(f"{day}T01:00+00:00")]
    assert posts[0].timezone == "Europe/Berlin"


async def test_a_file_over_the_users_caps_can_not_be_confirmed(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    site: tuple[MediaSite, str],
) -> None:
    _, url = site
    settings = make_settings(
        max_pending_posts_per_user=2, media_quota_bytes=1000, media_fetch_allow_private=True
    )
    async with Crier(settings) as crier:
        await alice.says("/start", "Crier")
        rows = [["text", "time", "accounts"]] + [[f"Post {n}", later(1), "all"] for n in range(3)]
        summary = await sends_file(tg, alice, csv_bytes(rows), "posts.csv", "ready to schedule")
        assert "3 ready to schedule, 0 rejected" in summary["text"]
        assert "You have 0 posts waiting to go out and this file adds 3" in summary["text"]
        assert "Nothing was scheduled" in summary["text"]
        assert buttons(summary) == []

        photo = [
            ["text", "time", "accounts", "media_url"],
            ["Big", later(1), "all", f"{url}/photo.jpg"],
        ]
        summary = await sends_file(
            tg,
            alice,
            csv_bytes(photo),
            "photo.csv",
            "ready to schedule",
            after=summary["message_id"],
        )
        assert "Your media storage is full" in summary["text"]
        assert buttons(summary) == []
        assert (await count(crier, Post), await count(crier, Media)) == (0, 0)
        assert incoming(crier) == []


async def test_a_check_in_progress_is_called_off_when_the_bot_stops(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    site: tuple[MediaSite, str],
) -> None:
    media, url = site
    settings = make_settings(media_fetch_allow_private=True)
    rows = [["text", "time", "accounts", "media_url"], ["Slow", later(1), "all", f"{url}/slow.jpg"]]
    async with Crier(settings) as crier:
        await alice.says("/start", "Crier")
        progress = await sends_file(tg, alice, csv_bytes(rows), "posts.csv", "Checking 1 row")
        assert "fetching 1 media link" in progress["text"]
        await eventually(lambda: media.requests == ["/slow.jpg"])
    told = await tg.wait_for(alice.user, "I'm restarting", after=progress["message_id"])
    assert "send it again" in told["text"]
    assert incoming(crier) == []
    async with Crier(settings) as again:
        assert await count(again, Post) == 0
