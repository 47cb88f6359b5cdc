"""How the fake Threads API talks: Graph API error objects, the parameters of a request (query
and form alike, as Graph takes them), and Threads' own way of counting a post's length and
links. Shapes Threads does not document exactly are marked "assumed"."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import httpx
import regex

_TRACE = itertools.count(1)
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
_LINK = re.compile(r"(?:https?://|www\.)[^\s]+", re.IGNORECASE)


def graph_error(
    status: int,
    message: str,
    code: int,
    *,
    subcode: int | None = None,
    kind: str = "OAuthException",
    user_title: str | None = None,
    user_msg: str | None = None,
    transient: bool | None = None,
) -> httpx.Response:
    """A Graph API error object, as every Threads endpoint answers a failure."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient is not None:
        error["is_transient"] = transient
    if user_title is not None:
        error["error_user_title"] = user_title
    if user_msg is not None:
        error["error_user_msg"] = user_msg
    error["fbtrace_id"] = f"AbCdEf{next(_TRACE):06d}"
    return httpx.Response(status, json={"error": error})


def invalid_token(expired: bool = False) -> httpx.Response:
    if expired:
        return graph_error(
            400,
            "Error validating access token: Session has expired.",
            190,
            subcode=463,
        )
    return graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)


def no_permission() -> httpx.Response:
    return graph_error(400, "(#10) Application does not have permission for this action", 10)


def invalid_parameter(user_msg: str, *, title: str = "Invalid parameter") -> httpx.Response:
    """A refused parameter (assumed: Graph's code 100 with Threads' words for the user)."""
    return graph_error(
        400, "Invalid parameter", 100, user_title=title, user_msg=user_msg, transient=False
    )


def does_not_exist(object_id: str, verb: str = "get") -> httpx.Response:
    """Graph's answer for an object that isn't there (or not this user's)."""
    return graph_error(
        400,
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        100,
        subcode=33,
        kind="GraphMethodException",
    )


def media_not_found(container_id: str) -> httpx.Response:
    """`threads_publish` with a container Threads can't publish (yet): as reported for a
    video container published before it finished processing."""
    return graph_error(
        400,
        "The requested resource does not exist",
        24,
        subcode=4279009,
        user_title="Media Not Found",
        user_msg=f"The media with id {container_id} cannot be found.",
        transient=False,
    )


def limit_reached(what: str) -> httpx.Response:
    """Over a 24-hour quota (assumed: Graph's code 4, "request limit reached")."""
    return graph_error(
        400,
        "Application request limit reached",
        4,
        user_title="Limit reached",
        user_msg=f"This profile has reached the maximum number of {what} for 24 hours.",
        transient=True,
    )


def params(request: httpx.Request) -> dict[str, str]:
    """Query and form parameters together (Graph takes either); a form field wins."""
    found = {k: v for k, v in request.url.params.items()}
    content_type = request.headers.get("content-type", "")
    if request.content and content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(request.content.decode(), keep_blank_values=True)
        found.update({k: v[0] for k, v in form.items()})
    return found


def threads_length(text: str) -> int:
    """ "Emojis are counted as the number of UTF-8 bytes"; everything else one a character."""
    return sum(len(g.encode()) if _EMOJI.search(g) else len(g) for g in _GRAPHEME.findall(text))


def link_count(text: str) -> int:
    return len({m.group(0).rstrip(".,;:!?)").lower() for m in _LINK.finditer(text)})


def pick(values: Mapping[str, Any], fields: str) -> dict[str, Any]:
    """Only the `fields` asked for (and the id, always there)."""
    wanted = [f for f in fields.split(",") if f]
    picked = {k: values[k] for k in wanted if k in values and values[k] is not None}
    picked.setdefault("id", values["id"])
    return picked
