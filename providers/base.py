"""The contract every platform adapter fulfils.

An adapter declares what its platform accepts as `Limits` (data, used by `validate`, the
preview and the engine alike) and implements `publish`. Adapters take and return the plain
dataclasses below; they know nothing of the database or of Telegram's bot objects.

Two-phase platforms (a video the platform transcodes, a container it prepares) answer
`publish` with `Processing`: a handle the engine stores on the target and hands back to
`poll` after `retry_after` seconds, until `poll` answers `PublishResult` or raises. A
handle is never thrown away: after a restart the engine polls it again, so nothing is
uploaded twice.

Platforms that connect by a browser login declare `oauth` (providers/oauth.py); after the
login, `accounts_for(token)` says which destinations the login reaches (the member and the
organisations they manage, boards, channels) for the user to pick.

Per-post options
----------------
`PostContent` carries, besides text and media: URL `buttons` (rows of `LinkButton`, shown
where `Limits.url_buttons`; `providers.telegram_buttons.parse_buttons` turns the posting-bot
syntax into them, naming each bad line), Telegram's options (`TelegramOptions`: silent,
protected, spoiler, link preview, pin, what an album does with buttons) and `delete_after`
(when the bot means to delete the post). `validate` checks them with what it knows without
I/O (Telegram: the bot's rights stored at connect); `validate_live` asks the platform at
compose time (Telegram: getChatMember, `TelegramChannelProvider.rights`).

After publishing
----------------
What can be done to a post once it is out is declared as data, `AfterPublish` (like
`Limits`), so the bot offers only the buttons that work (`after_publish_for(account)`):

- `delete(published, account)` removes the whole post: every message of a Telegram album
  and its buttons message, every record of a Bluesky thread, every status of a Mastodon
  thread. Deleting what is already gone succeeds, so a retry is always safe.
- `edit(published, post, account, media_changed=...)` changes it in place and returns the
  result to store instead of the old one. The new post is checked with `validate_edit`
  first (the compose-time `validate`, plus what an edit can't change); `edit` refuses
  with `PermanentError` whatever `validate_edit` calls an error.
- `lookup(post, account, idempotency_key)` settles an *unknown* outcome (the answer to a
  publish was lost): the `PublishResult` when the post is out, `NotPublished` when the
  platform says it is not (publishing again is safe), None when the platform can't tell.

`published` is the `PublishResult` that `publish` (or `poll`, or an earlier `edit`)
returned. Its `ref` holds everything delete and edit need (every message id, every record
URI): JSON, stored on the target by the engine, never a secret. A result stored before refs
existed has an empty `ref`; adapters then fall back to `platform_id` (the first message or
post only). Platforms that can't do something raise `PermanentError` saying so, and the
defaults here do exactly that. Delete and edit raise like `publish` otherwise, except that a
lost answer is never ambiguous: repeating either is safe, and the `TransientError` says so.
What fails *after* a post is out (Telegram's pin, an album's buttons message) never fails the
publish: it becomes one of the result's `notes`.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from providers.errors import AuthError, PermanentError
from providers.oauth import OAuthApp, OAuthSpec, Token

# Part of PostContent, so part of the contract: importable from here too.
from providers.telegram_options import AlbumButtons as AlbumButtons
from providers.telegram_options import LinkPreview as LinkPreview
from providers.telegram_options import TelegramOptions as TelegramOptions
from providers.text import TextCounting, count_text


class MediaKind(enum.StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    ANIMATION = "animation"
    DOCUMENT = "document"


class Severity(enum.StrEnum):
    ERROR = "error"  # the platform would refuse the post
    WARNING = "warning"  # it will go out, but not quite as composed


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What one platform accepts in one post."""

    #: Longest text, counted as `counting` says.
    max_text: int
    counting: TextCounting = TextCounting.CHARS
    #: Longest text when media is attached, where the platform has a separate caption limit.
    max_caption: int | None = None
    #: Most media items of all kinds in one post (0: text only).
    max_media: int = 0
    max_images: int = 0
    max_videos: int = 0
    #: Whether photos and videos may share one post.
    mixed_media: bool = False
    #: Accepted MIME types per media kind; a kind absent here is not accepted.
    mime_types: Mapping[MediaKind, frozenset[str]] = field(default_factory=dict)
    #: Largest file per media kind, bytes.
    max_bytes: Mapping[MediaKind, int] = field(default_factory=dict)
    # The shape of photos and videos. None is no limit. `bot.media.profile` reads these:
    # photos over a size limit are shrunk to fit, anything else over a limit is a problem
    # for this account in the preview (videos are never re-encoded).
    #: Largest photo width and height, and width × height, in pixels.
    max_image_width: int | None = None
    max_image_height: int | None = None
    max_image_pixels: int | None = None
    #: Largest width + height of a photo, in pixels (Telegram: 10,000).
    max_image_side_sum: int | None = None
    #: Accepted width / height of photos, (min, max): (0.05, 20.0) is 1:20 to 20:1.
    image_aspect_ratio: tuple[float, float] | None = None
    #: A photo outside `image_aspect_ratio`: None refuses it; "ask" refuses it and says the
    #: account can be set to fit; "pad" (white bars) or "crop" (the middle) fits it, only
    #: because the user chose so for the account.
    image_aspect_fit: str | None = None
    #: FFmpeg names of accepted video codecs: "h264", "hevc", "vp9", "av1".
    video_codecs: frozenset[str] | None = None
    #: Longest video, seconds.
    max_video_duration: float | None = None
    #: Largest video frame, width × height in pixels (Mastodon's video_matrix_limit).
    max_video_pixels: int | None = None
    #: Highest video frame rate, frames per second.
    max_video_fps: float | None = None
    media_required: bool = False
    #: Sends alt text with images.
    alt_text: bool = False
    #: Can publish a thread (replies to its own post).
    threads: bool = False
    #: Shows `PostContent.buttons` (Telegram's inline keyboard of URL buttons); elsewhere
    #: `validate` warns that they will be left out.
    url_buttons: bool = False
    #: Publishing twice with the same idempotency key creates one post, so an ambiguous
    #: attempt may be retried safely.
    idempotent_publish: bool = False
    #: Publishes to one account at once (across worker processes).
    concurrency: int = 2
    #: Publishes to this platform at once, across accounts and across worker processes.
    platform_concurrency: int = 10
    #: Per-account posting quota: at most this many posts per window of seconds (Instagram's
    #: 24-hour publishing limit, X's daily cap). Over it, a post waits; it does not fail.
    quota: tuple[int, float] | None = None
    #: Longest a two-phase publish may stay `Processing` before it fails, seconds.
    processing_timeout: float = 3600.0
    #: The platform fetches media from a URL instead of taking an upload: the engine gives
    #: each `MediaFile` a signed, expiring `url` (and a post can't go out without PUBLIC_URL).
    pulls_media: bool = False


