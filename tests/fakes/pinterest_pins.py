"""The fake Pinterest's Pins after they are made (tests/fakes/pinterest.py): `PATCH` and
`DELETE /v5/pins/{pin_id}`, after the reference (5.23.0, operations pins/update and
pins/delete), as a mixin over the server's state.

Both need the scopes boards:read, boards:write, pins:read and pins:write. Delete answers 204,
and 404 `{"code": 50, "message": "Pin not found."}` for a Pin that is not there (deleted
before, or never made). Update takes PinUpdate (alt_text, board_id, board_section_id,
carousel_slots, description, link, title; `null` clears a field, an absent one stays) with
its limits (title 100, description 800, alt text 500, link 2048 and a URL), answers 200 with
the Pin; Pinterest marks it beta, "not available to all apps": with `pin_updates` off, the
fake refuses it with a 403 (its words assumed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from tests.fakes.pinterest_oauth import error as _error

if TYPE_CHECKING:
    from tests.fakes.pinterest import FakeBoard, FakePin

PIN_SCOPES = ("boards:read", "boards:write", "pins:read", "pins:write")
FIELD_LIMITS = {"title": 100, "description": 800, "alt_text": 500, "link": 2048}
UPDATABLE = frozenset(
    {"alt_text", "board_id", "board_section_id", "carousel_slots", "description", "link", "title"}
)
NOT_FOUND = (404, 50, "Pin not found.")


class PinRoutes:
    """Needs `pins`, `boards`, `pin_updates`, `_needs`, `_throttle` and `_pin_json`."""

    pins: list[FakePin]
    boards: list[FakeBoard]
    #: False: this app is not in the Update Pin beta.
    pin_updates: bool
    _needs: Callable[..., httpx.Response | None]
    _throttle: Callable[[], httpx.Response | None]
    _pin_json: Callable[[FakePin], dict[str, Any]]

    def _pin_entity(self, request: httpx.Request, scopes: tuple[str, ...]) -> httpx.Response:
        pin_id = request.url.path.removeprefix("/v5/pins/")
        refused = self._needs(scopes, *PIN_SCOPES) or self._throttle()
        if refused is not None:
            return refused
        pin = next((p for p in self.pins if p.id == pin_id), None)
        if request.method == "DELETE":
            if pin is None:
                return _error(*NOT_FOUND)
            self.pins.remove(pin)
            return httpx.Response(204)
        if request.method == "PATCH":
            return self._update(request, pin)
        return _error(405, 405, "Method not allowed.")

    def _update(self, request: httpx.Request, pin: FakePin | None) -> httpx.Response:
        if not self.pin_updates:
            # assumed: the words of a beta endpoint refused to an app outside the beta
            return _error(403, 4, "This endpoint is not available to your application.")
        if pin is None:
            return _error(*NOT_FOUND)
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _error(400, 1, "Invalid request: the body must be a JSON object.")
        for name, value in body.items():
            if name not in UPDATABLE:
                return _error(400, 1, f"Invalid request: '{name}' is not a PinUpdate field.")
            limit = FIELD_LIMITS.get(name)
            if limit and value is not None and (not isinstance(value, str) or len(value) > limit):
                return _error(400, 1, f"Invalid request: '{name}' is too long (max {limit}).")
        link = body.get("link")
        if link is not None and not str(link).startswith(("http://", "https://")):
            return _error(400, 1, "Whoops! It looks like you entered an invalid URL.")
        if "board_id" in body:
            board = next((b for b in self.boards if b.id == body["board_id"]), None)
            if board is None:
                return _error(404, 40, "Board not found.")
            pin.board_id = board.id
        for name in ("title", "description", "link", "alt_text"):
            if name in body:
                setattr(pin, name, body[name])
        return httpx.Response(200, json=self._pin_json(pin))
