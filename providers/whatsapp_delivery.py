"""One post's way to every recipient: the messages it becomes, and what has been done so far.

A post becomes the same message(s) for every recipient (`message_parts`): its text; or one
message per photo, video or document, the text as the first one's caption; or, where the
account sends with a template, one template message with the text as its parameter (and the
medium in its header). `Progress` records, per recipient, the id of every message sent and
the reason of every refusal; it is the `Processing` handle while recipients are left (JSON,
never a secret) and becomes the result's `ref` at the end.

A message whose answer was lost counts as sent with an unknown id (None): WhatsApp can't be
asked whether it went out, and sending it again could deliver it twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from providers.base import MediaFile, PostContent
from providers.errors import AuthError, PermanentError, ProviderError
from providers.whatsapp_limits import MESSAGE_TYPES
from providers.whatsapp_templates import TemplateInfo, template_parameter

#: Bumped when the handle's shape changes.
HANDLE_VERSION = 1


def part_count(post: PostContent, template: TemplateInfo | None) -> int:
    """How many messages each recipient gets."""
    return 1 if template is not None or not post.media else len(post.media)


def message_parts(
    post: PostContent,
    media_ids: Sequence[str],
    template: TemplateInfo | None,
    names: Sequence[str],
) -> list[dict[str, Any]]:
    """The message objects (without `to`) each recipient gets, in order."""
    if template is not None:
        return [_template_message(post, media_ids, template, names)]
    if not post.media:
        has_link = "http://" in post.text or "https://" in post.text
        return [{"type": "text", "text": {"preview_url": has_link, "body": post.text}}]
    parts = []
    for index, (item, media_id) in enumerate(zip(post.media, media_ids, strict=True)):
        kind = MESSAGE_TYPES[item.kind]
        body: dict[str, Any] = {"id": media_id}
        if index == 0 and post.text.strip():
            body["caption"] = post.text
        if kind == "document":
            body["filename"] = names[index]
        parts.append({"type": kind, kind: body})
    return parts


def _template_message(
    post: PostContent,
    media_ids: Sequence[str],
    template: TemplateInfo,
    names: Sequence[str],
) -> dict[str, Any]:
    parameter: dict[str, Any] = {"type": "text", "text": template_parameter(post.text)}
    if template.named:
        parameter["parameter_name"] = template.params[0]
    components: list[dict[str, Any]] = []
    if template.media_kind is not None and post.media:
        kind = MESSAGE_TYPES[template.media_kind]
        medium: dict[str, Any] = {"id": media_ids[0]}
        if kind == "document":
            medium["filename"] = names[0]
        components.append({"type": "header", "parameters": [{"type": kind, kind: medium}]})
    components.append({"type": "body", "parameters": [parameter]})
    return {
        "type": "template",
        "template": {
            "name": template.name,
            "language": {"code": template.language},
            "components": components,
        },
    }


def file_names(media: Sequence[MediaFile]) -> list[str]:
    """What each file is called where WhatsApp shows a name (documents)."""
    return [item.file_name or f"file{index + 1}" for index, item in enumerate(media)]


@dataclass(kw_only=True)
class Progress:
    """What one publish has done so far, per recipient."""

    #: Every recipient, in order, as they were when the publish began.
    recipients: list[str]
    #: Messages per recipient.
    parts: int
    #: The uploaded media ids, in the post's order; None until uploaded.
    media_ids: list[str] | None = None
    #: Per recipient, the wamid of each message sent so far (None: its answer was lost).
    messages: dict[str, list[str | None]] = field(default_factory=dict)
    #: Recipients WhatsApp refused, with the reason.
    failed: dict[str, str] = field(default_factory=dict)
    #: Why sending stopped for everyone left ({"kind": "auth" | "permanent", "reason"}).
    stopped: dict[str, str] | None = None

    @property
    def started(self) -> bool:
        """Whether any recipient has an outcome (after which nothing may be sent twice)."""
        return bool(self.failed) or any(self.messages.values())

    def pending(self) -> list[str]:
        return [
            number
            for number in self.recipients
            if number not in self.failed and len(self.messages.get(number, ())) < self.parts
        ]

    def sent(self, number: str, message_id: str | None) -> None:
        self.messages.setdefault(number, []).append(message_id)

    def stop(self, error: ProviderError) -> None:
        """Nobody left gets the post: an account-wide refusal after some were sent."""
        kind = "auth" if isinstance(error, AuthError) else "permanent"
        self.stopped = {"kind": kind, "reason": error.message}
        for number in self.pending():
            self.failed[number] = f"not sent: {error.message}"

    def delivered(self) -> list[str]:
        return [n for n in self.recipients if self.messages.get(n)]

    def error(self) -> ProviderError:
        """The most telling error when nobody got the post."""
        if self.stopped is not None:
            kind = AuthError if self.stopped["kind"] == "auth" else PermanentError
            return kind(self.stopped["reason"])
        reasons = list(dict.fromkeys(self.failed.values()))
        if len(self.recipients) == 1 or len(reasons) == 1:
            return PermanentError(f"WhatsApp didn't deliver the post: {reasons[0]}.")
        listed = "; ".join(f"{number}: {reason}" for number, reason in self.failed.items())
        return PermanentError(f"WhatsApp delivered the post to nobody. {listed}.")

    def notes(self) -> tuple[str, ...]:
        notes: list[str] = []
        unknown = [n for n in self.recipients if None in self.messages.get(n, ())]
        if self.failed:
            total = len(self.recipients)
            notes.append(f"Sent to {total - len(self.failed)} of {total} recipients.")
        notes.extend(f"{number}: {reason}" for number, reason in self.failed.items())
        notes.extend(
            f"{number}: WhatsApp didn't answer, so the message may or may not have arrived; "
            "Crier didn't send it again."
            for number in unknown
        )
        return tuple(notes)

    def ref(self, phone_number_id: str) -> dict[str, Any]:
        """What the result keeps: every recipient's first message id (or null), every id,
        the refusals and the number of messages per recipient."""
        return {
            "phone_number_id": phone_number_id,
            "messages": {n: ids[0] for n, ids in self.messages.items() if ids},
            "message_ids": {n: list(ids) for n, ids in self.messages.items() if ids},
            "failed": dict(self.failed),
            "parts": self.parts,
        }

    # -- the Processing handle ----------------------------------------------------------------

    def to_handle(self) -> dict[str, Any]:
        return {
            "v": HANDLE_VERSION,
            "recipients": list(self.recipients),
            "parts": self.parts,
            "media_ids": None if self.media_ids is None else list(self.media_ids),
            "messages": {n: list(ids) for n, ids in self.messages.items()},
            "failed": dict(self.failed),
            "stopped": None if self.stopped is None else dict(self.stopped),
        }

    @classmethod
    def from_handle(cls, handle: Mapping[str, Any]) -> Progress:
        if handle.get("v") != HANDLE_VERSION or not isinstance(handle.get("recipients"), list):
            raise PermanentError("This WhatsApp publish can't be carried on; publish it again.")
        media = handle.get("media_ids")
        stopped = handle.get("stopped")
        return cls(
            recipients=[str(n) for n in handle["recipients"]],
            parts=int(handle.get("parts") or 1),
            media_ids=None if media is None else [str(m) for m in media],
            messages={
                str(n): [None if i is None else str(i) for i in ids]
                for n, ids in (handle.get("messages") or {}).items()
            },
            failed={str(n): str(r) for n, r in (handle.get("failed") or {}).items()},
            stopped=dict(stopped) if isinstance(stopped, Mapping) else None,
        )
