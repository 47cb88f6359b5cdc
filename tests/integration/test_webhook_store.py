"""The webhook outbox's guarantees, on SQLite and PostgreSQL with the same code: events only
for users who set a URL, a claim leased (taken again only after its lease), each user's
rows their own, and removing the URL giving up what was still waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import users, webhooks
from storage.db import Database
from storage.models import WebhookStatus

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


async def _users(db: Database, *ids: int) -> None:
    async def work(s):  # type: ignore[no-untyped-def]
        for user_id in ids:
            await users.upsert(
                s,
                user_id=user_id,
                chat_id=user_id,
                first_name="A",
                username=None,
                language="en",
                default_timezone="UTC",
                admin=False,
            )

    await db.run(work)


def _event(user_id: int, post_id: int) -> webhooks.NewEvent:
    payload = {"type": "post.published", "data": {"post_id": post_id}}
    return webhooks.NewEvent(user_id=user_id, type="post.published", payload=payload)


async def test_events_are_kept_only_for_users_with_a_url(db: Database) -> None:
    await _users(db, 1, 2)
    await db.run(
        lambda s: webhooks.set_endpoint(
            s, 1, url="https://a.example/h", sealed_secret="sealed-1", now=NOW
        )
    )
    queued = await db.run(lambda s: webhooks.enqueue(s, [_event(1, 10), _event(2, 20)], NOW))
    assert queued == 1

    mine = await db.run(lambda s: webhooks.recent(s, 1))
    theirs = await db.run(lambda s: webhooks.recent(s, 2))
    assert [d.payload["data"]["post_id"] for d in mine] == [10]
    assert theirs == []
    assert mine[0].event_id.startswith("msg_")


async def test_a_claim_is_leased_and_taken_again_only_after_its_lease(db: Database) -> None:
    await _users(db, 1)
    await db.run(
        lambda s: webhooks.set_endpoint(
            s, 1, url="https://a.example/h", sealed_secret="sealed-1", now=NOW
        )
    )
    await db.run(lambda s: webhooks.enqueue(s, [_event(1, 10)], NOW))

    [first] = await db.run(lambda s: webhooks.claim(s, now=NOW, lease=LEASE, limit=10))
    assert (first.url, first.sealed_secret) == ("https://a.example/h", "sealed-1")
    assert first.delivery.attempts == 1
    assert await db.run(lambda s: webhooks.claim(s, now=NOW, lease=LEASE, limit=10)) == []
    assert await db.run(webhooks.next_due) == NOW + LEASE

    later = NOW + LEASE + timedelta(seconds=1)
    [again] = await db.run(lambda s: webhooks.claim(s, now=later, lease=LEASE, limit=10))
    assert again.delivery.event_id == first.delivery.event_id, "the same event, the same id"
    assert again.delivery.attempts == 2

    await db.run(
        lambda s: webhooks.finish(
            s, [again.delivery.id], WebhookStatus.DELIVERED, later, http_status=204
        )
    )
    [row] = await db.run(lambda s: webhooks.recent(s, 1))
    assert (row.status, row.last_status, row.delivered_at) == (
        WebhookStatus.DELIVERED,
        204,
        later,
    )
    assert await db.run(webhooks.next_due) is None


async def test_a_retry_waits_for_its_time(db: Database) -> None:
    await _users(db, 1)
    await db.run(
        lambda s: webhooks.set_endpoint(s, 1, url="https://a.example/h", sealed_secret="x", now=NOW)
    )
    await db.run(lambda s: webhooks.enqueue(s, [_event(1, 10)], NOW))
    [claimed] = await db.run(lambda s: webhooks.claim(s, now=NOW, lease=LEASE, limit=10))
    when = NOW + timedelta(seconds=30)
    await db.run(
        lambda s: webhooks.retry_later(
            s, claimed.delivery.id, when, http_status=500, error="HTTP 500"
        )
    )
    assert await db.run(lambda s: webhooks.claim(s, now=NOW, lease=LEASE, limit=10)) == []
    assert await db.run(webhooks.next_due) == when
    [again] = await db.run(lambda s: webhooks.claim(s, now=when, lease=LEASE, limit=10))
    assert (again.delivery.last_status, again.delivery.attempts) == (500, 2)


async def test_removing_the_url_gives_up_what_was_waiting_for_that_user_only(
    db: Database,
) -> None:
    await _users(db, 1, 2)
    for user_id in (1, 2):
        await db.run(
            lambda s, u=user_id: webhooks.set_endpoint(
                s, u, url=f"https://{u}.example/h", sealed_secret="x", now=NOW
            )
        )
    await db.run(lambda s: webhooks.enqueue(s, [_event(1, 10), _event(2, 20)], NOW))

    assert await db.run(lambda s: webhooks.clear_endpoint(s, 1)) is True
    assert await db.run(lambda s: webhooks.clear_endpoint(s, 1)) is False
    assert await db.run(lambda s: webhooks.endpoint(s, 1)) is None
    [mine] = await db.run(lambda s: webhooks.recent(s, 1))
    assert (mine.status, mine.last_error) == (WebhookStatus.FAILED, "URL removed")
    [claimed] = await db.run(lambda s: webhooks.claim(s, now=NOW, lease=LEASE, limit=10))
    assert claimed.delivery.user_id == 2


async def test_changing_the_url_keeps_the_secret_unless_a_new_one_is_given(
    db: Database,
) -> None:
    await _users(db, 1)
    await db.run(
        lambda s: webhooks.set_endpoint(
            s, 1, url="https://a.example/h", sealed_secret="one", now=NOW
        )
    )
    await db.run(
        lambda s: webhooks.set_endpoint(
            s, 1, url="https://b.example/h", sealed_secret=None, now=NOW
        )
    )
    found = await db.run(lambda s: webhooks.endpoint(s, 1))
    assert found is not None
    assert (found.url, found.secret) == ("https://b.example/h", "one")
    assert await db.run(lambda s: webhooks.set_secret(s, 1, "two", NOW)) is True
    assert await db.run(lambda s: webhooks.set_secret(s, 2, "two", NOW)) is False


async def test_skipped_repeats_of_a_listening_user_are_cancelled_events(db: Database) -> None:
    from bot.engine import series
    from storage import accounts, posts

    berlin = "Europe/Berlin"
    saturday = datetime(2027, 3, 27, 8, 0, tzinfo=UTC)
    await _users(db, 1)

    async def work(s):  # type: ignore[no-untyped-def]
        account = await accounts.add(s, user_id=1, platform="dryrun", label="Dry run")
        post = await posts.new_draft(s, 1)
        post.text = "daily"
        post.rrule = "FREQ=DAILY"
        dtstart, first = series.first_occurrence(post.rrule, berlin, saturday)
        await posts.schedule(s, post, [account], first, berlin, dtstart_local=dtstart)
        await webhooks.set_endpoint(s, 1, url="https://a.example/h", sealed_secret="x", now=NOW)

    await db.run(work)
    # Monday: Saturday's occurrence (and Sunday's) were missed while nothing ran.
    monday = datetime(2027, 3, 29, 6, 30, tzinfo=UTC)
    assert await db.run(lambda s: series.skip_missed(s, monday)) == 1

    [event] = await db.run(lambda s: webhooks.recent(s, 1))
    assert event.type == "post.cancelled"
    assert event.payload["data"]["occurrence"] == 0
    assert event.payload["data"]["error"].startswith("Skipped 2 repeats")
