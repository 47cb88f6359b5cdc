"""What the fake X (tests/fakes/x.py) answers with and how it reads requests: X's problem
bodies, invalid-request bodies with an `errors` list, OAuth errors, multipart form fields, and
X's weighted text length (counted independently of the adapter on purpose)."""

from __future__ import annotations

import re
import unicodedata
from email.parser import BytesParser
from email.policy import default as email_policy

import httpx
import regex


def problem(
    status: int,
    title: str,
    detail: str,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    problem_type = f"https://api.x.com/2/problems/{kind}" if kind else "about:blank"
    body = {"title": title, "detail": detail, "type": problem_type, "status": status}
    return httpx.Response(status, json=body, headers=headers)


def invalid(message: str) -> httpx.Response:
    body = {
        "errors": [{"message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.x.com/2/problems/invalid-request",
    }
    return httpx.Response(400, json=body)


def oauth_error(status: int, error: str, description: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "error_description": description})


def multipart(request: httpx.Request) -> dict[str, tuple[str | None, str, bytes]]:
    """Field name -> (file name, content type, bytes) of a multipart/form-data body."""
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=email_policy).parsebytes(head + request.content)
    fields: dict[str, tuple[str | None, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = (part.get_filename(), part.get_content_type(), bytes(payload or b""))
    return fields


# Independent of the adapter's counter on purpose: the fake checks the adapter, not itself.
_URL = re.compile(r"https?://[^\s]+?(?=[.,:;!?)\]'\"]*(?:\s|$))", re.IGNORECASE)
_GRAPHEME = regex.compile(r"\X")
_PICTOGRAPHIC = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))


def weighted_length(text: str) -> int:
    """twitter-text v3: links 23, emoji 2, Latin and friends 1, everything else 2."""
    text = unicodedata.normalize("NFC", text)
    links = len(_URL.findall(text))
    total = 23 * links
    for grapheme in _GRAPHEME.findall(_URL.sub("", text)):
        if _PICTOGRAPHIC.search(grapheme):
            total += 2
            continue
        total += sum(1 if any(a <= ord(c) <= b for a, b in _LIGHT) else 2 for c in grapheme)
    return total
