"""Threads' errors: every documented Graph error object maps to the right class (a table:
answer -> class), through the adapter as well as alone; then deleting, and the 24-hour
publishing quota read at compose time."""

from __future__ import annotations

import httpx
import pytest

from providers.base import PostContent, Processing, PublishResult, Severity
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.threads_api import DEFAULT_RATE_LIMIT_WAIT, NotFound, graph_error
from tests.fakes import threads_wire as wire
from tests.unit.providers.threads_support import KEY, account_for, world

SECRET = "THLL-SECRET-0123456789"


def answer(status: int, error: dict[str, object], **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error}, headers=headers)


@pytest.mark.parametrize(
    ("response", "error", "said"),
    [
        (wire.invalid_token(), AuthError, "Cannot parse access token"),
        (wire.invalid_token(expired=True), AuthError, "Session has expired"),
        (answer(401, {"message": "Malformed access token", "code": 190}), AuthError, ""),
        (wire.no_permission(), AuthError, "permission"),
        (answer(403, {"message": "(#200) Permissions error", "code": 200}), AuthError, ""),
        (httpx.Response(401, text="<html>Unauthorized</html>"), AuthError, ""),
        (
            answer(400, {"message": "(#4) Application request limit reached", "code": 4}),
            RateLimited,
            "",
        ),
        (answer(400, {"message": "(#17) User request limit reached", "code": 17}), RateLimited, ""),
        (answer(400, {"message": "(#32) Page request limit reached", "code": 32}), RateLimited, ""),
        (answer(400, {"message": "(#613) Calls exceeded", "code": 613}), RateLimited, ""),
        (answer(400, {"message": "(#80002) Too many calls", "code": 80002}), RateLimited, ""),
        (httpx.Response(429, text="slow down"), RateLimited, ""),
        (wire.limit_reached("posts"), RateLimited, "maximum number of posts"),
        (answer(500, {"message": "An unknown error occurred", "code": 1}), TransientError, ""),
        (
            answer(400, {"message": "Service temporarily unavailable", "code": 2}),
            TransientError,
            "",
        ),
        (
            answer(400, {"message": "Try again", "code": 100, "is_transient": True}),
            TransientError,
            "Try again",
        ),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), TransientError, ""),
        (wire.media_not_found("123"), NotFound, "cannot be found"),
        (wire.does_not_exist("123", "delete"), NotFound, "does not exist"),
        (
            answer(
                400,
                {"message": "Error validating client secret.", "type": "OAuthException", "code": 1},
            ),
            PermanentError,
            "client secret",
        ),
        (wire.invalid_parameter("The post's text is too long."), PermanentError, "too long"),
        (
            wire.invalid_parameter(
                "Posts can have at most 5 links.", title="THREADS_API__LINK_LIMIT_EXCEEDED"
            ),
            PermanentError,
            "at most 5 links",
        ),
        (httpx.Response(400, text="<html>Bad Request</html>"), PermanentError, ""),
    ],
)
def test_graph_errors_map_to_the_error_classes(
    response: httpx.Response, error: type[Exception], said: str
) -> None:
    found = graph_error(response, secrets=[SECRET])
    assert type(found) is error
    assert said in found.message
    assert found.http_status == response.status_code


def test_a_rate_limit_waits_as_told_or_a_quarter_of_an_hour() -> None:
    told = answer(400, {"message": "(#4) limit", "code": 4}, **{"Retry-After": "42"})
    assert graph_error(told, secrets=[]).retry_after == 42.0  # type: ignore[attr-defined]
    untold = answer(400, {"message": "(#4) limit", "code": 4})
    assert graph_error(untold, secrets=[]).retry_after == DEFAULT_RATE_LIMIT_WAIT  # type: ignore[attr-defined]


def test_a_token_in_the_platform_message_is_redacted() -> None:
    leaky = answer(400, {"message": f"Bad token {SECRET}", "code": 190})
    assert SECRET not in str(graph_error(leaky, secrets=[SECRET]))


@pytest.mark.parametrize(
    ("failure", "error", "ambiguous"),
    [
        (wire.invalid_parameter("Not today."), PermanentError, False),
        (wire.invalid_token(), AuthError, False),
        (httpx.ConnectError("refused"), TransientError, False),
        # Making a container publishes nothing: a lost answer is not ambiguous.
        (httpx.ReadTimeout("slow"), TransientError, False),
    ],
)
async def test_a_failure_before_anything_was_made_raises(
    failure: httpx.Response | Exception, error: type[Exception], ambiguous: bool
) -> None:
    async with world() as w:
        w.fake.fail_next("POST /threads", failure)
        with pytest.raises(error) as raised:
            await w.provider.publish(PostContent(text="Hi"), w.account, KEY)
        if isinstance(raised.value, TransientError):
            assert raised.value.ambiguous is ambiguous
        assert w.account.credentials["access_token"] not in str(raised.value)
        assert w.fake.live_posts() == []