@dataclass(frozen=True, kw_only=True)
class MediaFile:
    kind: MediaKind
    mime: str
    size: int
    #: Local copy of the bytes; None when only `telegram_file_id` is known.
    path: Path | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    file_name: str | None = None
    alt_text: str | None = None
    #: Telegram's id for the file, reusable by the same bot without uploading again.
    telegram_file_id: str | None = None
    #: A public https address the platform can fetch the file from, signed and expiring,
    #: served by Crier under PUBLIC_URL; set by the engine for platforms that pull media
    #: (`Limits.pulls_media`: Instagram, Threads, TikTok's pull), None elsewhere.
    url: str | None = None


@dataclass(frozen=True, kw_only=True)
class LinkButton:
    """A URL button under a post (Telegram's InlineKeyboardButton with `url`)."""

    #: The label, as the user wrote it.
    text: str
    #: https://, http:// or tg:// (`providers.telegram_buttons` checks and parses them).
    url: str


#: Rows of buttons, top to bottom, each left to right.
ButtonRows = tuple[tuple[LinkButton, ...], ...]


@dataclass(frozen=True, kw_only=True)
class PostContent:
    text: str
    media: tuple[MediaFile, ...] = ()
    #: Crier's post id, for adapters that send it along (webhooks).
    post_id: int | None = None
    scheduled_at: datetime | None = None
    #: Telegram formatting of `text` (Bot API message entities, UTF-16 offsets); set only
    #: for Telegram targets, other platforms get their formatting written into `text`.
    entities: tuple[dict[str, Any], ...] = ()
    #: The parts after the first of a thread, published in order as replies, each to the one
    #: before (`text` and `media` are the first post). Only where `Limits.threads`.
    thread: tuple[str, ...] = ()
    #: URL buttons under the post, where `Limits.url_buttons` (`providers.telegram_buttons`
    #: parses the "Text - https://url | Other - https://url" syntax into these).
    buttons: ButtonRows = ()
    #: Telegram's per-post options (silent, protected, spoiler, link preview, pin, what an
    #: album does with buttons); other platforms ignore them.
    telegram: TelegramOptions = field(default_factory=TelegramOptions)
    #: When the bot means to delete the post after it is out (the engine schedules it);
    #: here only so `validate` can say whether the account will be able to.
    delete_after: timedelta | None = None

    @property
    def parts(self) -> tuple[str, ...]:
        """Every post's text, the first one included."""
        return (self.text, *self.thread)


