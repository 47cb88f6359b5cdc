"""Graph API error objects -> provider errors, as a table (request's answer -> class and what
the user reads), after Meta's "Handling Errors" and Instagram's "Error Codes"."""

from __future__ import annotations

import json

import httpx
import pytest

from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.meta_errors import error_for, graph_error, regain_seconds
from tests.fakes.meta_world import error

SECRET = "EAAG-SECRET-page-token"


def usage(minutes: int) -> dict[str, str]:
    body = {
        "1234": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": minutes}]
    }
    return {"X-Business-Use-Case-Usage": json.dumps(body)}


CASES = [
    # (answer, class, words the message has)
    (
        error(400, 190, "Error validating access token: Session has expired", subcode=463),
        AuthError,
        "sign-in expired",
    ),
    (
        error(400, 190, "Error validating access token", subcode=460),
        AuthError,
        "password was changed",
    ),
    (
        error(400, 190, "Invalid OAuth access token - Cannot parse access token"),
        AuthError,
        "Connect the account again",
    ),
    (error(400, 102, "Session key invalid"), AuthError, "Connect the account again"),
    (
        error(403, 200, "(#200) Requires pages_manage_posts permission to manage the object"),
        AuthError,
        "pages_manage_posts",
    ),
    (
        error(403, 10, "(#10) Application does not have permission for this action"),
        AuthError,
        "a permission",
    ),
    (error(400, 4, "Application request limit reached", transient=True), RateLimited, "slow down"),
    (error(400, 17, "User request limit reached"), RateLimited, "slow down"),
    (error(400, 32, "Page request limit reached"), RateLimited, "slow down"),
    (error(400, 613, "Calls to this api have exceeded the rate limit."), RateLimited, "slow down"),
    (
        error(400, 80001, "There have been too many calls to this Page account.", headers=usage(7)),
        RateLimited,
        "slow down",
    ),
    (
        error(400, 80002, "There have been too many calls to this Instagram account."),
        RateLimited,
        "slow down",
    ),
    (
        error(
            400,
            368,
            "The action attempted has been deemed abusive or is otherwise disallowed",
            subcode=1390008,
        ),
        RateLimited,
        "temporarily blocked",
    ),
    (
        error(400, 9, "Application request limit reached", subcode=2207042),
        RateLimited,
        "limit of posts per 24 hours",
    ),
    (
        error(400, 9004, "Only photo or video can be accepted as media type.", subcode=2207052),
        TransientError,
        "PUBLIC_URL must be",
    ),
    (
        error(400, 9004, "Only photo or video can be accepted as media type."),
        PermanentError,
        "PUBLIC_URL",
    ),
    (
        error(400, 36003, "The aspect ratio is not supported.", subcode=2207009),
        PermanentError,
        "4:5 to 1.91:1",
    ),
    (error(400, 36003, "The aspect ratio is not supported."), PermanentError, "4:5 to 1.91:1"),
    (error(400, 36001, "Invalid image resolution"), PermanentError, "refused the media"),
    (
        error(400, 100, "Unsupported video", subcode=2207026),
        PermanentError,
        "doesn't take this video",
    ),
    (error(400, 100, "Image too large", subcode=2207004), PermanentError, "8 MB"),
    (error(400, 100, "Caption too long", subcode=2207010), PermanentError, "2,200"),
    (error(400, 9007, "Media ID is not available", subcode=2207027), TransientError, "isn't done"),
    (error(400, 100, "(#100) Invalid parameter", subcode=1366046), PermanentError, "4 MB"),
    (error(400, 506, "Duplicate status message"), PermanentError, "duplicate"),
    (error(500, 1, "An unknown error occurred"), TransientError, "temporary problem"),
    (
        error(
            500,
            2,
            "An unexpected error has occurred. Please retry your request later.",
            transient=True,
        ),
        TransientError,
        "temporary problem",
    ),
    (
        error(400, 100, f"(#100) Param message must be a string {SECRET}"),
        PermanentError,
        "refused the post",
    ),
    (httpx.Response(502, text="<html>Bad Gateway</html>"), TransientError, "server error"),
    (httpx.Response(503, text="down"), TransientError, "server error"),
    (httpx.Response(401, text="no"), AuthError, "credentials"),
    (httpx.Response(429, headers={"Retry-After": "12"}), RateLimited, ""),
    (httpx.Response(400, text="nope"), PermanentError, "refused the request"),
]


@pytest.mark.parametrize(("answer", "kind", "words"), CASES)
def test_graph_errors_map_to_provider_errors(
    answer: httpx.Response, kind: type[Exception], words: str
) -> None:
    raised = error_for(answer, platform="Facebook", secrets=[SECRET])
    assert type(raised) is kind
    assert words in str(raised)
    assert SECRET not in str(raised)
    assert raised.http_status == answer.status_code


def test_the_usage_headers_say_how_long_to_wait() -> None:
    assert (
        error_for(error(400, 80001, "x", headers=usage(7)), platform="Facebook").retry_after == 420
    )  # type: ignore[attr-defined]
    app = {"X-App-Usage": json.dumps({"call_count": 100, "estimated_time_to_regain_access": 3})}
    assert regain_seconds(error(400, 4, "x", headers=app)) == 180
    both = {**usage(2), "X-Page-Usage": json.dumps({"estimated_time_to_regain_access": 9})}
    assert regain_seconds(error(400, 32, "x", headers=both)) == 540
    assert regain_seconds(error(400, 4, "x")) is None
    # Without a header: five minutes; a 0 in the header still waits a second.
    assert error_for(error(400, 17, "x"), platform="Facebook").retry_after == 300  # type: ignore[attr-defined]
    assert error_for(error(400, 32, "x", headers=usage(0)), platform="Facebook").retry_after == 1  # type: ignore[attr-defined]


def test_the_error_object_is_read_whole() -> None:
    parsed = graph_error(
        error(
            400,
            100,
            "(#100) nope",
            subcode=33,
            user_title="T",
            user_msg="Say this",
            transient=False,
        )
    )
    assert parsed is not None
    assert (parsed.code, parsed.subcode, parsed.user_message, parsed.gone) == (
        100,
        33,
        "Say this",
        True,
    )
    assert parsed.fbtrace_id.startswith("A")
    assert graph_error(httpx.Response(200, json={"id": "1"})) is None
    assert graph_error(httpx.Response(400, text="<html>")) is None
    # The user-facing message wins over the developer one where Meta gives both.
    said = error_for(
        error(400, 100, "(#100) dev text", user_msg="Your post is too long"), platform="Instagram"
    )
    assert "Your post is too long" in str(said)
