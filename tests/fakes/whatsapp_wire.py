"""What the fake WhatsApp Cloud API (tests/fakes/whatsapp.py) answers with and how it reads
requests: Graph error bodies with WhatsApp's codes, titles and details (from Meta's "Error
codes" page), multipart form fields, and the Cloud API's media and text limits (written out
here again on purpose: the fake checks the adapter, not itself)."""

from __future__ import annotations

import itertools
from email.parser import BytesParser
from email.policy import default as email_policy
from typing import Any

import httpx

MB = 1_000_000
MAX_BODY = 4096
MAX_CAPTION = 1024
MAX_TEMPLATE_BODY = 1024
#: Supported media types and their largest size ("Supported media types").
MEDIA_TYPES: dict[str, dict[str, int]] = {
    "image": {"image/jpeg": 5 * MB, "image/png": 5 * MB},
    "video": {"video/mp4": 16 * MB, "video/3gpp": 16 * MB, "video/3gp": 16 * MB},
    "document": {
        mime: 100 * MB
        for mime in (
            "application/pdf",
            "text/plain",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        )
    },
    "audio": {"audio/aac": 16 * MB, "audio/mp4": 16 * MB, "audio/mpeg": 16 * MB},
    "sticker": {"image/webp": 500_000},
}

#: code -> (HTTP status, title, details) for the errors the fake gives.
ERRORS: dict[int, tuple[int, str, str]] = {
    0: (401, "AuthException", "We were unable to authenticate the app user."),
    100: (400, "Invalid parameter", ""),
    104: (400, "An access token is required to request this resource.", ""),
    190: (401, "Invalid OAuth access token - Cannot parse access token", ""),
    368: (
        403,
        "Temporarily blocked for policies violations",
        "The WhatsApp Business Account associated with the app has been restricted or disabled "
        "for violating a platform policy.",
    ),
    131000: (500, "Something went wrong", "Message failed to send due to an unknown error."),
    131026: (400, "Message Undeliverable.", "Message Undeliverable."),
    131030: (
        400,
        "Recipient phone number not in allowed list",
        "Recipient phone number not in allowed list: Add recipient phone number to recipient "
        "list and try again.",
    ),
    131031: (
        403,
        "Business Account locked",
        "The WhatsApp Business Account associated with the app has been restricted or disabled.",
    ),
    131047: (
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.",
    ),
    131048: (
        400,
        "Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be "
        "sent from this phone number. This may be because too many previous messages were "
        "blocked or flagged as spam.",
    ),
    131051: (400, "Unsupported message type", "Message type is not currently supported."),
    131053: (400, "Media upload error", "Unable to upload the media used in the message."),
    131056: (
        400,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    ),
    130429: (429, "Rate limit hit", "Cloud API message throughput has been reached."),
    132000: (
        400,
        "Number of parameters does not match the expected number of params",
        "",
    ),
    132001: (400, "Template name does not exist in the translation", ""),
    132005: (400, "Translated text too long", ""),
    132012: (400, "Parameter format does not match format in the created template", ""),
    132015: (400, "Template is Paused", "Template is paused due to low quality."),
    132016: (400, "Template is Disabled", "Template has been paused too many times."),
    132018: (
        400,
        "There was an issue with the parameters in your template.",
        "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
    ),
}

_TRACE = itertools.count(1)


def graph_error(
    code: int,
    details: str | None = None,
    *,
    status: int | None = None,
    message: str | None = None,
    subcode: int | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A Graph API error answer as the Cloud API sends it."""
    known_status, title, known_details = ERRORS.get(code, (400, "Error", ""))
    error: dict[str, Any] = {
        "message": message or f"(#{code}) {title}",
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details or known_details},
        "fbtrace_id": f"A{next(_TRACE):06d}xYzFakeTrace",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if code == 190:
        del error["error_data"]  # token errors are plain Graph errors
    return httpx.Response(status or known_status, json={"error": error}, headers=headers)


def missing_object(object_id: str, method: str) -> httpx.Response:
    """Graph's answer for an id that doesn't exist or the token may not use."""
    return graph_error(
        100,
        status=400,
        subcode=33,
        message=(
            f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation. "
            "Please read the Graph API documentation at https://developers.facebook.com/docs/"
            "graph-api"
        ),
    )


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


def digits(number: str) -> str:
    """A phone number as a WhatsApp id (wa_id): its digits."""
    return "".join(ch for ch in number if ch.isdigit())
