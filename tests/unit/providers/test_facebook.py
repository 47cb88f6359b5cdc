"""The Facebook Page adapter against the fake Graph API: text and link posts, one and several
photos, a video and a reel through the two-phase path (and from a stored handle alone, as
after a restart), processing failures, delete and edit, the errors Meta answers with, and
every limit `validate` checks. The exact requests are checked as Meta documents them."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from providers.base import (
    AccountRef,
    MediaFile,
    MediaKind,
    NotPublished,
    PostContent,
    Processing,
    PublishResult,
    Severity,
)
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.facebook import FacebookProvider
from providers.facebook_limits import LIMITS
from tests.fakes.meta_world import error
from tests.unit.providers.meta_support import (
    APP,
    KEY,
    World,
    attached,
    form,
    open_world,
    parts,
    photo,
    post,
    router,
    video,
    world,
)

__all__ = ["router", "world"]


def proof(token: str) -> str:
    return hmac.new(APP.client_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


async def to_the_end(w: World, result: PublishResult | Processing) -> PublishResult:
    for _ in range(10):
        if isinstance(result, PublishResult):
            return result
        result = await w.facebook.poll(result.handle, PostContent(text=""), w.page_account(), KEY)
    raise AssertionError("still processing")


# -- text, links and photos ------------------------------------------------------------------


async def test_a_text_post_goes_to_the_feed_with_its_first_link(w: World) -> None:
    text = "New menu today! See https://crier.example/menu. Or call us."
    result = await w.facebook.publish(post(text), w.page_account(), KEY)
    assert isinstance(result, PublishResult)
    request = w.router.calls.last.request
    assert (request.method, request.url.host, request.url.path) == (
        "POST",
        "graph.facebook.com",
        f"/v27.0/{w.page.id}/feed",
    )
    assert request.headers["authorization"] == f"OAuth {w.page_token}"
    assert dict(request.url.params) == {"appsecret_proof": proof(w.page_token)}
    assert form(request) == {"message": text, "link": "https://crier.example/menu"}
    [made] = w.fake.live_posts(w.page)
    assert (made.message, made.link) == (text, "https://crier.example/menu")
    assert result.platform_id == made.id
    assert result.url == f"https://www.facebook.com/{made.id}"
    assert result.ref == {"kind": "post", "post_id": made.id, "page_id": w.page.id, "parts": 1}


async def test_a_text_without_a_link_sends_none(w: World) -> None:
    await w.facebook.publish(post("Just words."), w.page_account(), KEY)
    assert form(w.router.calls.last.request) == {"message": "Just words."}


async def test_one_photo_is_uploaded_with_the_message_and_alt_text(
    w: World, tmp_path: Path
) -> None:
    item = photo(tmp_path, alt="A latte with a heart")
    result = await w.facebook.publish(post("Coffee time", item), w.page_account(), KEY)
    request = w.router.calls.last.request
    assert request.url.path == f"/v27.0/{w.page.id}/photos"
    sent = parts(request)
    assert sent["source"].filename == "photo.jpg"
    assert sent["source"].content_type == "image/jpeg"
    assert item.path is not None
    assert sent["source"].data == item.path.read_bytes()
    fields = {k: v.data.decode() for k, v in sent.items() if k != "source"}
    assert fields == {
        "published": "true",
        "message": "Coffee time",
        "alt_text_custom": "A latte with a heart",
    }
    [made] = w.fake.live_posts(w.page)
    assert isinstance(result, PublishResult)
    assert result.platform_id == made.id
    assert w.fake.world.photos[made.photo_ids[0]].alt_text == "A latte with a heart"


async def test_several_photos_are_uploaded_unpublished_then_attached(
    w: World, tmp_path: Path
) -> None:
    items = [photo(tmp_path, f"p{n}.jpg") for n in range(3)]
    result = await w.facebook.publish(post("Our week", *items), w.page_account(), KEY)
    assert w.sent()[-4:] == [
        f"POST graph.facebook.com/{w.page.id}/photos",
        f"POST graph.facebook.com/{w.page.id}/photos",
        f"POST graph.facebook.com/{w.page.id}/photos",
        f"POST graph.facebook.com/{w.page.id}/feed",
    ]
    for call in w.router.calls[-4:-1]:
        fields = {k: v.data.decode() for k, v in parts(call.request).items() if k != "source"}
        assert fields == {"published": "false"}
    photo_ids = attached(w.router.calls.last.request)
    assert form(w.router.calls.last.request)["message"] == "Our week"
    [made] = w.fake.live_posts(w.page)
    assert made.photo_ids == photo_ids
    assert len(photo_ids) == 3
    assert isinstance(result, PublishResult)
    assert result.platform_id == made.id


# -- videos ----------------------------------------------------------------------------------


async def test_a_video_is_uploaded_then_polled_until_facebook_has_processed_it(
    w: World, tmp_path: Path
) -> None:
    clip = video(tmp_path)
    first = await w.facebook.publish(post("Our kitchen", clip), w.page_account(), KEY)
    assert isinstance(first, Processing)
    assert first.stage == "processing the video"
    video_id = first.handle["video_id"]
    assert dict(first.handle) == {"kind": "video", "video_id": video_id, "page_id": w.page.id}
    assert w.sent()[-3:] == [
        f"POST graph.facebook.com/{APP.client_id}/uploads",
        f"POST graph.facebook.com/{w.router.calls[-2].request.url.path.split('/')[-1]}",
        f"POST graph-video.facebook.com/{w.page.id}/videos",
    ]
    opened, uploaded, created = (c.request for c in w.router.calls[-3:])
    assert opened.headers["authorization"] == f"OAuth {w.user_token}"
    assert opened.url.params["file_name"] == "clip.mp4"
    assert opened.url.params["file_length"] == str(clip.size)
    assert opened.url.params["file_type"] == "video/mp4"
    assert uploaded.url.path.startswith("/v27.0/upload:")
    assert uploaded.headers["file_offset"] == "0"
    assert uploaded.headers["authorization"] == f"OAuth {w.user_token}"
    assert clip.path is not None
    assert uploaded.content == clip.path.read_bytes()
    assert created.headers["authorization"] == f"OAuth {w.page_token}"
    assert form(created)["description"] == "Our kitchen"
    assert form(created)["fbuploader_video_file_chunk"].startswith("4::")
    # Stored as the engine stores it, and carried on by a new process: nothing is uploaded
    # again, and exactly one post is made.
    handle = json.loads(json.dumps(first.handle))
    restarted = FacebookProvider(w.http, oauth_app=APP)
    second = await restarted.poll(handle, post("Our kitchen", clip), w.page_account(), KEY)
    assert isinstance(second, Processing)
    assert second.handle["looks"] == 1
    done = await restarted.poll(second.handle, post("Our kitchen", clip), w.page_account(), KEY)
    assert isinstance(done, PublishResult)
    assert done.platform_id == video_id
    assert done.url == f"https://www.facebook.com/{w.page.id}/videos/{video_id}/"
    assert done.ref == {"kind": "video", "video_id": video_id, "page_id": w.page.id, "parts": 1}
    assert len(w.fake.calls("POST", f"/{APP.client_id}/uploads")) == 1
    assert len(w.fake.live_posts(w.page)) == 1
    status = w.router.calls.last.request
    assert (status.method, status.url.path) == ("GET", f"/v27.0/{video_id}")
    assert status.url.params["fields"] == "status,permalink_url"


async def test_a_short_vertical_video_goes_out_as_a_reel(w: World, tmp_path: Path) -> None:
    clip = video(tmp_path, size=(1080, 1920), seconds=20)
    first = await w.facebook.publish(post("Behind the bar", clip), w.page_account(), KEY)
    assert isinstance(first, Processing)
    assert first.handle["kind"] == "reel"
    video_id = first.handle["video_id"]
    assert w.sent()[-3:] == [
        f"POST graph.facebook.com/{w.page.id}/video_reels",
        f"POST rupload.facebook.com/video-upload/{video_id}",
        f"POST graph.facebook.com/{w.page.id}/video_reels",
    ]
    start, upload, finish = (c.request for c in w.router.calls[-3:])
    assert form(start) == {"upload_phase": "start"}
    assert upload.url.path == f"/video-upload/v27.0/{video_id}"
    assert upload.headers["authorization"] == f"OAuth {w.page_token}"
    assert (upload.headers["offset"], upload.headers["file_size"]) == ("0", str(clip.size))
    assert "appsecret_proof" not in upload.url.params
    assert form(finish) == {
        "upload_phase": "finish",
        "video_id": video_id,
        "video_state": "PUBLISHED",
        "description": "Behind the bar",
    }
    done = await to_the_end(w, first)
    assert done.url == f"https://www.facebook.com/reel/{video_id}"
    assert done.ref["kind"] == "reel"
    assert len(w.fake.calls("POST", f"/{w.page.id}/video_reels")) == 2


@pytest.mark.parametrize(
    ("chosen", "size", "seconds", "kind"),
    [
        ("auto", (1080, 1920), 20, "reel"),
        ("auto", (1080, 1920), 120, "video"),  # too long for a reel
        ("auto", (1920, 1080), 20, "video"),  # not vertical
        ("video", (1080, 1920), 20, "video"),
        ("reel", (1920, 1080), 20, "reel"),
    ],
)
async def test_the_account_chooses_when_a_video_is_a_reel(
    w: World, tmp_path: Path, chosen: str, size: tuple[int, int], seconds: float, kind: str
) -> None:
    clip = video(tmp_path, size=size, seconds=seconds)
    account = w.page_account(facebook_video_format=chosen)
    first = await w.facebook.publish(post("Clip", clip), account, KEY)
    assert isinstance(first, Processing)
    assert first.handle["kind"] == kind


async def test_a_video_facebook_cant_process_fails_with_its_reason(
    w: World, tmp_path: Path
) -> None:
    first = await w.facebook.publish(
        post("Broken", video(tmp_path, playable=False)), w.page_account(), KEY
    )
    with pytest.raises(PermanentError, match="couldn't process the video: The video file"):
        await to_the_end(w, first)


async def test_a_handle_without_a_video_cant_be_carried_on(w: World) -> None:
    with pytest.raises(PermanentError, match="schedule the post again"):
        await w.facebook.poll({"kind": "video"}, PostContent(text=""), w.page_account(), KEY)


async def test_a_regular_video_needs_the_user_token(w: World, tmp_path: Path) -> None:
    account = replace(w.page_account(), credentials={"page_token": w.page_token})
    with pytest.raises(AuthError, match="current sign-in"):
        await w.facebook.publish(post("Clip", video(tmp_path)), account, KEY)
    w.fake.world.expire_user_tokens()
    with pytest.raises(AuthError, match="sign-in expired"):
        await w.facebook.publish(post("Clip", video(tmp_path)), w.page_account(), KEY)
    assert not w.fake.live_posts(w.page)


# -- after publishing --------------------------------------------------------------------------


async def test_delete_removes_the_post_and_a_second_delete_is_fine(w: World) -> None:
    result = await w.facebook.publish(post("Oops"), w.page_account(), KEY)
    assert isinstance(result, PublishResult)
    await w.facebook.delete(result, w.page_account())
    request = w.router.calls.last.request
    assert (request.method, request.url.path) == ("DELETE", f"/v27.0/{result.platform_id}")
    assert not w.fake.live_posts(w.page)
    await w.facebook.delete(result, w.page_account())  # already gone: deleted


async def test_delete_and_edit_a_video_address_the_video(w: World, tmp_path: Path) -> None:
    done = await to_the_end(
        w, await w.facebook.publish(post("Clip", video(tmp_path)), w.page_account(), KEY)
    )
    edited = await w.facebook.edit(done, PostContent(text="Better words"), w.page_account())
    assert edited == done
    request = w.router.calls.last.request
    assert request.url.path == f"/v27.0/{done.platform_id}"
    assert form(request) == {"description": "Better words"}
    assert w.fake.world.videos[done.platform_id].description == "Better words"
    await w.facebook.delete(done, w.page_account())
    assert w.fake.world.videos[done.platform_id].deleted


async def test_edit_changes_the_message_in_place(w: World) -> None:
    result = await w.facebook.publish(post("Helo"), w.page_account(), KEY)
    assert isinstance(result, PublishResult)
    edited = await w.facebook.edit(result, PostContent(text="Hello"), w.page_account())
    assert (edited.platform_id, edited.url) == (result.platform_id, result.url)
    assert form(w.router.calls.last.request) == {"message": "Hello"}
    assert w.fake.live_posts(w.page)[0].message == "Hello"
    with pytest.raises(PermanentError, match="photos or videos"):
        await w.facebook.edit(result, PostContent(text="x"), w.page_account(), media_changed=True)


async def test_lookup_reads_the_page_posts_since_the_post_was_due(w: World) -> None:
    due = w.clock.datetime()
    content = PostContent(text="Did it go out?", scheduled_at=due)
    assert isinstance(await w.facebook.lookup(content, w.page_account(), KEY), NotPublished)
    request = w.router.calls.last.request
    assert request.url.path == f"/v27.0/{w.page.id}/posts"
    assert request.url.params["fields"] == "id,message,created_time"
    assert request.url.params["since"] == str(int(w.clock.now) - 300)
    result = await w.facebook.publish(content, w.page_account(), KEY)
    found = await w.facebook.lookup(content, w.page_account(), KEY)
    assert found == result
    assert isinstance(found, PublishResult)
    assert found.ref == result.ref  # type: ignore[union-attr]
    w.fake.new_post(w.page, "Something else")
    other = PostContent(text="Not this", scheduled_at=due)
    assert await w.facebook.lookup(other, w.page_account(), KEY) is None  # can't tell


# -- errors ----------------------------------------------------------------------------------


async def test_the_pages_rate_limit_waits_as_long_as_meta_says(router, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async with open_world(router, page_call_limit=1) as w:
        await w.facebook.publish(post("One"), w.page_account(), KEY)
        with pytest.raises(RateLimited) as raised:
            await w.facebook.publish(post("Two"), w.page_account(), KEY)
    assert raised.value.retry_after == 7 * 60


async def test_a_revoked_page_token_needs_reconnecting(w: World) -> None:
    w.fake.world.revoke(w.page_token)
    with pytest.raises(AuthError, match="Connect the account again"):
        await w.facebook.publish(post("Hi"), w.page_account(), KEY)


async def test_a_page_token_without_posting_rights_names_the_permission(w: World) -> None:
    token = w.fake.world.user_token(w.user, ["pages_show_list", "pages_read_engagement"])
    page_token = w.fake.world.page_token(w.page, w.fake.world.tokens[token])
    account = replace(w.page_account(), credentials={"page_token": page_token})
    with pytest.raises(AuthError, match="pages_manage_posts"):
        await w.facebook.publish(post("Hi"), account, KEY)


@pytest.mark.parametrize(
    ("failure", "kind", "ambiguous"),
    [
        (httpx.ReadTimeout("slow"), TransientError, True),
        (httpx.ConnectError("refused"), TransientError, False),
        (error(500, 2, "Service temporarily unavailable", transient=True), TransientError, False),
        (error(400, 506, "Duplicate status message"), PermanentError, None),
    ],
)
async def test_failures_of_the_post_itself(
    w: World, failure: httpx.Response | Exception, kind: type[Exception], ambiguous: bool | None
) -> None:
    w.fake.fail_next("POST", f"/{w.page.id}/feed", failure)
    with pytest.raises(kind) as raised:
        await w.facebook.publish(post("Hi"), w.page_account(), KEY)
    if ambiguous is not None:
        assert raised.value.ambiguous is ambiguous  # type: ignore[attr-defined]
    assert w.page_token not in str(raised.value)


async def test_a_lost_upload_published_nothing(w: World, tmp_path: Path) -> None:
    w.fake.fail_next("POST", f"/{w.page.id}/photos", httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError, match="nothing was published") as raised:
        await w.facebook.publish(
            post("Two", photo(tmp_path, "a.jpg"), photo(tmp_path, "b.jpg")), w.page_account(), KEY
        )
    assert raised.value.ambiguous is False


# -- validate --------------------------------------------------------------------------------


def media(kind: MediaKind, mime: str, size: int = 1000, **kw: object) -> MediaFile:
    return MediaFile(kind=kind, mime=mime, size=size, **kw)  # type: ignore[arg-type]


JPEG = media(MediaKind.PHOTO, "image/jpeg")
MP4 = media(MediaKind.VIDEO, "video/mp4", width=1080, height=1920, duration=20.0)
CASES = [
    (PostContent(text="a" * 63_206), {}, []),
    (PostContent(text="a" * 63_207), {}, ["text_too_long"]),
    (PostContent(text="x", media=(JPEG,) * 10), {}, []),
    (PostContent(text="x", media=(JPEG,) * 11), {}, ["too_many_media", "too_many_images"]),
    (PostContent(text="x", media=(JPEG, MP4)), {}, ["mixed_media"]),
    (PostContent(text="x", media=(MP4, MP4)), {}, ["too_many_videos"]),
    (
        PostContent(text="x", media=(media(MediaKind.PHOTO, "image/jpeg", 5_000_000),)),
        {},
        ["media_too_large"],
    ),
    (PostContent(text="x", media=(media(MediaKind.VIDEO, "video/quicktime"),)), {}, ["media_type"]),
    (
        PostContent(text="x", media=(media(MediaKind.ANIMATION, "image/gif", 5_000_000),)),
        {},
        ["media_too_large"],
    ),
    (
        PostContent(text="x", media=(media(MediaKind.DOCUMENT, "application/pdf"),)),
        {},
        ["media_type"],
    ),
    (PostContent(text="x"), {"facebook_video_format": "story"}, ["video_format"]),
    (
        PostContent(text="x", media=(replace(MP4, duration=120.0),)),
        {"facebook_video_format": "reel"},
        ["reel_duration"],
    ),
    (
        PostContent(text="x", media=(replace(MP4, width=1920, height=1080),)),
        {"facebook_video_format": "reel"},
        ["reel_shape"],
    ),
    (PostContent(text="x", thread=("y",)), {}, ["no_threads"]),
    (PostContent(text="  "), {}, ["empty"]),
]


#: For the pure checks: a client is never used, and making one costs a TLS context.
PROVIDER = FacebookProvider(httpx.AsyncClient())
PAGE = AccountRef(id=1, platform="facebook", label="Café", config={"page_id": "42"})


@pytest.mark.parametrize(("content", "config", "codes"), CASES)
def test_validate(content: PostContent, config: dict[str, str], codes: list[str]) -> None:
    problems = PROVIDER.validate(content, replace(PAGE, config={**PAGE.config, **config}))
    assert [p.code for p in problems] == codes


def test_a_sideways_forced_reel_is_only_a_warning() -> None:
    content = PostContent(text="x", media=(replace(MP4, width=1920, height=1080),))
    account = replace(PAGE, config={"page_id": "42", "facebook_video_format": "reel"})
    [problem] = PROVIDER.validate(content, account)
    assert problem.severity == Severity.WARNING


def test_limits_are_declared_as_data() -> None:
    assert LIMITS.alt_text
    assert not LIMITS.threads
    assert not LIMITS.pulls_media
    assert LIMITS.processing_timeout == 3600
    assert FacebookProvider.after_publish.can_delete
    assert FacebookProvider.after_publish.can_edit_text
    assert not FacebookProvider.after_publish.can_edit_media
