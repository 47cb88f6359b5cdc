"""What WhatsApp (Cloud API) accepts, as data: the limits of free-form messages and of the
template an account may send with, and the account's recipients.

Media limits are the Cloud API's "Supported media types": JPEG and PNG photos up to 5 MB,
MP4 and 3GPP videos up to 16 MB (H.264 video, AAC audio, at most one audio stream), documents
(PDF, text, Word, Excel, PowerPoint) up to 100 MB; a text message takes 4,096 characters and
a media caption 1,024. A template's body, with its parameter filled in, takes 1,024.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from providers.base import (
    AccountRef,
    Limits,
    MediaKind,
    PostContent,
    Problem,
    Severity,
    TextCounting,
)
from providers.errors import PermanentError
from providers.whatsapp_templates import TemplateInfo, flattened

#: The Cloud API's sizes are in decimal megabytes; Crier keeps to them exactly.
MB = 1_000_000
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_TEMPLATE_BODY = 1024
MAX_IMAGE_BYTES = 5 * MB
MAX_VIDEO_BYTES = 16 * MB
MAX_DOCUMENT_BYTES = 100 * MB
#: One medium per message; a post with several goes out as several messages per recipient
#: (the caption on the first). Ten, like an album elsewhere; well inside the pair burst.
MAX_MEDIA = 10
#: Most recipients one account sends to: WhatsApp's own broadcast lists stop at 256.
MAX_RECIPIENTS = 256

IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
VIDEO_TYPES = frozenset({"video/mp4", "video/3gpp", "video/3gp"})
DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "text/plain",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)

#: The message type each kind of medium is sent as (an animation is an MP4 video).
MESSAGE_TYPES: Mapping[MediaKind, str] = {
    MediaKind.PHOTO: "image",
    MediaKind.VIDEO: "video",
    MediaKind.ANIMATION: "video",
    MediaKind.DOCUMENT: "document",
}

#: Unique people a business may start conversations with (templates) in 24 hours, per tier.
TIER_USERS: Mapping[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1_000,
    "TIER_2K": 2_000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": None,
}


def daily_reach(tier: str | None) -> int | None:
    """Unique people a day outside the window for a messaging limit ("TIER_2K" or a number);
    None when unlimited or unknown."""
    if tier and tier.isdigit():
        return int(tier)
    return TIER_USERS.get(tier or "")


LIMITS = Limits(
    max_text=MAX_TEXT,
    counting=TextCounting.CHARS,
    max_caption=MAX_CAPTION,
    max_media=MAX_MEDIA,
    max_images=MAX_MEDIA,
    max_videos=MAX_MEDIA,
    mixed_media=True,
    mime_types={
        MediaKind.PHOTO: IMAGE_TYPES,
        MediaKind.VIDEO: VIDEO_TYPES,
        MediaKind.ANIMATION: VIDEO_TYPES,
        MediaKind.DOCUMENT: DOCUMENT_TYPES,
    },
    max_bytes={
        MediaKind.PHOTO: MAX_IMAGE_BYTES,
        MediaKind.VIDEO: MAX_VIDEO_BYTES,
        MediaKind.ANIMATION: MAX_VIDEO_BYTES,
        MediaKind.DOCUMENT: MAX_DOCUMENT_BYTES,
    },
    video_codecs=frozenset({"h264"}),
    alt_text=False,
    threads=False,
    url_buttons=False,
    # The Cloud API takes no idempotency key and can't list what was sent: a send whose
    # answer was lost is never repeated (see providers/whatsapp.py).
    idempotent_publish=False,
    # One post at a time per number: the pair rate limit and the throughput are per number.
    concurrency=1,
    # "Processing" here is waiting out a rate limit between recipients, not transcoding.
    processing_timeout=3 * 3600.0,
)

# -- recipients -----------------------------------------------------------------------------

#: The business phone number id from WhatsApp Manager / the app's API Setup page.
PHONE_NUMBER_ID_PATTERN = r"\d{6,20}"
#: A WhatsApp Business Account id (optional, for templates).
WABA_ID_PATTERN = r"\d{6,20}"
_NUMBER = r"\+\d[\d .()-]{5,22}\d"
#: Numbers in international format, separated by commas, semicolons or new lines.
RECIPIENTS_PATTERN = rf"\s*{_NUMBER}(?:\s*[,;\n]\s*{_NUMBER})*\s*[,;]?\s*"
_SEPARATORS = re.compile(r"[,;\n]+")
_FORMATTING = re.compile(r"[\s().-]")


def parse_recipients(raw: str | Sequence[str] | None) -> list[str]:
    """E.164 numbers ("+15551234567") from what the user typed or what was stored, in order,
    each once; PermanentError naming the first one that isn't a number."""
    items = _SEPARATORS.split(raw) if isinstance(raw, str) else list(raw or ())
    numbers: list[str] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        number = _FORMATTING.sub("", text)
        digits = number.removeprefix("+")
        if not number.startswith("+") or not digits.isdigit() or not 7 <= len(digits) <= 15:
            raise PermanentError(
                f"{text!r} isn't a phone number in international format; write it with + and "
                "the country code, like +14155550123."
            )
        if number not in numbers:
            numbers.append(number)
    if not numbers:
        raise PermanentError("Give at least one phone number to send the posts to.")
    if len(numbers) > MAX_RECIPIENTS:
        raise PermanentError(
            f"That's {len(numbers)} numbers; Crier sends to at most {MAX_RECIPIENTS} per "
            "account. Connect the number again with a second list."
        )
    return numbers