@dataclass(frozen=True, kw_only=True)
class AccountRef:
    id: int
    platform: str
    label: str
    #: Non-secret settings (instance URL, channel id).
    config: Mapping[str, Any] = field(default_factory=dict)
    #: Decrypted secrets; never logged, never put in an error message.
    credentials: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class PublishResult:
    #: The platform's id of the created post (of its first message or part).
    platform_id: str
    #: Public link to it, if the platform has one.
    url: str | None = None
    #: Everything `delete` and `edit` need, stored on the target as JSON: plain strings,
    #: numbers, booleans, lists and string-keyed objects; never a secret. Each adapter
    #: documents its keys (Telegram: chat id and every message id; Bluesky: every record
    #: URI; Mastodon: every status id; Discord: the message and webhook ids; webhooks: the
    #: delivery id and the receiver's id). One key means the same everywhere: "parts", how
    #: many posts the post went out as (a thread's parts; 1 otherwise).
    ref: Mapping[str, Any] = field(default_factory=dict)
    #: What did not go as asked although the post is out (a pin Telegram refused, an album's
    #: buttons message that could not be sent): shown with the outcome, never a failure.
    notes: tuple[str, ...] = ()

    def __hash__(self) -> int:  # `ref` is a mapping: hash by identity on the platform
        return hash((self.platform_id, self.url))


@dataclass(frozen=True, kw_only=True)
class NotPublished:
    """`lookup` found for certain that the post is not (wholly) out: publishing it again
    with the same idempotency key adds only what is missing."""

    #: What was found, for the attempt log: "no record at the derived key".
    reason: str


@dataclass(frozen=True, kw_only=True)
class AfterPublish:
    """What can be done to a post once it is out, declared per platform like `Limits`."""

    #: `delete` removes the whole post (every message of an album, every part of a thread).
    can_delete: bool = False
    #: `edit` changes the text (the caption, with media) in place.
    can_edit_text: bool = False
    #: `edit(..., media_changed=True)` replaces the photos, videos and files in place.
    can_edit_media: bool = False
    #: `edit` changes the URL buttons in place.
    can_edit_buttons: bool = False
    #: `lookup` can settle an unknown outcome (otherwise it always answers None).
    can_lookup: bool = False

    @property
    def can_edit(self) -> bool:
        return self.can_edit_text or self.can_edit_media or self.can_edit_buttons


@dataclass(frozen=True, kw_only=True)
class Processing:
    """The platform has the post (or its media) and is still working on it."""

    #: What `poll` needs to carry on (media ids, an upload URL, a container id); JSON-able,
    #: stored on the target. Never a secret: tokens stay in the account's credentials.
    handle: Mapping[str, Any]
    #: Seconds until it is worth asking again (the platform's advice where it gives one).
    retry_after: float = 5.0
    #: What the user sees in /status: "processing the video".
    stage: str = "processing"


@dataclass(frozen=True, kw_only=True)
class Problem:
    code: str
    message: str
    severity: Severity = Severity.ERROR


