"""Publishing on Threads through media containers, as far as it goes in one call.

Each part of a post (the post, then each reply of a thread) is a container made with
`POST /me/threads`, checked with `GET /{container-id}?fields=status,error_message` and made
public with `POST /me/threads_publish?creation_id=...`; a reply's container names the part
before it in `reply_to_id`, so a part is created only once the one before is out. A post
with several photos or videos is a carousel: one container per item (`is_carousel_item`),
then a `CAROUSEL` container with them as `children`.

Threads advises giving a container about 30 seconds before publishing it, and checking a
video once a minute. So a container with media that was just made is not looked at in the
same call: `Processing` comes back and the next `poll` checks it. A text container is
ready at once in practice, so it is checked straight away.

`Progress` (the handle) records every container made and every part published. A call that
made progress and then met a failure that may pass (a rate limit, a server error, a lost
answer, a refused token) answers `Processing` with that progress instead of raising, so the
next poll goes on from there: no container is made twice, no part is published twice. A
publish whose answer was lost is settled by the container's status: FINISHED means it was
not published (publishing it is safe), PUBLISHED that it was (then the post is looked up
among the account's latest posts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from providers.base import MediaFile, MediaKind, PostContent, Processing, PublishResult
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.http import sanitize
from providers.threads_api import NotFound, ThreadsApi
from providers.threads_limits import first_link

HANDLE_VERSION: Final = 1
#: Threads' advice: publish a container about 30 seconds after making it.
CONTAINER_WAIT: Final = 30.0
#: "Query a container's status once per minute" (for videos).
VIDEO_WAIT: Final = 60.0
#: Look again this soon after a failure that may pass, once progress is saved.
RETRY_AFTER: Final = 30.0
#: How many of the account's latest posts are searched for one whose answer was lost.
LOOKUP_LIMIT: Final = 25

NO_URL: Final = (
    "Threads fetches photos and videos from a public link, and this post's media has none: "
    "the bot's operator must set PUBLIC_URL to an https address Threads can reach."
)


@dataclass
class Part:
    """One post of the thread on Threads."""

    #: Carousel item containers, in order, and whether each was seen FINISHED.
    items: list[str] = field(default_factory=list)
    ready: list[str] = field(default_factory=list)
    #: The part's own container (TEXT, IMAGE, VIDEO or CAROUSEL).
    container: str | None = None
    #: The published post's id, once it is out.
    media_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "items": list(self.items),
            "ready": list(self.ready),
            "container": self.container,
            "media_id": self.media_id,
        }


@dataclass
class Progress:
    """How far one publish got: what `Processing.handle` carries (JSON, no secrets)."""

    parts: list[Part] = field(default_factory=list)

    def part(self, index: int) -> Part:
        while len(self.parts) <= index:
            self.parts.append(Part())
        return self.parts[index]

    @property
    def published(self) -> list[str]:
        return [p.media_id for p in self.parts if p.media_id]

    def to_handle(self) -> dict[str, Any]:
        return {"version": HANDLE_VERSION, "parts": [p.to_json() for p in self.parts]}

    @classmethod
    def from_handle(cls, handle: Mapping[str, Any], post: PostContent) -> Progress:
        parts = handle.get("parts")
        if handle.get("version") != HANDLE_VERSION or not isinstance(parts, list):
            raise PermanentError(
                "The stored state of this Threads publish is unreadable; publish again."
            )
        try:
            progress = cls(
                parts=[
                    Part(
                        items=[str(i) for i in p.get("items") or ()],
                        ready=[str(i) for i in p.get("ready") or ()],
                        container=str(p["container"]) if p.get("container") else None,
                        media_id=str(p["media_id"]) if p.get("media_id") else None,
                    )
                    for p in parts
                ]
            )
        except (AttributeError, TypeError) as exc:
            raise PermanentError(
                "The stored state of this Threads publish is unreadable; publish again."
            ) from exc
        first_items = len(progress.parts[0].items) if progress.parts else 0
        if len(progress.parts) > len(post.parts) or first_items > len(post.media):
            raise PermanentError("This post changed while Threads was processing it.")
        return progress


class Publisher:
    """Takes one publish as far as it goes now (see the module docstring)."""

    def __init__(self, api: ThreadsApi, post: PostContent, progress: Progress) -> None:
        self._api = api
        self._post = post
        self._progress = progress
        #: This call made progress worth keeping in a handle.
        self._changed = False

    async def run(self) -> PublishResult | Processing:
        if any(not item.url for item in self._post.media):
            raise PermanentError(NO_URL)
        try:
            for index, text in enumerate(self._post.parts):
                part = self._progress.part(index)
                if part.media_id:
                    continue
                try:
                    waiting = await self._prepare(index, part, text)
                    if waiting is None and part.media_id is None:
                        waiting = await self._publish(part)
                except PermanentError as exc:
                    if index == 0:
                        raise
                    raise self._thread_refused(exc, index) from exc
                if waiting is not None:
                    return waiting
            return await self._result()
        except (TransientError, AuthError) as exc:
            if not self._changed:
                raise
            # Keep what was done: the next poll goes on from here (and meets the error again
            # if it has not passed, with nothing new to lose).
            wait = RETRY_AFTER
            if isinstance(exc, RateLimited):
                wait = exc.retry_after
            elif isinstance(exc, AuthError):
                wait = 1.0  # surface it at once
            return self._processing(wait)

    # -- one part ------------------------------------------------------------------------------

    async def _prepare(
        self, index: int, part: Part, text: str, *, again: bool = False
    ) -> Processing | None:
        """Make the part's containers and check them: None once the container is FINISHED
        (or turned out to be published already), `Processing` while Threads works on it."""
        media = self._media(index)
        if len(media) > 1:
            made = False
            for item in media[len(part.items) :]:
                part.items.append(await self._create_item(item))
                self._changed = made = True
            if made:
                return self._processing(self._wait(media))
            for number, item_id in enumerate(part.items, start=1):
                if item_id in part.ready:
                    continue
                status, message = await self._status(item_id)
                if status == "EXPIRED" and not again:
                    return await self._expired(index, part, text)
                if status == "FINISHED":
                    part.ready.append(item_id)
                elif status != "IN_PROGRESS":
                    raise _failed(message, f"item {number} of the post")
            if len(part.ready) < len(part.items):
                return self._processing(self._wait(media))
        if part.container is None:
            part.container = await self._create(index, text, media, part)
            self._changed = True
            if media:
                return self._processing(self._wait(media))
        status, message = await self._status(part.container)
        if status == "FINISHED":
            return None
        if status == "IN_PROGRESS":
            return self._processing(self._wait(media))
        if status == "PUBLISHED":  # an earlier publish whose answer was lost
            part.media_id = await self._find_published(index, text)
            self._changed = True
            return None
        if status == "EXPIRED" and not again:
            return await self._expired(index, part, text)
        raise _failed(message, "the post")

    async def _expired(self, index: int, part: Part, text: str) -> Processing | None:
        """Threads drops a container not published within 24 hours: it was never public,
        so make it again."""
        part.items, part.ready, part.container = [], [], None
        self._changed = True
        return await self._prepare(index, part, text, again=True)

    async def _create_item(self, item: MediaFile) -> str:
        form = {**_media_fields(item), "is_carousel_item": "true"}
        return _id(await self._api.post("me/threads", form), "carousel item")

    async def _create(self, index: int, text: str, media: tuple[MediaFile, ...], part: Part) -> str:
        form: dict[str, str] = {}
        if len(media) > 1:
            form.update(media_type="CAROUSEL", children=",".join(part.items))
        elif media:
            form.update(_media_fields(media[0]))
        else:
            form["media_type"] = "TEXT"
            link = first_link(text)
            if link:
                form["link_attachment"] = link
        if text:
            form["text"] = text
        if index > 0:
            before = self._progress.parts[index - 1].media_id
            assert before is not None  # parts are published in order
            form["reply_to_id"] = before
        return _id(await self._api.post("me/threads", form), "post")

    async def _status(self, container: str) -> tuple[str, str]:
        try:
            answer = await self._api.get(container, fields="status,error_message")
        except NotFound:
            return "IN_PROGRESS", ""  # a container only just made may not be visible yet
        return str(answer.get("status") or ""), str(answer.get("error_message") or "")

    async def _publish(self, part: Part) -> Processing | None:
        assert part.container is not None
        try:
            answer = await self._api.post(
                "me/threads_publish", {"creation_id": part.container}, publishes=True
            )
        except NotFound:
            # Threads can't find a container it has just called FINISHED: not ready after all.
            return self._processing(CONTAINER_WAIT)
        media_id = str(answer.get("id") or "")
        if not media_id:
            raise TransientError(
                "Threads answered without the new post; it may or may not have been published.",
                ambiguous=True,
            )
        part.media_id = media_id
        self._changed = True
        return None

    async def _find_published(self, index: int, text: str) -> str:
        total = len(self._post.parts)
        if index > 0:
            raise PermanentError(
                f"Part {index + 1} of {total} is out on Threads, but the answer to publishing "
                "it was lost and Threads doesn't say which post it became, so the rest of the "
                "thread was not posted."
            )
        answer = await self._api.get(
            "me/threads", fields="id,text,permalink,timestamp", limit=str(LOOKUP_LIMIT)
        )
        for post in answer.get("data") or ():
            if isinstance(post, Mapping) and post.get("id") and (post.get("text") or "") == text:
                return str(post["id"])  # newest first
        raise PermanentError(
            "Threads says this post was published (the answer to an earlier attempt was lost), "
            "but Crier can't find it among the account's latest posts; look on the profile."
        )

    # -- the end -------------------------------------------------------------------------------

    async def _result(self) -> PublishResult:
        published = self._progress.published
        ref = {"media_ids": published, "parts": len(published)}
        try:
            answer = await self._api.get(published[0], fields="permalink")
        except PermanentError as exc:
            return PublishResult(
                platform_id=published[0],
                ref=ref,
                notes=(f"The post is out, but Threads didn't give its link: {exc.message}",),
            )
        permalink = answer.get("permalink")
        return PublishResult(
            platform_id=published[0], url=str(permalink) if permalink else None, ref=ref
        )

    def _media(self, index: int) -> tuple[MediaFile, ...]:
        return self._post.media if index == 0 else ()

    def _wait(self, media: tuple[MediaFile, ...]) -> float:
        return VIDEO_WAIT if any(_is_video(m) for m in media) else CONTAINER_WAIT

    def _processing(self, wait: float) -> Processing:
        done, total = len(self._progress.published), len(self._post.parts)
        if done:
            stage = f"posting the thread ({done} of {total} out)"
        elif any(_is_video(m) for m in self._post.media):
            stage = "processing the video"
        elif self._post.media:
            stage = "processing the photos" if len(self._post.media) > 1 else "processing the photo"
        else:
            stage = "posting"
        return Processing(handle=self._progress.to_handle(), retry_after=wait, stage=stage)

    def _thread_refused(self, exc: PermanentError, index: int) -> PermanentError:
        """A later part refused for good: say which parts are out."""
        total = len(self._post.parts)
        return PermanentError(
            f"The first {index} of {total} posts of the thread are out, but Threads refused "
            f"part {index + 1}: {exc.message}",
            http_status=exc.http_status,
        )


def _media_fields(item: MediaFile) -> dict[str, str]:
    assert item.url is not None  # checked before anything is made
    if _is_video(item):
        fields = {"media_type": "VIDEO", "video_url": item.url}
    else:
        fields = {"media_type": "IMAGE", "image_url": item.url}
    if item.alt_text:
        fields["alt_text"] = item.alt_text
    return fields


def _is_video(item: MediaFile) -> bool:
    return item.kind in (MediaKind.VIDEO, MediaKind.ANIMATION)


def _id(answer: Mapping[str, Any], what: str) -> str:
    container = str(answer.get("id") or "")
    if not container:
        raise TransientError(f"Threads answered without the new {what} container.")
    return container


def _failed(message: str, what: str) -> PermanentError:
    """A container Threads could not prepare (ERROR), with Threads' reason."""
    reason = sanitize(message) or "no reason given"
    hint = _REASONS.get(message, "")
    return PermanentError(f"Threads could not prepare {what} ({reason}).{hint}")


_REASONS: Final = {
    "FAILED_DOWNLOADING_VIDEO": " Threads could not download the video from Crier's link.",
    "FAILED_PROCESSING_VIDEO": " Threads could not process the video.",
    "FAILED_PROCESSING_AUDIO": " Threads could not process the video's sound (AAC is needed).",
    "INVALID_ASPEC_RATIO": " The video's aspect ratio must be between 0.01:1 and 10:1.",
    "INVALID_BIT_RATE": " The video's bit rate is too high (at most 25 Mbps).",
    "INVALID_DURATION": " Videos may be up to 5 minutes long.",
    "INVALID_FRAME_RATE": " Videos need 23 to 60 frames per second.",
    "INVALID_AUDIO_CHANNELS": " The sound must be mono or stereo.",
    "INVALID_AUDIO_CHANNEL_LAYOUT": " The sound must be mono or stereo.",
}
