"""How the emulator reads a Bot API call off the wire.

Parameters come in the query string, a form-urlencoded or multipart body (files as parts,
nested objects as JSON strings) or a JSON body, and each is decoded the way the Bot API
interprets that parameter.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from bot.demo.emulator.world import JSON, ApiError, Upload

# Parameters whose form-encoded value is a JSON-serialized object/array.
_JSON_PARAMS = frozenset(
    {
        "reply_markup", "media", "entities", "caption_entities", "commands", "scope",
        "allowed_updates", "link_preview_options", "reply_parameters", "message_ids",
        "results", "options", "permissions", "explanation_entities", "menu_button", "rights",
    }
)  # fmt: skip
_INT_PARAMS = frozenset(
    {
        "chat_id", "from_chat_id", "message_id", "user_id", "offset", "limit", "timeout",
        "duration", "width", "height", "message_thread_id", "cache_time",
        "reply_to_message_id", "max_connections", "until_date", "sender_chat_id",
    }
)  # fmt: skip
_BOOL_PARAMS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "has_spoiler",
        "supports_streaming", "disable_content_type_detection", "drop_pending_updates",
        "allow_sending_without_reply", "show_caption_above_media", "disable_web_page_preview",
        "revoke_messages", "only_if_banned", "allow_paid_broadcast",
    }
)  # fmt: skip
_MAX_FORM_PART = 60 * 1024 * 1024


def coerce(key: str, value: str) -> Any:
    """Decode one form/query value the way the Bot API interprets that parameter."""
    if key in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if key in _INT_PARAMS:
        try:
            return int(value.strip())
        except ValueError:
            return value
    if key in _BOOL_PARAMS:
        return value.strip().lower() in ("true", "1")
    return value


async def read_params(request: Request) -> tuple[JSON, dict[str, Upload]]:
    """The call's parameters from the query string and the body, and its uploaded files."""
    params: JSON = {key: coerce(key, value) for key, value in request.query_params.items()}
    files: dict[str, Upload] = {}
    if request.method != "POST":
        return params, files
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/json"):
        body = await request.body()
        if body.strip():
            try:
                data = json.loads(body)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON encoded request") from None
            if not isinstance(data, dict):
                raise ApiError(400, "Bad Request: JSON object expected")
            for key, value in data.items():
                params[key] = coerce(key, value) if isinstance(value, str) else value
    elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        async with request.form(
            max_files=1000, max_fields=1000, max_part_size=_MAX_FORM_PART
        ) as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    upload = Upload(
                        field=key,
                        filename=value.filename or key,
                        content_type=value.content_type or "application/octet-stream",
                        data=await value.read(),
                    )
                    files[key] = upload
                    params[key] = upload
                else:
                    params[key] = coerce(key, value)
    return params, files
