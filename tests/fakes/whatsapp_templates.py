"""Message templates in the fake WhatsApp Cloud API: what a template is, and what the Cloud
API refuses when a message uses one (an unknown or unapproved template, the wrong number of
parameters, line breaks in one, a body over 1,024 characters, a missing media header)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from tests.fakes.whatsapp_wire import MAX_TEMPLATE_BODY, graph_error

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_BAD_PARAMETER = re.compile(r"[\n\t]| {5,}")


@dataclass
class FakeTemplate:
    id: str
    name: str
    language: str
    status: str
    category: str
    components: list[dict[str, Any]]
    parameter_format: str = "POSITIONAL"

    def as_json(self, fields: list[str]) -> dict[str, Any]:
        full = {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "parameter_format": self.parameter_format,
            "components": self.components,
        }
        return {k: v for k, v in full.items() if k == "id" or k in fields}


def check_template(
    templates: list[FakeTemplate], body: dict[str, Any]
) -> httpx.Response | tuple[str, dict[str, Any]] | None:
    """An error for a template message the Cloud API refuses; for one whose header takes a
    medium, (kind, the medium) for the caller to check; None when it is fine."""
    name = str(body.get("name") or "")
    language = str((body.get("language") or {}).get("code") or "")
    found = next(
        (t for t in templates if t.name == name and t.language == language),
        None,
    )
    if found is None:
        return graph_error(132001, f"template name ({name}) does not exist in {language}")
    if found.status == "PAUSED":
        return graph_error(132015)
    if found.status != "APPROVED":
        return graph_error(132016 if found.status == "DISABLED" else 132001)
    given = {c.get("type"): c.get("parameters") or [] for c in body.get("components") or []}
    text = next((c["text"] for c in found.components if c["type"] == "BODY"), "")
    expected = list(dict.fromkeys(_PLACEHOLDER.findall(text)))
    params = given.get("body", [])
    if len(params) != len(expected):
        return graph_error(
            132000,
            f"body: number of localizable_params ({len(params)}) "
            f"does not match the expected number of params "
            f"({len(expected)})",
        )
    values = {}
    for index, param in enumerate(params):
        value = str(param.get("text") or "")
        if _BAD_PARAMETER.search(value) or not value.strip():
            return graph_error(132018)
        key = param.get("parameter_name") if found.parameter_format == "NAMED" else None
        values[key or expected[index]] = value
    filled = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)
    if len(filled) > MAX_TEMPLATE_BODY:
        return graph_error(132005)
    header = next((c for c in found.components if c["type"] == "HEADER"), None)
    media_header = header is not None and header.get("format") in ("IMAGE", "VIDEO", "DOCUMENT")
    if media_header != bool(given.get("header")):
        return graph_error(132012, "header: format mismatch")
    if media_header:
        assert header is not None
        kind = str(header["format"]).lower()
        parameter = given["header"][0]
        medium = parameter.get(kind) if parameter.get("type") == kind else None
        if not isinstance(medium, dict):
            return graph_error(132012, f"header: expected {kind}")
        return kind, medium
    return None
