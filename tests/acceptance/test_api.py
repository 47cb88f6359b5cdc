"""The REST API through real HTTP on 127.0.0.1, against the unmodified app: every route with
a valid token, read-only tokens refused on writes, revoked tokens refused at once, other
people's ids answering 404 like unknown ones, Idempotency-Key replay and conflict, a 10 MB
upload that is no image, and a post made through the API published by the engine with its
DM on the fake Telegram."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.accounts import api_tokens
from bot.app import Crier
from bot.config import Settings
from tests.acceptance.api_helpers import api_settings, client, token_for
from tests.acceptance.conftest import Person, buttons, jpeg, to_preview
from tests.acceptance.test_alerts import scripted_account
from tests.acceptance.test_compose_flow import CHANNEL, connect_channel
from tests.fakes.scripted_provider import ScriptedProvider
from tests.fakes.telegram_api import FakeTelegram

PROBLEM = "application/problem+json"


@pytest.fixture
async def crier(make_settings: Callable[..., Settings]) -> AsyncIterator[Crier]:
    async with Crier(api_settings(make_settings)) as app:
        yield app


async def post_json(api: Any, body: dict[str, Any], **headers: str) -> Any:
    return await api.post("/posts", json=body, headers=headers)


async def test_a_token_made_in_the_chat_works_is_shown_once_and_is_refused_once_revoked(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    screen = await alice.says("/api", "API tokens")
    assert "no tokens yet" in screen["text"]
    asked = await alice.presses(screen, "➕ New token", "What may it do")
    named = await alice.presses(asked, "👁 Read only", "Send its name")
    shown = await alice.says("n8n", "Your token")
    token = re.search(r"crier_[A-Za-z0-9_-]{40,}", shown["text"])
    assert token is not None
    async with client(crier, token.group()) as api:
        accounts = await api.get("/accounts")
        assert accounts.status_code == 200
        assert accounts.json()["items"][0]["label"] == "Dry run"
        refused = await post_json(api, {"text": "hi", "account_ids": [1]})
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith(PROBLEM)
        assert "read-only" in refused.json()["detail"]

        hidden = await alice.presses(shown, "✅ I saved it", "no longer shown")
        assert token.group() not in hidden["text"]
        assert not any(token.group() in (m.get("text") or "") for m in tg.sent(alice.user))
        assert "n8n" in hidden["text"]
        assert "👁 read" in hidden["text"]
        assert "last used" in hidden["text"]
        assert "never" not in hidden["text"]

        revoked = await alice.presses(hidden, "🗑 Revoke n8n", "You have no tokens yet")
        assert "Revoke" not in " ".join(buttons(revoked))
        after = await api.get("/accounts")
        assert after.status_code == 401
        assert after.headers["content-type"].startswith(PROBLEM)
        assert after.headers["www-authenticate"].startswith("Bearer")
    assert named  # the scope question led to the name question
    async with client(crier, None) as api:
        assert (await api.get("/accounts")).status_code == 401
    async with client(crier, "crier_" + "x" * 43) as api:
        assert (await api.get("/accounts")).status_code == 401


async def test_every_route_with_a_valid_token(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    async with client(crier, await token_for(crier, alice)) as api:
        [account] = (await api.get("/accounts")).json()["items"]
        uploaded = await api.post(
            "/media",
            files={"file": ("sunset.jpg", jpeg(), "image/jpeg")},
            data={"alt_text": "An orange square"},
        )
        assert uploaded.status_code == 201, uploaded.text
        media = uploaded.json()
        assert (media["kind"], media["width"], media["alt_text"]) == (
            "photo",
            640,
            "An orange square",
        )

        made = await post_json(
            api,
            {
                "text": "Hello from a script",
                "media_ids": [media["id"]],
                "account_ids": [account["id"]],
                "time": "tomorrow 9am",
                "alt_text": {str(media["id"]): "Orange, square"},
            },
        )
        assert made.status_code == 201, made.text
        post = made.json()
        assert made.headers["location"] == f"/api/v1/posts/{post['id']}"
        assert post["publish_at"].endswith("T09:00:00Z")
        assert post["media"][0]["alt_text"] == "Orange, square"
        assert [t["status"] for t in post["targets"]] == ["queued"]

        exact = await post_json(
            api,
            {"text": "Exact", "account_ids": [account["id"]], "time": "2028-01-02T10:00:00+02:00"},
        )
        assert exact.json()["publish_at"] == "2028-01-02T08:00:00Z"
        weekly = await post_json(
            api,
            {
                "text": "Weekly",
                "account_ids": [account["id"]],
                "time": "2028-01-03T09:00:00Z",
                "repeat": "FREQ=WEEKLY;BYDAY=MO",
            },
        )
        assert weekly.status_code == 201, weekly.text
        assert weekly.json()["repeat"] == "FREQ=WEEKLY;BYDAY=MO"

        got = await api.get(f"/posts/{post['id']}")
        assert got.status_code == 200
        assert got.json() == post

        first = await api.get("/posts", params={"limit": 2})
        assert [p["id"] for p in first.json()["items"]] == [weekly.json()["id"], exact.json()["id"]]
        rest = await api.get("/posts", params={"limit": 2, "cursor": first.json()["next_cursor"]})
        assert [p["id"] for p in rest.json()["items"]] == [post["id"]]
        assert rest.json()["next_cursor"] is None
        ranged = await api.get(
            "/posts",
            params={"since": "2028-01-01T00:00:00Z", "until": "2028-01-03T00:00:00Z"},
        )
        assert [p["id"] for p in ranged.json()["items"]] == [exact.json()["id"]]
        queued = await api.get("/posts", params={"status": "queued", "account_id": account["id"]})
        assert len(queued.json()["items"]) == 3
        assert (await api.get("/posts", params={"status": "published"})).json()["items"] == []

        patched = await api.patch(
            f"/posts/{post['id']}", json={"text": "Hello, edited", "time": "2028-03-01T12:00:00Z"}
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["text"] == "Hello, edited"
        assert patched.json()["targets"][0]["publish_at"] == "2028-03-01T12:00:00Z"

        nothing = await api.post(f"/posts/{post['id']}/retry")
        assert nothing.status_code == 409
        assert nothing.headers["content-type"].startswith(PROBLEM)

        now = await api.post(f"/posts/{exact.json()['id']}/publish-now")
        assert now.status_code == 200
        assert now.json()["changed"] == 1

        next_one = await api.delete(f"/posts/{weekly.json()['id']}", params={"scope": "next"})
        assert next_one.status_code == 200, next_one.text
        assert next_one.json()["series_stopped"] is False
        cancelled = await api.delete(f"/posts/{post['id']}")
        assert cancelled.status_code == 200
        assert cancelled.json()["post"]["status"] == "cancelled"
        assert (await api.delete(f"/posts/{post['id']}")).status_code == 409

    # Made through the API, listed in the chat's /list like any other post.
    listing = await alice.says("/list", "Hello, edited")
    assert "Exact" in listing["text"] or "Weekly" in listing["text"]


async def test_read_only_tokens_are_refused_on_every_write(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    async with client(crier, await token_for(crier, alice, api_tokens.READ)) as api:
        assert (await api.get("/posts")).status_code == 200
        writes = [
            api.post("/posts", json={"text": "x", "account_ids": [1]}),
            api.post("/media", files={"file": ("a.jpg", jpeg(), "image/jpeg")}),
            api.patch("/posts/1", json={"text": "x"}),
            api.delete("/posts/1"),
            api.post("/posts/1/retry"),
            api.post("/posts/1/publish-now"),
        ]
        for answer in await asyncio.gather(*writes):
            assert answer.status_code == 403, answer.text
            assert answer.json()["type"].endswith("read-only-token")


async def test_another_users_ids_answer_404_exactly_like_unknown_ones(
    crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    async with client(crier, await token_for(crier, alice)) as api:
        mine = (
            await post_json(api, {"text": "Alice's", "account_ids": [1], "time": "tomorrow 9am"})
        ).json()
    unknown = 999_999
    async with client(crier, await token_for(crier, bob)) as api:
        for post_id in (mine["id"], unknown):
            answers = [
                await api.get(f"/posts/{post_id}"),
                await api.patch(f"/posts/{post_id}", json={"text": "Bob's now"}),
                await api.delete(f"/posts/{post_id}"),
                await api.post(f"/posts/{post_id}/retry"),
                await api.post(f"/posts/{post_id}/publish-now"),
            ]
            for answer in answers:
                assert answer.status_code == 404, answer.text
                assert answer.headers["content-type"].startswith(PROBLEM)
                body = answer.json()
                assert body["detail"] == f"There is no post {post_id} among yours."
        # Alice's account and media ids are no more Bob's to use than to read.
        theirs = await post_json(
            api, {"text": "x", "account_ids": [mine["targets"][0]["account_id"]]}
        )
        assert theirs.status_code == 422
        bobs = (await api.get("/posts")).json()["items"]
        assert bobs == []
    async with client(crier, await token_for(crier, alice)) as api:
        still = (await api.get(f"/posts/{mine['id']}")).json()
        assert still["text"] == "Alice's"
        assert still["status"] == "scheduled"


async def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    body = {"text": "Once only", "account_ids": [1], "time": "tomorrow 9am"}
    async with client(crier, await token_for(crier, alice)) as api:
        first = await post_json(api, body, **{"Idempotency-Key": "k-1"})
        again = await post_json(api, body, **{"Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers.get("idempotent-replayed") == "true"
        other = await post_json(api, {**body, "text": "Twice?"}, **{"Idempotency-Key": "k-1"})
        assert other.status_code == 422
        assert other.json()["type"].endswith("idempotency-key-reused")
        fresh = await post_json(api, body, **{"Idempotency-Key": "k-2"})
        assert fresh.json()["id"] != first.json()["id"]
        listed = (await api.get("/posts")).json()["items"]
        assert len(listed) == 2  # the replay made no third post


async def test_a_10_mb_upload_that_is_no_image_is_refused_with_a_clear_problem(
    crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    blob = os.urandom(10 * 1024 * 1024)
    async with client(crier, await token_for(crier, alice)) as api:
        claimed = await api.post("/media", files={"file": ("photo.jpg", blob, "image/jpeg")})
        assert claimed.status_code == 422, claimed.text
        assert claimed.headers["content-type"].startswith(PROBLEM)
        problem = claimed.json()
        assert problem["title"] == "The file can't be used"
        assert "JPEG" in problem["detail"]
        unclaimed = await api.post(
            "/media", files={"file": ("data.bin", blob, "application/octet-stream")}
        )
        assert unclaimed.status_code == 422
        assert "not a photo or a video" in unclaimed.json()["detail"]
        assert "10.5 MB" in unclaimed.json()["detail"]
    leftovers = list((crier.settings.media_dir / ".incoming").glob("*"))
    assert leftovers == []


async def test_an_api_post_is_published_by_the_engine_and_its_owner_gets_the_dm(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    async with client(crier, await token_for(crier, alice)) as api:
        made = await post_json(api, {"text": "Straight out", "account_ids": [1], "time": "now"})
        assert made.status_code == 201
        post_id = made.json()["id"]
        dm = await tg.wait_for(alice.user, f"Post #{post_id} is out", timeout=10)
        assert "Dry run — done" in dm["text"]
        done = (await api.get(f"/posts/{post_id}")).json()
        [target] = done["targets"]
        assert target["status"] == "published"
        assert target["attempts"] == 1
        assert [a["outcome"] for a in target["history"]] == ["published"]

        quiet = await post_json(
            api, {"text": "Quietly", "account_ids": [1], "time": "now", "notify": False}
        )
        quiet_id = quiet.json()["id"]

        async def published() -> bool:
            answer = (await api.get(f"/posts/{quiet_id}")).json()
            return answer["targets"][0]["status"] == "published"

        for _ in range(200):
            if await published():
                break
            await asyncio.sleep(0.05)
        assert await published()
        await asyncio.sleep(1.5)  # the notifier's sweep would have sent a DM by now
        assert not any(f"Post #{quiet_id}" in (m.get("text") or "") for m in tg.sent(alice.user))


async def test_validation_problems_are_listed_with_the_chat_s_words(
    crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    async with client(crier, await token_for(crier, alice)) as api:
        empty = await post_json(api, {"text": "", "account_ids": [1]})
        assert empty.status_code == 422
        assert empty.json()["detail"] == "The post is empty: give it some text or media."
        past = await post_json(
            api, {"text": "x", "account_ids": [1], "time": "2020-01-01T00:00:00Z"}
        )
        assert past.status_code == 422
        assert past.json()["errors"][0]["field"] == "time"
        words = await post_json(api, {"text": "x", "account_ids": [1], "time": "when pigs fly"})
        assert words.status_code == 422
        assert "time" in words.json()["detail"]
        rule = await post_json(api, {"text": "x", "account_ids": [1], "repeat": "FREQ=SOMETIMES"})
        assert rule.status_code == 422
        shape = await api.post("/posts", json={"text": 5})
        assert shape.status_code == 422
        assert shape.headers["content-type"].startswith(PROBLEM)
        assert {e["field"] for e in shape.json()["errors"]} >= {"account_ids", "text"}


async def test_too_many_requests_answer_429_with_retry_after(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = api_settings(make_settings, api_rate_per_minute=6, api_burst=3)
    async with Crier(settings) as app:
        await alice.says("/start", "Crier")
        async with client(app, await token_for(app, alice)) as api:
            answers = [await api.get("/accounts") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1
        assert answers[-1].headers["content-type"].startswith(PROBLEM)


async def test_an_admin_can_turn_a_user_s_api_access_off_and_on(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bob: Person
) -> None:
    async with Crier(api_settings(make_settings, admin_ids=[alice.id])) as app:
        await alice.says("/start", "Crier")
        await bob.says("/start", "Crier")
        async with client(app, await token_for(app, bob)) as api:
            assert (await api.get("/accounts")).status_code == 200
            await alice.says(f"/apiaccess {bob.id} off", "API access of")
            off = await api.get("/accounts")
            assert off.status_code == 403
            assert "admin turned off API access" in off.json()["detail"]
            users = await alice.says("/users", "Users")
            assert "🔌 API off" in users["text"]
            await alice.says(f"/apiaccess {bob.id} on", "can use the API again")
            assert (await api.get("/accounts")).status_code == 200


async def test_the_docs_page_and_its_files_come_from_crier(crier: Crier, alice: Person) -> None:
    async with client(crier) as web:
        page = await web.get("/docs")
        assert page.status_code == 200
        assert "https://" not in page.text  # nothing from a CDN
        for asset in re.findall(r'(?:href|src)="(/api/v1/docs/assets/[^"]+)"', page.text):
            fetched = await web.get(asset.removeprefix("/api/v1"))
            assert fetched.status_code == 200
            assert fetched.content
        document = (await web.get("/openapi.json")).json()
    assert set(document["paths"]) == {
        "/accounts",
        "/media",
        "/posts",
        "/posts/{post_id}",
        "/posts/{post_id}/retry",
        "/posts/{post_id}/publish-now",
    }
    assert document["components"]["schemas"]["PostIn"]["properties"]["time"]["examples"]


async def test_each_account_s_problems_come_in_the_words_of_the_chat_preview(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    text = "A long one. " * 500  # over Telegram's 4,096 characters for a message
    status = await alice.says(text.strip(), "New post")
    steps = await to_preview(alice, status, accounts="@news", when="Tomorrow 09:00")
    async with client(crier, await token_for(crier, alice)) as api:
        accounts = {a["label"]: a["id"] for a in (await api.get("/accounts")).json()["items"]}
        refused = await post_json(
            api, {"text": text.strip(), "account_ids": [accounts["@news"]], "time": "tomorrow 9am"}
        )
    assert refused.status_code == 422
    [problem] = refused.json()["errors"]
    assert problem["account_id"] == accounts["@news"]
    message = problem["message"].removeprefix("@news: ")
    assert message in steps.preview["text"]
    assert (await api_posts(crier, alice)) == []


async def api_posts(crier: Crier, person: Person) -> list[Any]:
    async with client(crier, await token_for(crier, person, api_tokens.READ)) as api:
        return list((await api.get("/posts")).json()["items"])


async def test_the_api_on_each_database(
    tg: FakeTelegram, make_settings: Callable[..., Settings], database_url: str, alice: Person
) -> None:
    """Tokens, Idempotency-Key records and the post listing on SQLite and PostgreSQL."""
    async with Crier(api_settings(make_settings, database_url=database_url)) as app:
        await alice.says("/start", "Crier")
        body = {"text": "On each backend", "account_ids": [1], "time": "tomorrow 9am"}
        async with client(app, await token_for(app, alice)) as api:
            first = await post_json(api, body, **{"Idempotency-Key": "same"})
            again = await post_json(api, body, **{"Idempotency-Key": "same"})
            other = await post_json(api, {**body, "text": "else"}, **{"Idempotency-Key": "same"})
            assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
            assert again.json() == first.json()
            listed = await api.get("/posts", params={"status": "queued", "account_id": 1})
            assert [p["id"] for p in listed.json()["items"]] == [first.json()["id"]]
            assert (await api.delete(f"/posts/{first.json()['id']}")).status_code == 200


async def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(api_settings(make_settings, api_upload_max_bytes=200_000)) as app:
        await alice.says("/start", "Crier")
        async with client(app, await token_for(app, alice)) as api:
            big = jpeg(2000, 2000, "navy") + os.urandom(300_000)
            answer = await api.post("/media", files={"file": ("big.jpg", big, "image/jpeg")})
            assert answer.status_code == 413
            assert answer.json()["detail"] == "Uploads may be at most 0.2 MB."
            small = await api.post("/media", files={"file": ("a.jpg", jpeg(), "image/jpeg")})
            assert small.status_code == 201


async def test_a_failed_post_is_retried_through_the_api_and_goes_out(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    platform = ScriptedProvider(["400"])  # refused for good, until the platform is fixed
    async with Crier(api_settings(make_settings), providers=[platform]) as app:
        await alice.says("/start", "Crier")
        account_id = await scripted_account(app, alice.id)
        async with client(app, await token_for(app, alice)) as api:
            made = await post_json(api, {"text": "Try me", "account_ids": [account_id]})
            post_id = made.json()["id"]
            await tg.wait_for(alice.user, f"#{post_id}", timeout=10)
            failed = (await api.get(f"/posts/{post_id}")).json()["targets"][0]
            assert failed["status"] == "failed"
            assert failed["error"]
            listed = await api.get("/posts", params={"status": "failed"})
            assert [p["id"] for p in listed.json()["items"]] == [post_id]

            platform.script = ["ok"]
            retried = await api.post(f"/posts/{post_id}/retry")
            assert retried.status_code == 200
            assert retried.json()["changed"] == 1
            await tg.wait_for(alice.user, f"Post #{post_id} is out", timeout=10)
            done = (await api.get(f"/posts/{post_id}")).json()["targets"][0]
            assert done["status"] == "published"
            assert [a["outcome"] for a in done["history"]][-1] == "published"


async def test_what_a_platform_says_only_when_asked_refuses_the_post_too(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    """The preview's live check: an admin took the bot's right to post after connect."""
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    tg.chats[CHANNEL].bot_can_post = False
    async with client(crier, await token_for(crier, alice)) as api:
        accounts = {a["label"]: a["id"] for a in (await api.get("/accounts")).json()["items"]}
        refused = await post_json(api, {"text": "Hello", "account_ids": [accounts["@news"]]})
        assert refused.status_code == 422
        [problem] = refused.json()["errors"]
        assert problem["code"] == "cannot_post"
        assert problem["message"].startswith("@news: I can't post in News any more")
        assert (await api.get("/posts")).json()["items"] == []


async def test_the_api_screen_leads_to_the_webhook_screen(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    screen = await alice.says("/api", "API tokens")
    assert "🪝 Webhook" in buttons(screen)
    webhook = await alice.presses(screen, "🪝 Webhook", "Webhook")
    assert "No URL set" in webhook["text"]
    assert "✏️ Set URL" in buttons(webhook)
