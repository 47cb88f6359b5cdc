"""The Instagram adapter against the fake Graph API: photo, reel, carousel and story
containers made from Crier's media URLs, the two-phase path to `media_publish` (and from a
stored handle alone: no container is made twice, a lost publish answer never publishes
twice), processing failures, the 24-hour publishing limit, delete, and every rule `validate`
checks. The exact requests are checked as Meta documents them."""

from __future__ import annotations

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
from providers.instagram import InstagramProvider
from providers.instagram_limits import LIMITS
from tests.fakes.meta_instagram import QUOTA, FakeFile, FakeMedia
from tests.unit.providers.meta_support import (
    APP,
    KEY,
    World,
    form,
    photo,
    post,
    router,
    video,
    world,
)

__all__ = ["router", "world"]


async def poll(w: World, result: Processing, content: PostContent, **config: str) -> object:
    """One poll, by a new adapter from the handle as the engine stores it (JSON)."""
    handle = json.loads(json.dumps(result.handle))
    fresh = InstagramProvider(w.http, oauth_app=APP)
    return await fresh.poll(handle, content, w.ig_account(**config), KEY)


async def to_the_end(
    w: World, result: PublishResult | Processing, content: PostContent, **config: str
) -> PublishResult:
    for _ in range(10):
        if isinstance(result, PublishResult):
            return result
        result = await poll(w, result, content, **config)  # type: ignore[assignment]
    raise AssertionError("still processing")


async def test_a_photo_is_a_container_then_a_published_post(w: World, tmp_path: Path) -> None:
    item = photo(tmp_path, alt="Two flat whites")
    content = post("Morning #coffee", item)
    first = await w.instagram.publish(content, w.ig_account(), KEY)
    assert isinstance(first, Processing)
    container = first.handle["container"]
    assert dict(first.handle) == {"format": "feed", "container": container, "looks": 0}
    assert first.retry_after == 3
    request = w.router.calls.last.request
    assert (request.method, request.url.path) == ("POST", f"/v27.0/{w.ig.id}/media")
    assert request.headers["authorization"] == f"OAuth {w.page_token}"
    assert form(request) == {
        "image_url": item.url,
        "alt_text": "Two flat whites",
        "caption": "Morning #coffee",
    }
    done = await poll(w, first, content)
    assert isinstance(done, PublishResult)
    assert w.sent()[-3:] == [
        f"GET graph.facebook.com/{container}",
        f"POST graph.facebook.com/{w.ig.id}/media_publish",
        f"GET graph.facebook.com/{done.platform_id}",
    ]
    status, publish, link = (c.request for c in w.router.calls[-3:])
    assert status.url.params["fields"] == "status_code,status"
    assert form(publish) == {"creation_id": container}
    assert link.url.params["fields"] == "permalink"
    [media] = w.fake.instagram.published(w.ig)
    assert (media.id, media.caption) == (done.platform_id, "Morning #coffee")
    assert done.url == media.permalink
    assert done.ref == {
        "media_id": media.id,
        "container_id": container,
        "format": "feed",
        "username": "criercafe",
        "parts": 1,
    }


async def test_one_video_is_a_reel_shared_to_the_feed(w: World, tmp_path: Path) -> None:
    clip = video(tmp_path)
    content = post("Latte art, slowly", clip)
    first = await w.instagram.publish(content, w.ig_account(), KEY)
    assert isinstance(first, Processing)
    assert first.retry_after == 20
    assert form(w.router.calls.last.request) == {
        "media_type": "REELS",
        "share_to_feed": "true",
        "video_url": clip.url,
        "caption": "Latte art, slowly",
    }
    second = await poll(w, first, content)  # the video is still IN_PROGRESS
    assert isinstance(second, Processing)
    assert (second.handle["looks"], second.retry_after) == (1, 60)
    done = await poll(w, second, content)
    assert isinstance(done, PublishResult)
    [media] = w.fake.instagram.published(w.ig)
    assert media.product_type == "REELS"
    assert done.url == media.permalink
    assert len(w.fake.calls("POST", f"/{w.ig.id}/media")) == 1  # never made twice
    assert len(w.fake.calls("POST", f"/{w.ig.id}/media_publish")) == 1