async def test_a_post_whose_link_threads_wont_give_is_still_published() -> None:
    async with world() as w:
        w.fake.fail_next("GET /{id}", wire.does_not_exist("1"), skip=1)  # the permalink
        result = await w.provider.publish(PostContent(text="Hi"), w.account, KEY)
        assert isinstance(result, PublishResult)
        assert result.url is None
        assert "didn't give its link" in result.notes[0]


# -- deleting ----------------------------------------------------------------------------------


async def test_delete_removes_every_part_the_last_reply_first() -> None:
    async with world() as w:
        post = PostContent(text="one", thread=("two", "three"))
        result = await w.provider.publish(post, w.account, KEY)
        assert isinstance(result, PublishResult)
        ids = list(result.ref["media_ids"])
        await w.provider.delete(result, w.account)
        deletes = w.fake.calls("DELETE /{id}")
        assert [r.url.path for r in deletes] == [f"/v1.0/{i}" for i in reversed(ids)]
        assert dict(deletes[0].url.params) == {
            "access_token": w.account.credentials["access_token"]
        }
        assert w.fake.live_posts() == []
        await w.provider.delete(result, w.account)  # already gone: still fine


async def test_delete_of_a_result_without_a_ref_deletes_the_first_post() -> None:
    async with world() as w:
        result = await w.provider.publish(PostContent(text="one"), w.account, KEY)
        assert isinstance(result, PublishResult)
        await w.provider.delete(PublishResult(platform_id=result.platform_id), w.account)
        assert w.fake.live_posts() == []


async def test_delete_without_the_delete_permission_asks_to_reconnect() -> None:
    async with world() as w:
        result = await w.provider.publish(PostContent(text="one"), w.account, KEY)
        assert isinstance(result, PublishResult)
        limited = w.fake.issue_token(w.user, ("threads_basic", "threads_content_publish"))
        with pytest.raises(AuthError, match="permission"):
            await w.provider.delete(result, account_for(limited, w.user))


async def test_edit_is_not_offered() -> None:
    async with world() as w:
        declared = w.provider.after_publish_for(w.account)
        assert (declared.can_delete, declared.can_edit, declared.can_lookup) == (
            True,
            False,
            False,
        )
        result = await w.provider.publish(PostContent(text="one"), w.account, KEY)
        assert isinstance(result, PublishResult)
        with pytest.raises(PermanentError, match="delete it and post it again"):
            await w.provider.edit(result, PostContent(text="two"), w.account)
        assert await w.provider.lookup(PostContent(text="one"), w.account, KEY) is None


# -- the 24-hour quota -------------------------------------------------------------------------


async def test_the_quota_is_read_at_compose_time() -> None:
    async with world() as w:
        post = PostContent(text="Next")
        assert await w.provider.validate_live(post, w.account) == []
        [request] = w.fake.calls("GET /threads_publishing_limit")
        assert dict(request.url.params)["fields"] == "quota_usage,config"
        for n in range(250):
            await w.provider.publish(PostContent(text=f"Post {n}"), w.account, KEY)
        [problem] = await w.provider.validate_live(post, w.account)
        assert (problem.code, problem.severity) == ("quota_used_up", Severity.WARNING)
        assert "published 250 posts" in problem.message
        # And Threads itself refuses to publish the next one: a rate limit, so the post
        # waits, its container kept for later.
        step = await w.provider.publish(post, w.account, KEY)
        assert isinstance(step, Processing)
        assert step.retry_after == DEFAULT_RATE_LIMIT_WAIT
        with pytest.raises(RateLimited):
            await w.provider.poll(step.handle, post, w.account, KEY)
        w.clock.advance(24 * 3600)
        assert await w.provider.validate_live(post, w.account) == []
        assert isinstance(await w.provider.poll(step.handle, post, w.account, KEY), PublishResult)
        # A day later the kept container had expired too, so it was made again.
        assert len(w.fake.calls("POST /threads")) == 252
        assert len(w.fake.live_posts()) == 251


async def test_a_thread_also_reads_the_reply_quota() -> None:
    async with world() as w:
        await w.provider.validate_live(PostContent(text="a", thread=("b",)), w.account)
        [request] = w.fake.calls("GET /threads_publishing_limit")
        assert dict(request.url.params)["fields"] == (
            "quota_usage,config,reply_quota_usage,reply_config"
        )


async def test_the_quota_check_never_fails_the_compose() -> None:
    async with world() as w:
        w.fake.fail_next("GET /threads_publishing_limit", httpx.ConnectError("down"))
        assert await w.provider.validate_live(PostContent(text="a"), w.account) == []
