"""Every documented Pinterest error, on every call the adapter makes, mapped to the right
provider error (a table: call, canned answer, expected class and words), plus the fake's
own limits answering as Pinterest would."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, Processing
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.pinterest import PinterestProvider
from providers.pinterest_errors import rate_limit_wait
from tests.contract.harness import TINY_JPEG
from tests.fakes.pinterest import FakePinterest
from tests.fakes.pinterest_storage import UPLOAD_URL

TOKEN = "pina_SECRET-token-for-errors-0123456789"
KEY = "target-3"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
async def setup(router: respx.MockRouter) -> AsyncIterator[tuple[FakePinterest, PinterestProvider]]:
    fake = FakePinterest()
    fake.add_board("Recipes")
    fake.issue_token(token=TOKEN)
    router.route(host="api.pinterest.com").mock(side_effect=fake)
    router.route(url__startswith=UPLOAD_URL).mock(side_effect=fake)
    async with httpx.AsyncClient() as http:
        yield fake, PinterestProvider(http)


def account(fake: FakePinterest) -> AccountRef:
    return AccountRef(
        id=1,
        platform="pinterest",
        label="crier / Recipes",
        config={"board_id": fake.boards[0].id, "board_name": "Recipes"},
        credentials={"access_token": TOKEN},
    )


def photo_post(tmp_path: Path) -> PostContent:
    path = tmp_path / "tiny.jpg"
    path.write_bytes(TINY_JPEG)
    item = MediaFile(kind=MediaKind.PHOTO, mime="image/jpeg", size=len(TINY_JPEG), path=path)
    return PostContent(text="Hello", media=(item,))


def video_post(tmp_path: Path) -> PostContent:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    item = MediaFile(kind=MediaKind.VIDEO, mime="video/mp4", size=88, path=path, duration=6.0)
    return PostContent(text="Clip", media=(item,))


async def run(call: str, fake: FakePinterest, provider: PinterestProvider, tmp: Path) -> object:
    """Drive the adapter to the call named (the canned answer is queued for it)."""
    if call in ("create", "create pin"):
        return await provider.publish(photo_post(tmp), account(fake), KEY)
    if call in ("register", "upload"):
        return await provider.publish(video_post(tmp), account(fake), KEY)
    if call == "poll":
        return await provider.poll(
            {"media_id": "42", "polls": 0}, video_post(tmp), account(fake), KEY
        )
    if call == "verify":
        return await provider.verify(account(fake))
    raise AssertionError(call)


_PATHS = {
    "create": ("POST", "/v5/pins"),
    "register": ("POST", "/v5/media"),
    "poll": ("GET", "/v5/media/42"),
    "verify": ("GET", "/v5/user_account"),
    "upload": ("POST", "/"),
}


def pinterest(status: int, code: int, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message}, headers=headers)


def s3(status: int, code: str, message: str) -> httpx.Response:
    xml = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return httpx.Response(status, text=xml, headers={"content-type": "application/xml"})


@dataclass
class Case:
    id: str
    call: str
    #: The canned answer; a function makes it when the test runs (a reset time from now).
    answer: httpx.Response | Exception | Callable[[], httpx.Response]
    error: type[Exception]
    words: str = ""
    retry_after: float | None = None
    ambiguous: bool | None = None


CASES = [
    Case(
        "401",
        "create",
        pinterest(401, 2, "Authentication failed."),
        AuthError,
        "Authentication failed",
    ),
    Case("401 on a read", "verify", pinterest(401, 2, "Authentication failed."), AuthError),
    Case(
        "403 scope missing",
        "register",
        pinterest(403, 3, "Your token does not have sufficient permissions."),
        AuthError,
        "sufficient permissions",
    ),
    Case(
        "403 board not allowed",
        "create",
        pinterest(403, 7, "Not authorized to access board or Pin."),
        PermanentError,
        "Pick another board",
    ),
    Case("403 bare", "create", httpx.Response(403, text="Forbidden"), AuthError),
    Case(
        "403 token expired",
        "verify",
        pinterest(403, 1104, "The token you provided is not valid or has expired."),
        AuthError,
        "expired",
    ),
    Case(
        "404 board gone",
        "create",
        pinterest(404, 40, "Board not found."),
        PermanentError,
        "Board not found",
    ),
    Case(
        "400 invalid link",
        "create",
        pinterest(400, 1, "Whoops! It looks like you entered an invalid URL."),
        PermanentError,
        "invalid URL",
    ),
    Case(
        "400 on poll",
        "poll",
        pinterest(404, 404, "Media upload not found."),
        PermanentError,
        "not found",
    ),
    Case(
        "429 reset in seconds",
        "create",
        pinterest(429, 8, "This request exceeded a rate limit.", **{"x-ratelimit-reset": "17"}),
        RateLimited,
        "rate limit",
        retry_after=17,
    ),
    Case(
        "429 reset as epoch",
        "register",
        lambda: pinterest(
            429, 8, "Rate limit", **{"x-ratelimit-reset": str(int(time.time()) + 30)}
        ),
        RateLimited,
        retry_after=30,
    ),
    Case(
        "429 retry-after wins",
        "poll",
        pinterest(429, 8, "Rate limit", **{"retry-after": "5", "x-ratelimit-reset": "50"}),
        RateLimited,
        retry_after=5,
    ),
    Case(
        "429 without headers",
        "verify",
        pinterest(429, 8, "Rate limit"),
        RateLimited,
        retry_after=60,
    ),
    Case(
        "429 spam is a refusal",
        "create",
        pinterest(429, 9, "Your request was blocked because it looks like spam."),
        PermanentError,
        "spam",
    ),
    Case("500", "create", pinterest(500, 0, "Internal error"), TransientError, "server error"),
    Case("502 html", "poll", httpx.Response(502, text="<html>Bad gateway</html>"), TransientError),
    Case("503", "register", pinterest(503, 0, "Service unavailable"), TransientError),
    Case(
        "200 not json on create",
        "create",
        httpx.Response(201, text="<html>ok</html>"),
        TransientError,
        "may or may not",
        ambiguous=True,
    ),
    Case("timeout on create", "create", httpx.ReadTimeout("slow"), TransientError, ambiguous=True),
    Case(
        "timeout on poll",
        "poll",
        httpx.ReadTimeout("slow"),
        TransientError,
        "nothing was published",
        ambiguous=False,
    ),
    Case(
        "refused connection",
        "register",
        httpx.ConnectError("down"),
        TransientError,
        ambiguous=False,
    ),
    Case(
        "upload slot expired",
        "upload",
        s3(403, "AccessDenied", "Invalid according to Policy: Policy expired."),
        TransientError,
        "Policy expired",
    ),
    Case(
        "upload too large",
        "upload",
        s3(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"),
        PermanentError,
        "maximum allowed size",
    ),
    Case(
        "upload storage down",
        "upload",
        s3(503, "SlowDown", "Please reduce your request rate."),
        TransientError,
    ),
    Case(
        "upload broke off",
        "upload",
        httpx.WriteTimeout("gone"),
        TransientError,
        "nothing was published",
        ambiguous=False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_errors_map_to_provider_errors(
    setup: tuple[FakePinterest, PinterestProvider], tmp_path: Path, case: Case
) -> None:
    fake, provider = setup
    method, path = _PATHS[case.call]
    answer = case.answer() if callable(case.answer) else case.answer
    fake.fail_next(method, path, answer)
    with pytest.raises(case.error) as raised:
        await run(case.call, fake, provider, tmp_path)
    error = raised.value
    assert case.words.lower() in str(error).lower()
    assert TOKEN not in str(error)
    if case.retry_after is not None:
        assert isinstance(error, RateLimited)
        assert error.retry_after == pytest.approx(case.retry_after, abs=1.5)
    if case.ambiguous is not None:
        assert isinstance(error, TransientError)
        assert error.ambiguous is case.ambiguous
    assert fake.pins == []


async def test_the_fakes_write_limit_is_a_rate_limit_with_its_reset(
    setup: tuple[FakePinterest, PinterestProvider], tmp_path: Path
) -> None:
    fake, provider = setup
    fake.write_limit = (1, 60.0)
    await provider.publish(photo_post(tmp_path), account(fake), KEY)
    with pytest.raises(RateLimited) as raised:
        await provider.publish(photo_post(tmp_path), account(fake), KEY)
    assert raised.value.retry_after == pytest.approx(60, abs=2)
    assert len(fake.pins) == 1


async def test_an_expired_upload_slot_leaves_nothing_behind(
    setup: tuple[FakePinterest, PinterestProvider], tmp_path: Path
) -> None:
    fake, provider = setup
    original = fake.storage.register

    def register_expired(media_id: str, user_id: str):  # type: ignore[no-untyped-def]
        upload = original(media_id, user_id)
        upload.expired = True
        return upload

    fake.storage.register = register_expired  # type: ignore[method-assign]
    with pytest.raises(TransientError, match="Policy expired"):
        await provider.publish(video_post(tmp_path), account(fake), KEY)
    fake.storage.register = original  # type: ignore[method-assign]
    # Trying again later registers a new upload, which goes through.
    again = await provider.publish(video_post(tmp_path), account(fake), KEY)
    assert isinstance(again, Processing)
    assert len(fake.media) == 2


async def test_an_app_with_trial_access_is_told_to_get_standard_access(
    setup: tuple[FakePinterest, PinterestProvider], tmp_path: Path
) -> None:
    fake, provider = setup
    fake.trial_access = True
    with pytest.raises(PermanentError, match="Standard access") as raised:
        await provider.publish(photo_post(tmp_path), account(fake), KEY)
    assert "Trial access may not create Pins" in str(raised.value)
    assert "Pick another board" not in str(raised.value)


async def test_a_pin_to_a_board_the_user_left_is_refused(
    setup: tuple[FakePinterest, PinterestProvider], tmp_path: Path
) -> None:
    fake, provider = setup
    fake.boards[0].can_pin = False
    with pytest.raises(PermanentError, match="Not authorized to access board"):
        await provider.publish(photo_post(tmp_path), account(fake), KEY)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, 60.0),
        ({"retry-after": "12"}, 12.0),
        ({"x-ratelimit-reset": "8"}, 8.0),
        ({"x-ratelimit-reset": "soon"}, 60.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past
    ],
)
def test_rate_limit_wait(headers: dict[str, str], expected: float) -> None:
    assert rate_limit_wait(httpx.Response(429, headers=headers)) == expected