async def test_a_carousel_waits_for_its_children_then_makes_its_parent(
    w: World, tmp_path: Path
) -> None:
    items = (photo(tmp_path, "a.jpg", alt="First"), photo(tmp_path, "b.jpg"), video(tmp_path))
    content = post("Three things", *items)
    first = await w.instagram.publish(content, w.ig_account(), KEY)
    assert isinstance(first, Processing)
    children = first.handle["children"]
    assert first.handle["format"] == "carousel"
    assert "container" not in first.handle
    made = [form(c.request) for c in w.router.calls[-3:]]
    assert made == [
        {"is_carousel_item": "true", "image_url": items[0].url, "alt_text": "First"},
        {"is_carousel_item": "true", "image_url": items[1].url},
        {"is_carousel_item": "true", "media_type": "VIDEO", "video_url": items[2].url},
    ]
    waiting = await poll(w, first, content)  # the video child is still IN_PROGRESS
    assert isinstance(waiting, Processing)
    assert "container" not in waiting.handle
    parent_made = await poll(w, waiting, content)
    assert isinstance(parent_made, Processing)
    parent = parent_made.handle["container"]
    assert form(w.router.calls.last.request) == {
        "media_type": "CAROUSEL",
        "children": ",".join(children),
        "caption": "Three things",
    }
    done = await poll(w, parent_made, content)
    assert isinstance(done, PublishResult)
    assert done.ref["container_id"] == parent
    [media] = w.fake.instagram.published(w.ig)
    assert media.media_type == "CAROUSEL_ALBUM"
    assert len(w.fake.calls("POST", f"/{w.ig.id}/media")) == 4  # 3 children and 1 parent


async def test_a_story_has_no_caption(w: World, tmp_path: Path) -> None:
    item = photo(tmp_path, alt="ignored", size=(1080, 1920))
    content = post("Not shown", item)
    first = await w.instagram.publish(content, w.ig_account(instagram_format="story"), KEY)
    assert form(w.router.calls.last.request) == {"media_type": "STORIES", "image_url": item.url}
    done = await to_the_end(w, first, content, instagram_format="story")
    [media] = w.fake.instagram.published(w.ig)
    assert media.product_type == "STORY"
    assert done.ref["format"] == "story"


async def test_a_reel_format_account_posts_its_video_as_a_reel(w: World, tmp_path: Path) -> None:
    clip = video(tmp_path, size=(1080, 1920))
    await w.instagram.publish(post("Reel", clip), w.ig_account(instagram_format="reel"), KEY)
    assert form(w.router.calls.last.request)["media_type"] == "REELS"


async def test_a_lost_publish_answer_never_publishes_twice(w: World, tmp_path: Path) -> None:
    content = post("Only once", photo(tmp_path))
    first = await w.instagram.publish(content, w.ig_account(), KEY)
    assert isinstance(first, Processing)
    w.fake.lose_next_answer("POST", f"/{w.ig.id}/media_publish")
    with pytest.raises(TransientError, match="may or may not have been published") as raised:
        await poll(w, first, content)
    assert raised.value.ambiguous is True  # the post may be out: the engine must not re-publish
    done = await poll(w, first, content)  # the same handle: the container is PUBLISHED now
    assert isinstance(done, PublishResult)
    [media] = w.fake.instagram.published(w.ig)
    assert done.platform_id == media.id
    assert done.url == media.permalink
    assert len(w.fake.calls("POST", f"/{w.ig.id}/media_publish")) == 1
    assert w.router.calls[-2].request.url.path == f"/v27.0/{w.ig.id}/media"  # recent media


