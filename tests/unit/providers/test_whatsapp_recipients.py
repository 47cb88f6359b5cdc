"""WhatsApp sends each post to every recipient in turn: a refusal for one is noted while the
others get it; a rate limit or a lost connection midway answers `Processing` with a handle of
what was done, and carrying on (even from the stored handle alone, after a restart) sends
only to those still waiting: nobody gets a post twice, nothing is uploaded twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.base import PostContent, Processing, PublishResult
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from tests.contract.harness import publish_to_end
from tests.fakes.whatsapp_wire import graph_error
from tests.unit.providers.whatsapp_world import (
    ALICE,
    BOB,
    CAROL,
    TOKEN,
    World,
    photo,
    video,
    world,
)

WINDOW_REASON = "more than 24 hours since they last wrote to this number"


@pytest.fixture
async def w() -> Any:
    async with world() as it:
        yield it


def stored(handle: Any) -> Any:
    """The handle as the engine keeps it: JSON, read back."""
    text = json.dumps(handle)
    assert TOKEN not in text
    return json.loads(text)


async def test_one_of_three_outside_the_window_is_noted_and_the_others_get_it(
    w: World,
) -> None:
    w.open_windows(ALICE, CAROL)
    result = await w.provider().publish(
        PostContent(text="News"), w.account([ALICE, BOB, CAROL]), "k"
    )
    assert isinstance(result, PublishResult)
    assert [len(w.fake.sent_to(p)) for p in (ALICE, BOB, CAROL)] == [1, 0, 1]
    assert set(result.ref["messages"]) == {ALICE, CAROL}
    assert WINDOW_REASON in result.ref["failed"][BOB]
    assert result.notes[0] == "Sent to 2 of 3 recipients."
    assert result.notes[1].startswith(f"{BOB}: {WINDOW_REASON}")
    assert "approved template" in result.notes[1]


async def test_nobody_in_the_window_fails_with_the_reason(w: World) -> None:
    with pytest.raises(PermanentError, match=WINDOW_REASON):
        await w.provider().publish(PostContent(text="News"), w.account([ALICE]), "k")


async def test_different_refusals_for_everyone_are_all_named(w: World) -> None:
    w.open_windows(ALICE)
    w.fake.unreachable.add(ALICE)
    with pytest.raises(PermanentError) as failed:
        await w.provider().publish(PostContent(text="News"), w.account([ALICE, BOB]), "k")
    assert f"{ALICE}: WhatsApp couldn't deliver" in str(failed.value)
    assert f"{BOB}: {WINDOW_REASON}" in str(failed.value)


async def test_a_throughput_limit_midway_is_carried_on_from_the_stored_handle(
    w: World,
) -> None:
    w.open_windows(ALICE, BOB, CAROL)
    w.fake.fail("messages", graph_error(130429), after=1)
    post = PostContent(text="News")
    account = w.account([ALICE, BOB, CAROL])
    first = await w.provider().publish(post, account, "k")
    assert isinstance(first, Processing)
    assert first.retry_after == 2.0
    assert first.stage == "sending on WhatsApp (1 of 3 recipients done)"
    handle = stored(first.handle)
    assert handle["messages"] == {ALICE: [w.fake.sent_to(ALICE)[0].id]}
    assert handle["recipients"] == [ALICE, BOB, CAROL]
    # After a restart: a new adapter, only the stored handle.
    w.clock.now += first.retry_after
    result = await w.provider().poll(handle, post, account, "k")
    assert isinstance(result, PublishResult)
    assert [len(w.fake.sent_to(p)) for p in (ALICE, BOB, CAROL)] == [1, 1, 1]
    assert [json.loads(r.content)["to"] for r in w.messages()] == [ALICE, BOB, BOB, CAROL]
    assert result.notes == ()
    assert set(result.ref["messages"]) == {ALICE, BOB, CAROL}


async def test_a_lost_answer_midway_is_never_sent_again(w: World) -> None:
    w.open_windows(ALICE, BOB, CAROL)
    w.fake.fail("messages", httpx.ReadTimeout("slow"), after=1, applied=True)
    post = PostContent(text="News")
    account = w.account([ALICE, BOB, CAROL])
    first = await w.provider().publish(post, account, "k")
    assert isinstance(first, Processing)
    assert stored(first.handle)["messages"][BOB] == [None]
    result = await w.provider().poll(stored(first.handle), post, account, "k")
    assert isinstance(result, PublishResult)
    # WhatsApp did take Bob's message; Crier didn't send it again.
    assert [len(w.fake.sent_to(p)) for p in (ALICE, BOB, CAROL)] == [1, 1, 1]
    assert result.ref["messages"][BOB] is None
    assert any(n.startswith(f"{BOB}: WhatsApp didn't answer") for n in result.notes)


@pytest.mark.parametrize(
    ("failure", "error", "ambiguous"),
    [
        (httpx.ConnectError("refused"), TransientError, False),
        (httpx.ReadTimeout("slow"), TransientError, True),
        (graph_error(130429), RateLimited, False),
        (graph_error(131000), TransientError, False),
    ],
)
async def test_a_failure_before_anyone_got_it_raises(
    w: World, failure: Any, error: type[TransientError], ambiguous: bool
) -> None:
    w.open_windows(ALICE, BOB)
    w.fake.fail("messages", failure)
    with pytest.raises(error) as raised:
        await w.provider().publish(PostContent(text="News"), w.account([ALICE, BOB]), "k")
    assert raised.value.ambiguous is ambiguous
    assert w.fake.sent_to(BOB) == []


async def test_the_pair_rate_limit_holds_back_one_person_only(w: World, tmp_path: Path) -> None:
    w.fake.pair_burst = 2  # two messages at once to one person, then one every 6 seconds
    w.open_windows(ALICE, BOB)
    post = PostContent(
        text="Album", media=(photo(tmp_path, "a"), photo(tmp_path, "b"), photo(tmp_path, "c"))
    )
    account = w.account([ALICE, BOB])
    first = await w.provider().publish(post, account, "k")
    assert isinstance(first, Processing)
    assert first.retry_after == 6.0
    assert [len(w.fake.sent_to(p)) for p in (ALICE, BOB)] == [2, 2]
    w.clock.now += first.retry_after
    result = await w.provider().poll(stored(first.handle), post, account, "k")
    assert isinstance(result, PublishResult)
    assert [len(w.fake.sent_to(p)) for p in (ALICE, BOB)] == [3, 3]
    assert len(w.uploads()) == 3  # once each, never again
    assert [len(ids) for ids in result.ref["message_ids"].values()] == [3, 3]


async def test_the_pair_rate_limit_before_anything_went_out_raises(w: World) -> None:
    w.fake.pair_burst = 1
    w.open_windows(ALICE)
    await w.provider().publish(PostContent(text="One"), w.account(), "k1")
    with pytest.raises(RateLimited) as raised:
        await w.provider().publish(PostContent(text="Two"), w.account(), "k2")
    assert raised.value.retry_after == 6.0


async def test_a_video_post_goes_through_processing_and_a_restart(w: World, tmp_path: Path) -> None:
    """publish -> Processing -> poll -> Processing -> poll (a new adapter, the stored handle
    alone) -> PublishResult: the video is uploaded once, everyone gets one message."""
    w.open_windows(ALICE, BOB, CAROL)
    w.fake.fail("messages", graph_error(130429), after=1)
    w.fake.fail("messages", graph_error(130429), after=1)
    post = PostContent(text="Clip", media=(video(tmp_path),))
    account = w.account([ALICE, BOB, CAROL])
    first = await w.provider().publish(post, account, "k")
    assert isinstance(first, Processing)
    second = await w.provider().poll(stored(first.handle), post, account, "k")
    assert isinstance(second, Processing)
    assert stored(second.handle)["media_ids"] == stored(first.handle)["media_ids"]
    result = await w.provider().poll(stored(second.handle), post, account, "k")
    assert isinstance(result, PublishResult)
    assert len(w.uploads()) == 1
    assert [len(w.fake.sent_to(p)) for p in (ALICE, BOB, CAROL)] == [1, 1, 1]
    (media_id,) = w.fake.media
    assert all(m.payload["video"] == {"id": media_id, "caption": "Clip"} for m in w.fake.messages)


async def test_publish_to_end_drives_it_like_the_engine(w: World) -> None:
    w.open_windows(ALICE, BOB)
    w.fake.fail("messages", graph_error(131000), after=1)
    result = await publish_to_end(
        w.provider(), PostContent(text="News"), w.account([ALICE, BOB]), "k"
    )
    assert set(result.ref["messages"]) == {ALICE, BOB}


async def test_a_refused_token_midway_ends_the_publish_with_the_rest_noted(w: World) -> None:
    w.open_windows(ALICE, BOB, CAROL)
    w.fake.fail("messages", graph_error(190), after=1, count=5)
    result = await w.provider().publish(
        PostContent(text="News"), w.account([ALICE, BOB, CAROL]), "k"
    )
    assert isinstance(result, PublishResult)
    assert set(result.ref["messages"]) == {ALICE}
    assert set(result.ref["failed"]) == {BOB, CAROL}
    assert result.ref["failed"][BOB].startswith("not sent: WhatsApp refused the access token")
    assert TOKEN not in json.dumps(result.ref)


async def test_a_refused_token_when_nobody_got_it_asks_to_reconnect(w: World) -> None:
    w.open_windows(BOB)  # Alice's window is closed: she is refused first
    w.fake.revoke(TOKEN)
    w.fake.tokens["other"] = {w.number.id}
    w.fake.fail("messages", graph_error(131047))
    with pytest.raises(AuthError, match="access token"):
        await w.provider().publish(PostContent(text="News"), w.account([ALICE, BOB]), "k")


async def test_sends_are_paced_to_the_numbers_throughput(w: World) -> None:
    w.open_windows(ALICE, BOB, CAROL)
    await w.provider().publish(PostContent(text="News"), w.account([ALICE, BOB, CAROL]), "k")
    assert w.clock.slept == [pytest.approx(1 / 80), pytest.approx(1 / 80)]


async def test_over_the_numbers_throughput_the_fake_refuses_and_the_rest_wait(w: World) -> None:
    w.fake.throughput = 2
    people = [ALICE, BOB, CAROL]
    w.open_windows(*people)
    post = PostContent(text="News")
    account = w.account(people)
    first = await w.provider().publish(post, account, "k")
    assert isinstance(first, Processing)
    w.clock.now += first.retry_after
    result = await w.provider().poll(stored(first.handle), post, account, "k")
    assert isinstance(result, PublishResult)
    assert [len(w.fake.sent_to(p)) for p in people] == [1, 1, 1]


async def test_one_call_sends_at_most_so_many_messages(w: World) -> None:
    people = [f"+1415555{n:04d}" for n in range(5)]
    w.open_windows(*people)
    provider = w.provider(max_sends_per_call=2)
    post = PostContent(text="News")
    account = w.account(people)
    answers = [await provider.publish(post, account, "k")]
    while isinstance(answers[-1], Processing):
        answers.append(await provider.poll(stored(answers[-1].handle), post, account, "k"))
    assert [type(a).__name__ for a in answers] == [
        "Processing",
        "Processing",
        "PublishResult",
    ]
    assert all(len(w.fake.sent_to(p)) == 1 for p in people)


async def test_a_handle_it_cant_read_fails_plainly(w: World) -> None:
    with pytest.raises(PermanentError, match="publish it again"):
        await w.provider().poll({"v": 99}, PostContent(text="x"), w.account(), "k")
