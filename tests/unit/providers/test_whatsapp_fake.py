"""The fake WhatsApp Cloud API is honest: it keeps the 24-hour window per person, the pair
rate limit and the throughput, checks templates and media as the Cloud API does, and answers
with Graph's error shape. (The adapter's tests rely on it, so it is tested on its own.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.unit.providers.whatsapp_world import ALICE, BOB, TOKEN, World, world

BASE = "https://graph.facebook.com/v26.0"


@pytest.fixture
async def w() -> Any:
    async with world() as it:
        yield it


async def send(w: World, message: dict[str, Any], token: str = TOKEN) -> httpx.Response:
    payload = {"messaging_product": "whatsapp", "recipient_type": "individual", **message}
    return await w.http.post(
        f"{BASE}/{w.number.id}/messages",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
    )


def text(to: str = ALICE, body: str = "Hi") -> dict[str, Any]:
    return {"to": to, "type": "text", "text": {"body": body}}


def code(response: httpx.Response) -> int:
    return int(response.json()["error"]["code"])


async def test_errors_have_graphs_shape(w: World) -> None:
    response = await send(w, text())
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "(#131047) Re-engagement message"
    assert error["type"] == "OAuthException"
    assert error["code"] == 131047
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert "24 hours" in error["error_data"]["details"]
    assert error["fbtrace_id"]


async def test_the_window_opens_when_someone_writes_and_closes_a_day_later(w: World) -> None:
    w.open_windows(ALICE)
    ok = await send(w, text())
    assert ok.status_code == 200
    assert ok.json()["contacts"] == [{"input": ALICE, "wa_id": ALICE[1:]}]
    assert ok.json()["messages"][0]["id"].startswith("wamid.")
    w.clock.now += 24 * 3600 + 1
    assert code(await send(w, text())) == 131047


async def test_the_pair_rate_limit_allows_a_burst_then_one_every_six_seconds(w: World) -> None:
    w.open_windows(ALICE, BOB)
    answers = [(await send(w, text())).status_code for _ in range(46)]
    assert answers == [200] * 45 + [400]
    assert code(await send(w, text())) == 131056
    assert (await send(w, text(BOB))).status_code == 200  # another person is fine
    w.clock.now += 6
    assert (await send(w, text())).status_code == 200


async def test_throughput_is_per_second(w: World) -> None:
    w.fake.throughput = 3
    people = [f"+1415555{n:04d}" for n in range(4)]
    w.open_windows(*people)
    answers = [await send(w, text(p)) for p in people]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert code(answers[-1]) == 130429
    w.clock.now += 1
    assert (await send(w, text(people[-1]))).status_code == 200


@pytest.mark.parametrize(
    ("token", "expected"),
    [("", 104), ("EAAG-unknown", 190)],
)
async def test_tokens_are_checked(w: World, token: str, expected: int) -> None:
    assert code(await send(w, text(), token=token)) == expected


async def test_an_unknown_object_is_graphs_code_100(w: World) -> None:
    response = await w.http.get(f"{BASE}/123456789", headers={"Authorization": f"Bearer {TOKEN}"})
    assert code(response) == 100
    assert response.json()["error"]["error_subcode"] == 33


async def test_text_and_caption_limits(w: World) -> None:
    w.open_windows(ALICE)
    assert code(await send(w, text(body="a" * 4097))) == 100
    assert (await send(w, text(body="a" * 4096))).status_code == 200


async def test_a_test_number_sends_only_to_its_allowed_list(w: World) -> None:
    w.number.allowed = {BOB}
    w.open_windows(ALICE)
    assert code(await send(w, text())) == 131030


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ({"name": "nope", "language": {"code": "en_US"}}, 132001),
        ({"name": "paused", "language": {"code": "en_US"}}, 132015),
        ({"name": "news", "language": {"code": "en_US"}}, 132000),
        (
            {
                "name": "news",
                "language": {"code": "en_US"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "a\nb"}]}],
            },
            132018,
        ),
        (
            {
                "name": "news",
                "language": {"code": "en_US"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "a" * 1020}]}
                ],
            },
            132005,
        ),
    ],
)
async def test_templates_are_checked(w: World, template: dict[str, Any], expected: int) -> None:
    w.fake.add_template(w.number.waba_id, "news", "News: {{1}}")
    w.fake.add_template(w.number.waba_id, "paused", "{{1}}", status="PAUSED")
    response = await send(w, {"to": ALICE, "type": "template", "template": template})
    assert code(response) == expected


async def test_media_must_be_a_supported_type_and_size(w: World) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{BASE}/{w.number.id}/media"
    gif = await w.http.post(
        url,
        data={"messaging_product": "whatsapp", "type": "image/gif"},
        files={"file": ("a.gif", b"GIF89a", "image/gif")},
        headers=headers,
    )
    assert code(gif) == 131053
    big = await w.http.post(
        url,
        data={"messaging_product": "whatsapp", "type": "image/png"},
        files={"file": ("a.png", b"\x89PNG" + b"\x00" * 5_000_000, "image/png")},
        headers=headers,
    )
    assert code(big) == 131053
    ok = await w.http.post(
        url,
        data={"messaging_product": "whatsapp", "type": "image/png"},
        files={"file": ("a.png", b"\x89PNG", "image/png")},
        headers=headers,
    )
    media_id = ok.json()["id"]
    w.open_windows(ALICE)
    as_video = await send(w, {"to": ALICE, "type": "video", "video": {"id": media_id}})
    assert code(as_video) == 131053
    long_caption = {"id": media_id, "caption": "c" * 1025}
    assert code(await send(w, {"to": ALICE, "type": "image", "image": long_caption})) == 100