async def test_media_instagram_cant_process_fails_with_its_reason(w: World, tmp_path: Path) -> None:
    clip = video(tmp_path)
    assert clip.url is not None
    w.fake.instagram.serve(clip.url, FakeFile(mime="video/mp4", video_ok=False))
    content = post("Broken", clip)
    first = await w.instagram.publish(content, w.ig_account(), KEY)
    with pytest.raises(PermanentError, match="2207026"):
        await to_the_end(w, first, content)
    assert not w.fake.instagram.published(w.ig)


async def test_a_container_left_for_a_day_has_expired(w: World, tmp_path: Path) -> None:
    content = post("Late", photo(tmp_path))
    first = await w.instagram.publish(content, w.ig_account(), KEY)
    assert isinstance(first, Processing)
    w.clock.now += 25 * 3600
    with pytest.raises(PermanentError, match="within 24 hours"):
        await poll(w, first, content)


async def test_meta_refuses_a_photo_of_the_wrong_shape(w: World, tmp_path: Path) -> None:
    item = photo(tmp_path, size=(1080, 2000))
    assert item.url is not None
    w.fake.instagram.serve(item.url, FakeFile(mime="image/jpeg", width=1080, height=2000))
    with pytest.raises(PermanentError, match=r"4:5 to 1\.91:1"):
        await w.instagram.publish(post("Tall", item), w.ig_account(), KEY)


async def test_media_without_a_public_url_says_to_set_public_url(w: World, tmp_path: Path) -> None:
    before = len(w.router.calls)
    with pytest.raises(PermanentError, match="PUBLIC_URL"):
        await w.instagram.publish(post("Hi", photo(tmp_path, url=False)), w.ig_account(), KEY)
    assert len(w.router.calls) == before


async def test_the_publishing_limit_waits_and_is_shown(w: World, tmp_path: Path) -> None:
    for number in range(QUOTA):
        media_id = f"old-{number}"
        w.fake.instagram.media[media_id] = FakeMedia(
            id=media_id,
            ig_id=w.ig.id,
            container_id="c",
            caption="",
            media_type="IMAGE",
            product_type="FEED",
            permalink="https://www.instagram.com/p/x/",
            published_at=w.clock.now - 86_400 + 60,
        )
    quota = await w.instagram.quota_left(w.ig_account())
    assert (quota.used, quota.total, quota.window, quota.left) == (QUOTA, QUOTA, 86_400, 0)
    request = w.router.calls.last.request
    assert request.url.path == f"/v27.0/{w.ig.id}/content_publishing_limit"
    assert request.url.params["fields"] == "config,quota_usage"
    content = post("Over", photo(tmp_path))
    first = await w.instagram.publish(content, w.ig_account(), KEY)
    assert isinstance(first, Processing)
    with pytest.raises(RateLimited, match="limit of posts per 24 hours"):
        await poll(w, first, content)
    w.clock.now += 61  # the oldest leave the window: the same container goes out
    assert isinstance(await poll(w, first, content), PublishResult)


async def test_a_permalink_that_cant_be_read_doesnt_fail_the_post(w: World, tmp_path: Path) -> None:
    content = post("Out anyway", photo(tmp_path))
    first = await w.instagram.publish(content, w.ig_account(), KEY)
    [media_id] = ["18000000000000001"]
    w.fake.fail_next("GET", f"/{media_id}", httpx.Response(500, text="oops"))
    done = await poll(w, first, content)
    assert isinstance(done, PublishResult)
    assert done.platform_id == media_id
    assert done.url == "https://www.instagram.com/criercafe/"
    assert done.notes