def recipients_of(account: AccountRef) -> list[str]:
    """The stored recipients; [] when none could be read (validate says so)."""
    try:
        return parse_recipients(account.config.get("recipients"))
    except PermanentError:
        return []


def limits_for_config(config: Mapping[str, Any]) -> Limits:
    """The free-form limits, or those of the chosen template: a body of 1,024 characters with
    the template's own text, and media only where its header takes one (one, of that kind)."""
    data = config.get("template")
    if not isinstance(data, Mapping):
        return LIMITS
    template = TemplateInfo.from_config(data)
    kind = template.media_kind
    kinds = (kind, MediaKind.ANIMATION) if kind is MediaKind.VIDEO else (kind,)
    room = max(1, MAX_TEMPLATE_BODY - template.fixed_length)
    return Limits(
        max_text=room,
        counting=TextCounting.CHARS,
        max_media=1 if kind else 0,
        max_images=1 if kind is MediaKind.PHOTO else 0,
        max_videos=1 if kind is MediaKind.VIDEO else 0,
        mime_types={k: LIMITS.mime_types[k] for k in kinds if k is not None},
        max_bytes={k: LIMITS.max_bytes[k] for k in kinds if k is not None},
        video_codecs=LIMITS.video_codecs,
        idempotent_publish=False,
        concurrency=LIMITS.concurrency,
        processing_timeout=LIMITS.processing_timeout,
    )


def template_problems(
    template: TemplateInfo, post: PostContent, recipients: int, tier: str | None
) -> list[Problem]:
    """What a post sent as `template` can't do: go without text, or without the medium its
    header wants; line breaks it loses, and more recipients than the number's daily reach."""
    problems: list[Problem] = []
    if not post.text.strip():
        problems.append(
            Problem(
                code="template_needs_text",
                message=f"The template “{template.name}” gets the post's text: write some.",
            )
        )
    elif flattened(post.text):
        problems.append(
            Problem(
                code="line_breaks",
                message=(
                    "A template's parameter can't hold line breaks, tabs or long runs of "
                    "spaces: WhatsApp gets the text on one line."
                ),
                severity=Severity.WARNING,
            )
        )
    kind = template.media_kind
    if kind is not None and not post.media:
        problems.append(
            Problem(
                code="template_needs_media",
                message=(
                    f"The template “{template.name}” has a {kind.value} in its header: attach one."
                ),
            )
        )
    reach = daily_reach(tier)
    if reach is not None and recipients > reach:
        problems.append(
            Problem(
                code="messaging_limit",
                message=(
                    f"The number may start conversations with {reach:,} people a day "
                    f"({tier}); the list has {recipients:,}, so some may not get it today."
                ),
                severity=Severity.WARNING,
            )
        )
    return problems
