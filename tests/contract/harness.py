"""The provider contract, as a reusable suite every adapter runs.

An adapter joins by adding a `ContractCase` to `CASES` in `cases.py`: how to build it, a
valid account, how to fake its platform answering a publish successfully or with a given
response, and how to tell that alt text was sent. A platform that needs media in every post
(YouTube: one video) says which in `required_media`; a two-phase platform's publish is
carried on with `poll` until it answers (`publish_to_end`).

After publishing, the suite follows what the adapter declares (`AfterPublish`): a case
implements the delete, edit and lookup hooks below for what its adapter can do, and the
suite checks that the rest is refused as documented. The suite sets up the after-publishing
routes *before* `mock_success`'s, since respx tries routes in the order they were added.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
import respx

from providers.base import (
    AccountRef,
    MediaFile,
    MediaKind,
    PostContent,
    Processing,
    Provider,
    PublishResult,
)

ErrorKind = Literal["auth", "rate_limit", "server", "rejected"]
#: Where the engine serves media to platforms that fetch it (PUBLIC_URL/media/...).
MEDIA_URL = "https://crier.example/media"

#: A 1x1 JPEG.
TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b"
    "0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e3334"
    "32ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708"
    "090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114"
    "328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748"
    "494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999a"
    "a2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7"
    "e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)


class ContractCase(ABC):
    #: Shown in test ids.
    name: ClassVar[str]
    #: Strings (tokens, passwords, webhook URLs) that must never appear in an error message.
    secrets: ClassVar[tuple[str, ...]] = ()
    #: The platform takes no post without media (`Limits.media_required`, Pinterest): every
    #: post of the suite carries a photo.
    needs_media: ClassVar[bool] = False

    def post(self, tmp_path: Path, text: str = "Hello from Crier", **fields: Any) -> PostContent:
        """A post of `text` as the platform can publish it, with the media it requires."""
        return PostContent(text=text, media=self.required_media(tmp_path), **fields)

    @abstractmethod
    def provider(self, http: httpx.AsyncClient) -> Provider:
        """The adapter under test, using `http` (which respx intercepts)."""

    @abstractmethod
    def account(self) -> AccountRef:
        """A connected account with valid-looking config and credentials."""

    @abstractmethod
    def mock_success(self, router: respx.MockRouter) -> None:
        """Routes for a whole successful publish (sessions, uploads, the post itself)."""

    @abstractmethod
    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        """Routes for a publish whose final create-the-post call gets `answer`."""

    @abstractmethod
    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        """The platform's documented error shape for `kind`, carrying `message`."""

    @abstractmethod
    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        """Whether the recorded requests carried `alt` as the image's alt text."""

    # -- after publishing: only what the adapter declares is asked for ----------------------

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        """Routes for deleting what `mock_success` publishes; `answer` replaces the platform's
        answer to the delete request itself (None: it succeeds)."""
        raise NotImplementedError

    def gone_response(self) -> httpx.Response:
        """The platform's answer to deleting something that is already gone."""
        raise NotImplementedError

    def deleted(self, router: respx.MockRouter) -> bool:
        """Whether the recorded requests deleted the post `mock_success` published."""
        raise NotImplementedError

    def mock_edit(self, router: respx.MockRouter) -> None:
        """Routes for editing what `mock_success` publishes."""
        raise NotImplementedError

    def edited_to(self, router: respx.MockRouter, text: str) -> bool:
        """Whether the recorded requests changed the published post's text to `text`."""
        raise NotImplementedError

    def mock_lookup(self, router: respx.MockRouter, *, published: bool, key: str) -> None:
        """Routes for a lookup: the post published with `key` is out, or nothing is."""
        raise NotImplementedError

    def required_media(self, tmp_path: Path) -> tuple[MediaFile, ...]:
        """The media every post needs on this platform: none for most, a photo where
        `needs_media` (Pinterest), a case's own choice otherwise (YouTube: a video)."""
        return image_post(tmp_path).media if self.needs_media else ()


def post_for(
    case: ContractCase, tmp_path: Path, text: str, *, thread: tuple[str, ...] = ()
) -> PostContent:
    """A post of `text` (and `thread`) with whatever media the platform requires."""
    return case.post(tmp_path, text, thread=thread)


async def publish_to_end(
    provider: Provider, post: PostContent, account: AccountRef, key: str, *, polls: int = 20
) -> PublishResult:
    """Publish, and poll a two-phase publish until it answers (the engine's job, as is giving
    each file a signed public URL where the platform fetches media: `Limits.pulls_media`)."""
    if provider.limits_for(account).pulls_media:
        post = with_media_urls(post)
    result = await provider.publish(post, account, key)
    for _ in range(polls):
        if not isinstance(result, Processing):
            return result
        result = await provider.poll(result.handle, post, account, key)
    raise AssertionError(f"still processing after {polls} polls: {result}")


#: Where the engine would serve the suite's photo from, for platforms that pull media
#: (`Limits.pulls_media`); the others never look at `MediaFile.url`.
TINY_JPEG_URL = "https://crier.example/media/tiny.jpg?exp=1796000000&sig=contract"


def with_media_urls(post: PostContent) -> PostContent:
    """The post with a URL on every file, as the engine signs them under PUBLIC_URL."""
    media = tuple(
        m if m.url else replace(m, url=f"{MEDIA_URL}/{index}/{m.file_name or 'file'}?sig=test")
        for index, m in enumerate(post.media, start=1)
    )
    return replace(post, media=media)


def image_post(
    tmp_path: Path, text: str = "Hello from Crier", alt: str | None = None
) -> PostContent:
    path = tmp_path / "tiny.jpg"
    path.write_bytes(TINY_JPEG)
    return PostContent(
        text=text,
        media=(
            MediaFile(
                kind=MediaKind.PHOTO,
                mime="image/jpeg",
                size=len(TINY_JPEG),
                path=path,
                width=1,
                height=1,
                alt_text=alt,
                file_name="tiny.jpg",
                url=TINY_JPEG_URL,
            ),
        ),
        post_id=7,
    )
