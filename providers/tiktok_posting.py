"""Starting a TikTok post and carrying it on (the two phases of `TikTokProvider.publish`
and `poll`; providers/tiktok.py's docstring tells the whole story and the handle's shape).

`Posting.start` sends the init (a video's FILE_UPLOAD or PULL_FROM_URL, or the photos'
content init) after choosing the audience (`_audience`); `Posting.carry_on` sends the rest of
an upload from where TikTok says it is, then reads the status until TikTok has published the
post or failed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from providers.base import AccountRef, MediaFile, PostContent, Processing, PublishResult
from providers.errors import PermanentError
from providers.tiktok_api import TikTokApi, failure_error
from providers.tiktok_limits import (
    PRIVATE,
    CreatorInfo,
    TikTokOptions,
    photo_text,
    photos_of,
    too_long,
    video_of,
)
from providers.tiktok_upload import ChunkedUpload, ChunkPlan, UploadExpired, plan

#: Seconds between status reads while TikTok processes (30 reads a minute per token).
STATUS_INTERVAL: Final = 10.0
#: Seconds between status reads while TikTok's moderation holds the post's id back.
MODERATION_INTERVAL: Final = 30.0
NO_URL: Final = (
    "TikTok fetches photos (and videos set to be fetched) from Crier's public address, and "
    "this post has none: the operator must set PUBLIC_URL."
)
CANT_CONTINUE: Final = "This TikTok post can't be continued; schedule it again."
EXPIRED: Final = (
    "TikTok's upload link expired (it lasts an hour) before the whole video was sent; "
    "nothing was posted. Retry to send it again."
)


async def read_creator(api: TikTokApi) -> CreatorInfo:
    """creator_info/query: what this creator may post now."""
    return CreatorInfo.from_data(await api.call("POST", "/post/publish/creator_info/query/"))


async def read_status(api: TikTokApi, publish_id: str) -> Mapping[str, Any]:
    """status/fetch: where a post is."""
    return await api.call("POST", "/post/publish/status/fetch/", json={"publish_id": publish_id})


class Posting:
    """Starts posts and carries them on."""

    def __init__(self, upload: ChunkedUpload, *, chunk_size: int, moderation_wait: float) -> None:
        self._upload = upload
        self._chunk_size = chunk_size
        #: Status reads to wait for a public post's id through moderation.
        self._moderation_looks = max(1, round(moderation_wait / MODERATION_INTERVAL))

    async def start(self, api: TikTokApi, post: PostContent, options: TikTokOptions) -> Processing:
        """Read creator_info (fresh, as TikTok's guidelines want) and init the post."""
        photos, video = photos_of(post), video_of(post)
        if not (video or (photos and len(photos) == len(post.media))):
            raise PermanentError("TikTok takes one video or 1 to 35 photos per post.")
        creator = await read_creator(api)
        privacy, notes = _audience(options, creator)
        if video is not None:
            return await self._start_video(api, post, video, options, creator, privacy, notes)
        return await self._start_photos(api, post, photos, options, creator, privacy, notes)

    async def carry_on(
        self, api: TikTokApi, handle: Mapping[str, Any], post: PostContent, account: AccountRef
    ) -> PublishResult | Processing:
        if not isinstance(handle.get("publish_id"), str):
            raise PermanentError(CANT_CONTINUE)
        if handle.get("stage") == "upload":
            return await self._go_on_uploading(api, handle, post, account)
        if handle.get("stage") == "status":
            status = await read_status(api, str(handle["publish_id"]))
            return self._settle(status, handle, account)
        raise PermanentError(CANT_CONTINUE)

    async def _start_video(
        self,
        api: TikTokApi,
        post: PostContent,
        video: MediaFile,
        options: TikTokOptions,
        creator: CreatorInfo,
        privacy: str,
        notes: list[str],
    ) -> Processing:
        if video.duration is not None and video.duration > creator.max_video_post_duration_sec:
            raise PermanentError(
                too_long(video.duration, creator.max_video_post_duration_sec).message
            )
        post_info: dict[str, Any] = {
            "privacy_level": privacy,
            "disable_duet": options.disable_duet or creator.duet_disabled,
            "disable_comment": options.disable_comment or creator.comment_disabled,
            "disable_stitch": options.disable_stitch or creator.stitch_disabled,
            "brand_content_toggle": options.brand_content_toggle,
            "brand_organic_toggle": options.brand_organic_toggle,
            "is_aigc": options.is_aigc,
        }
        if post.text.strip():
            post_info["title"] = post.text
        if options.video_cover_timestamp_ms is not None:
            post_info["video_cover_timestamp_ms"] = options.video_cover_timestamp_ms
        if options.pull_from_url:
            if not video.url:
                raise PermanentError(NO_URL)
            pull: dict[str, Any] = {"source": "PULL_FROM_URL", "video_url": video.url}
            data = await api.call(
                "POST",
                "/post/publish/video/init/",
                json={"post_info": post_info, "source_info": pull},
                creates=True,
            )
            return _status_stage(_publish_id(data), privacy, notes, "TikTok is fetching the video")
        if video.path is None or not video.path.is_file():
            raise PermanentError("The video file of this post is gone; send it again.")
        size = video.path.stat().st_size
        if size == 0:
            raise PermanentError("The video file is empty.")
        chunks = plan(size, self._chunk_size)
        source: dict[str, Any] = {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunks.chunk_size,
            "total_chunk_count": chunks.count,
        }
        # Nothing is posted before the last chunk is in: a lost answer is no ambiguity.
        data = await api.call(
            "POST",
            "/post/publish/video/init/",
            json={"post_info": post_info, "source_info": source},
        )
        upload_url = data.get("upload_url")
        if not isinstance(upload_url, str) or not upload_url.startswith(("https://", "http://")):
            raise PermanentError("TikTok didn't say where to upload the video; try again.")
        handle = {
            "stage": "upload",
            "publish_id": _publish_id(data),
            "upload_url": upload_url,
            "size": size,
            "chunk_size": chunks.chunk_size,
            "chunks": chunks.count,
            "next": 0,
            "mime": video.mime,
            "privacy_level": privacy,
            "notes": notes,
        }
        return Processing(handle=handle, retry_after=0.0, stage="uploading the video")

    async def _start_photos(
        self,
        api: TikTokApi,
        post: PostContent,
        photos: list[MediaFile],
        options: TikTokOptions,
        creator: CreatorInfo,
        privacy: str,
        notes: list[str],
    ) -> Processing:
        urls = [p.url for p in photos]
        if not all(urls):
            raise PermanentError(NO_URL)
        title, description = photo_text(post.text)
        post_info: dict[str, Any] = {
            "privacy_level": privacy,
            "disable_comment": options.disable_comment or creator.comment_disabled,
            "brand_content_toggle": options.brand_content_toggle,
            "brand_organic_toggle": options.brand_organic_toggle,
        }
        if title:
            post_info["title"] = title
        if description:
            post_info["description"] = description
        if options.auto_add_music is not None:
            post_info["auto_add_music"] = options.auto_add_music
        body = {
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": post_info,
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_cover_index": 0,
                "photo_images": urls,
            },
        }
        data = await api.call("POST", "/post/publish/content/init/", json=body, creates=True)
        return _status_stage(_publish_id(data), privacy, notes, "TikTok is fetching the photos")

    async def _go_on_uploading(
        self, api: TikTokApi, handle: Mapping[str, Any], post: PostContent, account: AccountRef
    ) -> PublishResult | Processing:
        try:
            upload_url = str(handle["upload_url"])
            chunks = ChunkPlan(
                size=int(handle["size"]),
                chunk_size=int(handle["chunk_size"]),
                count=int(handle["chunks"]),
            )
            mime, index = str(handle["mime"]), int(handle["next"])
        except (KeyError, TypeError, ValueError):
            raise PermanentError(CANT_CONTINUE) from None
        if not chunks.sound:
            raise PermanentError(CANT_CONTINUE)
        status = await read_status(api, str(handle["publish_id"]))
        if status.get("status") != "PROCESSING_UPLOAD":
            # Every chunk is in (the last answer was lost): on to the status.
            return self._settle(status, _after_upload(handle), account)
        received = status.get("uploaded_bytes")
        if isinstance(received, int) and not isinstance(received, bool):
            index = chunks.chunks_in(received)
        video = video_of(post)
        if video is None or video.path is None or not video.path.is_file():
            raise PermanentError("The video file of this post is gone; send it again.")
        if video.path.stat().st_size != chunks.size:
            raise PermanentError("The video file changed after it was scheduled; send it again.")
        try:
            index = await self._upload.send(upload_url, video.path, chunks, mime, index)
        except UploadExpired:
            raise PermanentError(EXPIRED) from None
        if index >= chunks.count:
            return Processing(
                handle=_after_upload(handle),
                retry_after=STATUS_INTERVAL,
                stage="TikTok is processing the video",
            )
        percent = min(99, chunks.span(index)[0] * 100 // chunks.size)
        return Processing(
            handle={**handle, "next": index},
            retry_after=0.0,
            stage=f"uploading the video ({percent}%)",
        )

    def _settle(
        self, status: Mapping[str, Any], handle: Mapping[str, Any], account: AccountRef
    ) -> PublishResult | Processing:
        """What a status read means for the post."""
        state = status.get("status")
        publish_id = str(handle["publish_id"])
        notes = tuple(str(n) for n in handle.get("notes") or ())
        if state == "FAILED":
            raise failure_error(str(status.get("fail_reason") or ""))
        if state == "SEND_TO_USER_INBOX":
            note = "TikTok sent it to the account's inbox: finish posting it in the TikTok app."
            return _result(publish_id, None, account, (*notes, note))
        if state != "PUBLISH_COMPLETE":
            return Processing(handle=handle, retry_after=STATUS_INTERVAL, stage=_stage(state))
        ids = status.get("publicaly_available_post_id")
        post_id = str(ids[0]) if isinstance(ids, list) and ids else None
        if post_id is not None:
            return _result(publish_id, post_id, account, notes)
        if handle.get("privacy_level") == PRIVATE:
            note = "It is private, so TikTok gives no link to it: find it on your profile."
            return _result(publish_id, None, account, (*notes, note))
        looks = int(handle.get("looks") or 0) + 1
        if looks < self._moderation_looks:
            return Processing(
                handle={**handle, "looks": looks},
                retry_after=MODERATION_INTERVAL,
                stage="waiting for TikTok's moderation",
            )
        note = (
            "TikTok is still reviewing it before showing it to others, so there is no link "
            "yet: find it on your profile."
        )
        return _result(publish_id, None, account, (*notes, note))


def _audience(options: TikTokOptions, creator: CreatorInfo) -> tuple[str, list[str]]:
    """The privacy level to send and what to tell about it. An app TikTok hasn't audited
    posts privately (never a failure); an audience TikTok doesn't offer is refused."""
    if creator.only_private or options.unaudited:
        note = (
            "Posted privately (only you can see it): this Crier's TikTok app hasn't passed "
            "TikTok's audit yet."
        )
        return PRIVATE, ([note] if options.audience != PRIVATE else [])
    chosen = options.audience
    if chosen not in creator.privacy_level_options:
        offered = ", ".join(creator.privacy_level_options) or "none"
        raise PermanentError(
            f"TikTok doesn't offer this account the audience {chosen} now (it offers "
            f"{offered}); choose another one."
        )
    if options.privacy_level is None:
        return chosen, ["Posted privately (only you): no audience is chosen for this account."]
    return chosen, []


def _status_stage(publish_id: str, privacy: str, notes: list[str], stage: str) -> Processing:
    handle = {
        "stage": "status",
        "publish_id": publish_id,
        "privacy_level": privacy,
        "notes": notes,
        "looks": 0,
    }
    return Processing(handle=handle, retry_after=STATUS_INTERVAL, stage=stage)


def _after_upload(handle: Mapping[str, Any]) -> dict[str, Any]:
    """The status stage's handle: the upload URL goes."""
    return {
        "stage": "status",
        "publish_id": handle["publish_id"],
        "privacy_level": handle.get("privacy_level"),
        "notes": list(handle.get("notes") or ()),
        "looks": 0,
    }


def _stage(state: object) -> str:
    if state == "PROCESSING_DOWNLOAD":
        return "TikTok is fetching the media"
    if state == "PROCESSING_UPLOAD":
        return "TikTok is receiving the video"
    return "TikTok is processing the post"


def _publish_id(data: Mapping[str, Any]) -> str:
    publish_id = data.get("publish_id")
    if not isinstance(publish_id, str) or not publish_id:
        raise PermanentError("TikTok started the post without naming it; try again.")
    return publish_id


def _result(
    publish_id: str, post_id: str | None, account: AccountRef, notes: tuple[str, ...]
) -> PublishResult:
    username = str(account.config.get("username") or "").lstrip("@")
    url = f"https://www.tiktok.com/@{username}/video/{post_id}" if post_id and username else None
    return PublishResult(
        platform_id=post_id or publish_id,
        url=url,
        ref={"publish_id": publish_id, "post_id": post_id, "parts": 1},
        notes=notes,
    )