async def test_lookup_finds_the_post_or_says_it_isnt_out(w: World, tmp_path: Path) -> None:
    due = w.clock.datetime()
    content = post("Found me", photo(tmp_path), scheduled_at=due)
    assert isinstance(await w.instagram.lookup(content, w.ig_account(), KEY), NotPublished)
    done = await to_the_end(w, await w.instagram.publish(content, w.ig_account(), KEY), content)
    found = await w.instagram.lookup(content, w.ig_account(), KEY)
    assert isinstance(found, PublishResult)
    assert (found.platform_id, found.url) == (done.platform_id, done.url)
    request = w.router.calls[-2].request
    assert request.url.path == f"/v27.0/{w.ig.id}/media"
    assert request.url.params["fields"] == "id,caption,permalink,timestamp"
    other = post("Something else", photo(tmp_path), scheduled_at=due)
    assert await w.instagram.lookup(other, w.ig_account(), KEY) is None  # can't tell
    story = w.ig_account(instagram_format="story")
    assert await w.instagram.lookup(content, story, KEY) is None


# -- after publishing --------------------------------------------------------------------------


async def published(w: World, tmp_path: Path) -> PublishResult:
    content = post("To delete", photo(tmp_path))
    return await to_the_end(w, await w.instagram.publish(content, w.ig_account(), KEY), content)


async def test_delete_uses_the_user_token_and_tolerates_gone(w: World, tmp_path: Path) -> None:
    done = await published(w, tmp_path)
    await w.instagram.delete(done, w.ig_account())
    request = w.router.calls.last.request
    assert (request.method, request.url.path) == ("DELETE", f"/v27.0/{done.platform_id}")
    assert request.headers["authorization"] == f"OAuth {w.user_token}"
    assert not w.fake.instagram.published(w.ig)
    await w.instagram.delete(done, w.ig_account())


async def test_delete_without_the_permission_says_so(w: World, tmp_path: Path) -> None:
    done = await published(w, tmp_path)
    token = w.fake.world.user_token(w.user, ["instagram_basic", "instagram_content_publish"])
    account = replace(w.ig_account(), credentials={"page_token": w.page_token, "user_token": token})
    with pytest.raises(PermanentError, match="instagram_manage_contents"):
        await w.instagram.delete(done, account)
    no_user = replace(w.ig_account(), credentials={"page_token": w.page_token})
    with pytest.raises(AuthError):
        await w.instagram.delete(done, no_user)


async def test_captions_cant_be_edited(w: World, tmp_path: Path) -> None:
    done = await published(w, tmp_path)
    before = len(w.router.calls)
    with pytest.raises(PermanentError, match="delete it and post it again"):
        await w.instagram.edit(done, PostContent(text="new"), w.ig_account())
    assert len(w.router.calls) == before


# -- validate --------------------------------------------------------------------------------


def media(kind: MediaKind, mime: str, size: int = 1000, **kw: object) -> MediaFile:
    return MediaFile(kind=kind, mime=mime, size=size, **kw)  # type: ignore[arg-type]