@dataclass(frozen=True, kw_only=True)
class VerifiedAccount:
    """What `verify` learnt about an account at connect time; this is what gets stored."""

    #: What the user sees: "@alice.bsky.social", "@news".
    label: str
    #: Stable platform identity (DID, account id, channel id): reconnecting it updates the
    #: existing account instead of adding a duplicate.
    external_id: str
    #: Non-secret settings to store (resolved server URL, the platform's own limits).
    config: Mapping[str, Any] = field(default_factory=dict)
    #: Secrets to store encrypted; None keeps what the user entered.
    credentials: Mapping[str, Any] | None = field(default=None, repr=False)
    #: Shown to the user once, right after connecting (HTML), e.g. a generated signing secret.
    notice: str | None = field(default=None, repr=False)
    #: The platform to store it under, when one sign-in reaches destinations of several
    #: (a Meta login: Facebook Pages and the Instagram accounts linked to them); None: the
    #: platform signed in to.
    platform: str | None = None


@dataclass(frozen=True, kw_only=True)
class AccountOption:
    """A per-account setting the adapter reads from the account's config, declared as data
    so the bot's /accounts offers it (a choice, or a yes/no flag)."""

    key: str
    label: str
    #: (value, what the button says); empty for a flag.
    choices: tuple[tuple[str, str], ...] = ()
    default: str | bool = ""
    #: A config key listing the values this account may choose (TikTok: the audiences
    #: TikTok offers this creator, stored at connect); None: every choice.
    offered_by: str | None = None
    #: One line on what it changes, for the options screen.
    help: str = ""


@dataclass(frozen=True, kw_only=True)
class ConnectField:
    """One thing the /connect wizard asks the user for."""

    key: str
    #: The question, with where to find the answer (HTML: <b>, <i>, <a>, <code>). The bot
    #: adds the note that a secret answer's message gets deleted.
    prompt: str
    #: Secret answers go to credentials (encrypted) and their message is deleted from the chat.
    secret: bool = False
    optional: bool = False
    #: A regular expression the answer must match (full match), checked before verify.
    pattern: str | None = None
    #: Shown when the answer does not match `pattern`.
    hint: str | None = None


