"""WhatsApp message templates as Crier keeps them (read at connect time from
GET /{waba-id}/message_templates), the template chosen to send every post with, and the
24-hour customer service window explained for the preview (`window_note`).

Crier fills exactly one body parameter ({{1}}, or one named parameter) with the post's text,
and a media header with the post's one photo, video or document; templates needing more
(parameters in a text header, dynamic URL buttons, coupon codes, flows) can't be chosen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from providers.base import AccountRef, MediaKind
from providers.errors import PermanentError

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_MEDIA_HEADERS = {
    "IMAGE": MediaKind.PHOTO,
    "VIDEO": MediaKind.VIDEO,
    "DOCUMENT": MediaKind.DOCUMENT,
}
#: Template parameters may not hold new lines, tabs or more than four spaces in a row.
_BREAKS = re.compile(r"[\n\r\t]+")
_LONG_SPACE = re.compile(r" {5,}")


@dataclass(frozen=True, kw_only=True)
class TemplateInfo:
    """One message template of the account, as stored for the preview and for sending."""

    name: str
    language: str
    #: APPROVED, PENDING, REJECTED, PAUSED, DISABLED...
    status: str
    category: str | None = None
    #: The header's format (TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION) or None.
    header: str | None = None
    #: The body's placeholders: ["1"] or ["name"].
    params: tuple[str, ...] = ()
    #: Whether placeholders are named ({{name}}) rather than numbered ({{1}}).
    named: bool = False
    #: Characters of the body outside its placeholders.
    fixed_length: int = 0
    #: Whether the header or a button needs a parameter Crier doesn't fill.
    needs_more: bool = False

    def to_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "header": self.header,
            "params": list(self.params),
            "named": self.named,
            "fixed_length": self.fixed_length,
            "needs_more": self.needs_more,
        }

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> TemplateInfo:
        return cls(
            name=str(data.get("name") or ""),
            language=str(data.get("language") or ""),
            status=str(data.get("status") or ""),
            category=data.get("category"),
            header=data.get("header"),
            params=tuple(str(p) for p in data.get("params") or ()),
            named=bool(data.get("named")),
            fixed_length=int(data.get("fixed_length") or 0),
            needs_more=bool(data.get("needs_more")),
        )

    @property
    def media_kind(self) -> MediaKind | None:
        """The kind of medium the header takes, if it takes one."""
        return _MEDIA_HEADERS.get(self.header or "")

    @property
    def usable(self) -> bool:
        """Crier can send posts with it: approved, one body parameter, nothing else to fill."""
        return self.status == "APPROVED" and len(self.params) == 1 and not self.needs_more


def template_info(raw: Mapping[str, Any]) -> TemplateInfo:
    """A template object from GET /{waba-id}/message_templates, as Crier keeps it."""
    header: str | None = None
    body = ""
    needs_more = False
    for component in raw.get("components") or ():
        kind = str(component.get("type") or "").upper()
        if kind == "HEADER":
            header = str(component.get("format") or "TEXT").upper()
            needs_more |= header == "TEXT" and bool(_PLACEHOLDER.search(component.get("text", "")))
            needs_more |= header == "LOCATION"
        elif kind == "BODY":
            body = str(component.get("text") or "")
        elif kind == "BUTTONS":
            for button in component.get("buttons") or ():
                needs_more |= bool(_PLACEHOLDER.search(str(button.get("url") or "")))
                needs_more |= str(button.get("type") or "").upper() in {"COPY_CODE", "FLOW"}
    params = tuple(dict.fromkeys(_PLACEHOLDER.findall(body)))
    return TemplateInfo(
        name=str(raw.get("name") or ""),
        language=str(raw.get("language") or ""),
        status=str(raw.get("status") or "").upper(),
        category=raw.get("category"),
        header=header,
        params=params,
        named=str(raw.get("parameter_format") or "").upper() == "NAMED"
        or any(not p.isdigit() for p in params),
        fixed_length=len(_PLACEHOLDER.sub("", body)),
        needs_more=needs_more,
    )


def templates_of(account: AccountRef) -> list[TemplateInfo]:
    return [TemplateInfo.from_config(t) for t in account.config.get("templates") or ()]


def chosen_template(account: AccountRef) -> TemplateInfo | None:
    """The template every post of this account is sent as, if one was chosen."""
    data = account.config.get("template")
    return TemplateInfo.from_config(data) if isinstance(data, Mapping) else None


def choose_template(answer: str, templates: Iterable[TemplateInfo]) -> TemplateInfo:
    """The template the user named ("name" or "name:language"); PermanentError saying why it
    can't be used otherwise."""
    name, _, language = answer.strip().partition(":")
    matching = [t for t in templates if t.name == name.strip()]
    if language.strip():
        matching = [t for t in matching if t.language == language.strip()]
    if not matching:
        raise PermanentError(
            f"The account has no message template {answer.strip()!r}; check its name (and "
            "language) in WhatsApp Manager → Message templates."
        )
    if len(matching) > 1:
        languages = ", ".join(t.language for t in matching)
        raise PermanentError(
            f"The template {name!r} exists in several languages ({languages}); answer with "
            f"one, like {name}:{matching[0].language}."
        )
    found = matching[0]
    if found.status != "APPROVED":
        raise PermanentError(
            f"The template {found.name!r} is {found.status.lower() or 'not approved'}; WhatsApp "
            "sends only approved templates."
        )
    if len(found.params) != 1 or found.needs_more:
        raise PermanentError(
            f"Crier fills one parameter of a template with the post's text; {found.name!r} "
            f"has {len(found.params)} in its body"
            + (" and more to fill in its header or buttons" if found.needs_more else "")
            + ". Create a template whose body is just {{1}} (or a little text around it)."
        )
    return found


def template_parameter(text: str) -> str:
    """The post's text as a template parameter takes it: new lines and tabs become spaces,
    long runs of spaces shrink to four."""
    return _LONG_SPACE.sub("    ", _BREAKS.sub(" ", text)).strip()


def flattened(text: str) -> bool:
    """Whether `template_parameter` changes more than the ends of `text`."""
    return template_parameter(text) != text.strip()


# -- the 24-hour window, for the preview ------------------------------------------------------


def window_note(account: AccountRef) -> str:
    """Plain text for the preview: the 24-hour rule, how this account sends, and the account's
    approved templates (from what `verify` stored). Pure; the caller escapes it."""
    number = account.config.get("display_phone_number") or "this number"
    chosen = chosen_template(account)
    if chosen is not None:
        lines = [
            f"Every post goes out as the approved template “{chosen.name}” "
            f"({chosen.language}), its text filling the template's parameter: it reaches "
            "everyone on the list, also people who haven't written lately (WhatsApp charges "
            "for template messages).",
        ]
    else:
        lines = [
            "WhatsApp delivers a free-form message only to people who wrote to "
            f"{number} in the last 24 hours. The others get nothing (WhatsApp's "
            "“re-engagement” error): reaching them needs an approved message template, "
            "which you can choose by connecting the account again.",
        ]
    approved = [t for t in templates_of(account) if t.status == "APPROVED"]
    if approved:
        names = ", ".join(f"{t.name} ({t.language})" for t in approved[:20])
        more = f" and {len(approved) - 20} more" if len(approved) > 20 else ""
        lines.append(f"Approved templates: {names}{more}.")
    elif account.config.get("waba_id"):
        lines.append("The account has no approved message templates.")
    else:
        lines.append(
            "Crier doesn't know the account's templates: connect it again with the WhatsApp "
            "Business Account ID to list them."
        )
    return "\n".join(lines)