JPEG = media(MediaKind.PHOTO, "image/jpeg", width=1080, height=1350)
MP4 = media(MediaKind.VIDEO, "video/mp4", width=1080, height=1920, duration=20.0)
TAGS = " ".join(f"#t{n}" for n in range(6))
NAMES = " ".join(f"@n{n}" for n in range(21))
CASES = [
    (PostContent(text="Hello"), {}, ["media_required"]),
    (PostContent(text="a" * 2200, media=(JPEG,)), {}, []),
    (PostContent(text="a" * 2201, media=(JPEG,)), {}, ["text_too_long"]),
    (PostContent(text="x", media=(JPEG,) * 10), {}, []),
    (PostContent(text="x", media=(JPEG,) * 11), {}, ["too_many_media", "too_many_images"]),
    (PostContent(text="#a #b #c #d #e", media=(JPEG,)), {}, []),
    (PostContent(text=TAGS, media=(JPEG,)), {}, ["too_many_hashtags"]),
    (PostContent(text=NAMES, media=(JPEG,)), {}, ["too_many_mentions"]),
    (PostContent(text="x", media=(replace(JPEG, height=1500),)), {}, ["aspect_ratio"]),
    (PostContent(text="x", media=(replace(JPEG, width=1080, height=566),)), {}, []),
    (PostContent(text="x", media=(replace(JPEG, width=2000, height=1000),)), {}, ["aspect_ratio"]),
    (PostContent(text="x", media=(media(MediaKind.PHOTO, "image/png"),)), {}, ["media_type"]),
    (PostContent(text="x", media=(replace(JPEG, size=9_000_000),)), {}, ["media_too_large"]),
    (
        PostContent(text="x", media=(media(MediaKind.DOCUMENT, "application/pdf"),)),
        {},
        ["media_type"],
    ),
    (PostContent(text="x", media=(JPEG, MP4)), {}, []),
    (PostContent(text="x", media=(JPEG, replace(MP4, size=150_000_000))), {}, ["media_too_large"]),
    (
        PostContent(text="x", media=(replace(MP4, duration=2.0),)),
        {},
        ["video_as_reel", "video_too_short"],
    ),
    (PostContent(text="x", media=(MP4,)), {}, ["video_as_reel"]),
    (
        PostContent(text="x", media=(replace(JPEG, width=2000, height=1000),)),
        {"instagram_fit": "pad"},
        [],
    ),
    (
        PostContent(text="x", media=(replace(JPEG, width=2000, height=1000),)),
        {"instagram_fit": "crop"},
        [],
    ),
    (PostContent(text="x", media=(JPEG,)), {"instagram_format": "reel"}, ["reel_needs_video"]),
    (PostContent(text="x", media=(MP4,)), {"instagram_format": "reel"}, []),
    (PostContent(text="", media=(JPEG, JPEG)), {"instagram_format": "story"}, ["too_many_media"]),
    (PostContent(text="", media=(replace(JPEG, height=1920),)), {"instagram_format": "story"}, []),
    (
        PostContent(text="", media=(replace(MP4, duration=90.0),)),
        {"instagram_format": "story"},
        ["video_too_long"],
    ),
    (PostContent(text="x", media=(JPEG,)), {"instagram_format": "igtv"}, ["instagram_format"]),
    (PostContent(text="x", media=(JPEG,), thread=("y",)), {}, ["no_threads"]),
]
#: For the pure checks: a client is never used, and making one costs a TLS context.
PROVIDER = InstagramProvider(httpx.AsyncClient())
ACCOUNT = AccountRef(
    id=2, platform="instagram", label="@criercafe", config={"ig_user_id": "17841400000000001"}
)


@pytest.mark.parametrize(("content", "config", "codes"), CASES)
def test_validate(content: PostContent, config: dict[str, str], codes: list[str]) -> None:
    account = replace(ACCOUNT, config={**ACCOUNT.config, **config})
    assert [p.code for p in PROVIDER.validate(content, account)] == codes


def test_a_story_warns_that_its_text_is_left_out() -> None:
    account = replace(ACCOUNT, config={"instagram_format": "story"})
    [problem] = PROVIDER.validate(PostContent(text="Hi", media=(JPEG,)), account)
    assert (problem.code, problem.severity) == ("story_caption", Severity.WARNING)


def test_limits_are_declared_as_data() -> None:
    assert LIMITS.media_required
    assert LIMITS.pulls_media
    assert LIMITS.alt_text
    assert LIMITS.quota == (100, 86_400)
    assert LIMITS.image_aspect_ratio == (0.8, 1.91)
    assert LIMITS.max_text == 2200
    story = replace(ACCOUNT, config={"instagram_format": "story"})
    assert PROVIDER.limits_for(story).max_media == 1
    assert PROVIDER.limits_for(story).image_aspect_ratio is None
    assert InstagramProvider.after_publish.can_delete
    assert not InstagramProvider.after_publish.can_edit
    assert InstagramProvider.after_publish.can_lookup