class Provider(ABC):
    """One platform."""

    #: Registry key and the `accounts.platform` value.
    platform: ClassVar[str]
    #: Name shown to users.
    display_name: ClassVar[str]
    #: What /connect asks for, in order; empty when the platform has its own connect flow.
    connect_fields: ClassVar[tuple[ConnectField, ...]] = ()
    #: How to sign in in the browser, for platforms connected that way; with `oauth_app`
    #: unset (no client id in the settings) the platform is not offered.
    oauth: OAuthSpec | None = None
    oauth_app: OAuthApp | None = None
    #: Settings per account the adapter reads from the config, offered in /accounts.
    account_options: ClassVar[tuple[AccountOption, ...]] = ()
    #: The platform's limits; `limits_for` may refine them per account (a server's own).
    limits: Limits
    #: What can be done once a post is out; `after_publish_for` may refine it per account.
    after_publish: AfterPublish = AfterPublish()

    def limits_for(self, account: AccountRef) -> Limits:
        return self.limits

    def after_publish_for(self, account: AccountRef) -> AfterPublish:
        return self.after_publish

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        """Everything the platform would refuse about this post; pure, no I/O."""
        problems = check_limits(self.limits_for(account), post, self.display_name)
        capabilities = self.after_publish_for(account)
        problems.extend(delete_after_problems(capabilities, post, self.display_name))
        return problems

    async def validate_live(self, post: PostContent, account: AccountRef) -> list[Problem]:
        """What `validate` can't know without asking the platform (Telegram: whether the bot
        may still pin and delete there); called at compose time after `validate`. Never
        raises for a platform that is down: it then has nothing to add."""
        return []

    def validate_edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> list[Problem]:
        """Everything wrong with editing `published` into `post`: what `validate` says at
        compose time, and what this platform can't change in place. Pure, no I/O."""
        capabilities = self.after_publish_for(account)
        if not capabilities.can_edit:
            return [Problem(code="no_edit", message=self._cannot("edit", capabilities))]
        problems = self.validate(post, account)
        problems.extend(edit_problems(capabilities, published, post, self.display_name))
        if media_changed and not capabilities.can_edit_media:
            problems.append(
                Problem(
                    code="media_not_editable",
                    message=(
                        f"{self.display_name} can't change the photos or videos of a post "
                        "that is out; delete it and post again."
                    ),
                )
            )
        return problems

    def text_length(self, text: str, account: AccountRef) -> int:
        """How long the platform considers `text`: what `limits_for(account).max_text` is
        compared with (the preview and the thread splitter show and use it)."""
        return count_text(text, self.limits_for(account).counting)

    @abstractmethod
    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | Processing:
        """Publish the post; raise a `ProviderError` subclass when it was not published.
        Two-phase platforms may answer `Processing` (see the module docstring)."""

    async def poll(
        self,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
        idempotency_key: str,
    ) -> PublishResult | Processing:
        """Carry on a publish that answered `Processing`: the result, still `Processing`,
        or a `ProviderError`. Never uploads again what the handle says was uploaded."""
        raise PermanentError(f"{self.display_name} has no two-phase publishing.")

    async def accounts_for(self, token: Token) -> list[VerifiedAccount]:
        """After a browser sign-in: the destinations this login can post to, each with the
        credentials to store for it (usually the token's)."""
        raise PermanentError(f"{self.display_name} doesn't connect by signing in.")

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Check the credentials against the platform at connect time."""
        return VerifiedAccount(label=account.label, external_id=str(account.id))

    async def refresh(self, account: AccountRef) -> Mapping[str, Any]:
        """Return renewed credentials, or raise AuthError when the user must reconnect."""
        raise AuthError(f"{self.display_name} needs you to reconnect this account.")

    # -- after publishing (see the module docstring) ----------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """Remove the whole published post; what is already gone counts as deleted. Raises a
        `ProviderError` like `publish` (PermanentError where the platform can't delete)."""
        raise PermanentError(self._cannot("delete", self.after_publish_for(account)))

    async def edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> PublishResult:
        """Change the published post into `post` and return the result to store in place of
        `published`. Text and buttons are always sent as `post` has them; photos and videos
        are replaced only with `media_changed` (otherwise those already out stay). Refuses
        with PermanentError what `validate_edit` calls an error, before any request."""
        raise PermanentError(self._cannot("edit", self.after_publish_for(account)))

    async def lookup(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | NotPublished | None:
        """Whether an attempt whose outcome is unknown published `post`: its result if the
        whole post is out, `NotPublished` if the platform says it is not (publishing again
        with the same key is then safe), None when the platform can't tell. Only reads; raises
        like `publish` when the platform can't be asked now (then ask again later)."""
        return None

    def ensure_editable(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> None:
        """Raise PermanentError with the errors `validate_edit` finds, if any."""
        errors = [
            p
            for p in self.validate_edit(published, post, account, media_changed=media_changed)
            if p.severity == Severity.ERROR
        ]
        if errors:
            raise PermanentError(" ".join(p.message for p in errors))

    def _cannot(self, what: str, capabilities: AfterPublish) -> str:
        if what == "edit" and capabilities.can_delete:
            return (
                f"{self.display_name} can't edit a post that is out; delete it and post it "
                "again instead."
            )
        return f"Crier can't {what} a post on {self.display_name} once it is out."


def check_limits(limits: Limits, post: PostContent, name: str) -> list[Problem]:
    """The checks every platform shares, driven by its `Limits`."""
    problems: list[Problem] = []
    if not post.text.strip() and not post.media:
        return [Problem(code="empty", message="The post has no text and no media.")]
    if limits.media_required and not post.media:
        problems.append(Problem(code="media_required", message=f"{name} needs a photo or video."))
    max_text = limits.max_caption if post.media and limits.max_caption else limits.max_text
    length = count_text(post.text, limits.counting)
    if length > max_text:
        where = "a caption" if post.media and limits.max_caption else "a post"
        what = "The first post of the thread" if post.thread else "Text"
        problems.append(
            Problem(
                code="text_too_long",
                message=f"{what} is {length:,} characters; {name} allows {max_text:,} in {where}.",
            )
        )
    problems.extend(thread_problems(limits, post, name))
    problems.extend(_media_problems(limits, post, name))
    if post.buttons and not limits.url_buttons:
        problems.append(
            Problem(
                code="no_buttons",
                message=f"{name} can't show buttons; they will be left out.",
                severity=Severity.WARNING,
            )
        )
    return problems


def delete_after_problems(
    capabilities: AfterPublish, post: PostContent, name: str
) -> list[Problem]:
    """A post set to be deleted later on a platform where Crier can't delete."""
    if post.delete_after is None or capabilities.can_delete:
        return []
    return [
        Problem(
            code="delete_not_possible",
            message=f"Crier can't delete posts on {name}, so it can't delete this one later.",
        )
    ]


def edit_problems(
    capabilities: AfterPublish, published: PublishResult, post: PostContent, name: str
) -> list[Problem]:
    """What the shape of a post that is out allows an edit to change, from its `ref`."""
    problems: list[Problem] = []
    if not capabilities.can_edit_text:
        problems.append(
            Problem(
                code="text_not_editable",
                message=f"{name} can't change the text of a post that is out.",
                severity=Severity.WARNING,
            )
        )
    parts = published.ref.get("parts")
    if isinstance(parts, int) and parts != len(post.parts):
        problems.append(
            Problem(
                code="thread_shape",
                message=(
                    f"The post went out as {parts} part(s); an edit can change their text but "
                    f"not make them {len(post.parts)}."
                ),
            )
        )
    return problems


def thread_problems(limits: Limits, post: PostContent, name: str) -> list[Problem]:
    """A thread where the platform has none, empty parts, and parts over the text limit
    (the first part is `post.text`, checked with the rest of the post)."""
    if not post.thread:
        return []
    if not limits.threads:
        return [Problem(code="no_threads", message=f"{name} can't publish a thread.")]
    problems: list[Problem] = []
    total = len(post.parts)
    for number, part in enumerate(post.thread, start=2):
        if not part.strip():
            problems.append(
                Problem(code="empty_part", message=f"Part {number} of {total} has no text.")
            )
            continue
        length = count_text(part, limits.counting)
        if length > limits.max_text:
            problems.append(
                Problem(
                    code="text_too_long",
                    message=(
                        f"Part {number} of {total} is {length:,} characters; {name} allows "
                        f"{limits.max_text:,}."
                    ),
                )
            )
    return problems


def _media_problems(limits: Limits, post: PostContent, name: str) -> list[Problem]:
    if not post.media:
        return []
    if limits.max_media == 0:
        return [Problem(code="no_media", message=f"{name} takes text only; remove the media.")]
    problems: list[Problem] = []
    if len(post.media) > limits.max_media:
        problems.append(
            Problem(
                code="too_many_media",
                message=f"{len(post.media)} media items; {name} allows {limits.max_media}.",
            )
        )
    images = [m for m in post.media if m.kind == MediaKind.PHOTO]
    videos = [m for m in post.media if m.kind in (MediaKind.VIDEO, MediaKind.ANIMATION)]
    if limits.max_images and len(images) > limits.max_images:
        problems.append(
            Problem(
                code="too_many_images",
                message=f"{len(images)} photos; {name} allows {limits.max_images}.",
            )
        )
    if videos and len(videos) > limits.max_videos:
        problems.append(
            Problem(
                code="too_many_videos",
                message=f"{len(videos)} videos; {name} allows {limits.max_videos}.",
            )
        )
    if images and videos and not limits.mixed_media:
        problems.append(
            Problem(code="mixed_media", message=f"{name} can't mix photos and videos in one post.")
        )
    for index, item in enumerate(post.media, start=1):
        accepted = limits.mime_types.get(item.kind)
        if accepted is None or (accepted and item.mime not in accepted):
            problems.append(
                Problem(
                    code="media_type",
                    message=f"Item {index} ({item.mime}) is not a format {name} accepts.",
                )
            )
            continue
        max_bytes = limits.max_bytes.get(item.kind)
        if max_bytes is not None and item.size > max_bytes:
            problems.append(
                Problem(
                    code="media_too_large",
                    message=(
                        f"Item {index} is {_mb(item.size)}; {name} allows {_mb(max_bytes)} "
                        f"per {item.kind.value}."
                    ),
                )
            )
    return problems


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} KB"
