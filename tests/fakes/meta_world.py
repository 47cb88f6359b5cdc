"""The state behind the fake Graph API (tests/fakes/meta_graph.py): Meta's users, Pages,
Instagram accounts, tokens and what was published, and Graph's error shape.

Tokens, per "Access Token Guide" and "Long-Lived Access Tokens": a user token from the code
exchange lives about two hours, a long-lived one 60 days (`fb_exchange_token`), a Page token
read with a long-lived user token never expires. A token carries the permissions the person
granted on the consent screen. Errors are Graph's one object:

    {"error": {"message", "type", "code", "error_subcode", "error_user_title",
               "error_user_msg", "fbtrace_id"}}
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

SHORT_TTL = 2 * 3600
LONG_TTL = 60 * 24 * 3600
#: Permissions a consent screen grants unless told otherwise.
ALL_PERMISSIONS = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_contents",
    "public_profile",
)


@dataclass
class FakeUser:
    id: str
    name: str
    #: What the person ticks on the consent screen (None: everything asked for).
    grants: frozenset[str] | None = None


@dataclass
class FakeInstagram:
    id: str
    username: str
    name: str
    page_id: str


@dataclass
class FakePage:
    id: str
    name: str
    #: user id -> the tasks that person may perform on the Page.
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    instagram: FakeInstagram | None = None


@dataclass
class FakeToken:
    value: str
    kind: str  # "user" or "page"
    user_id: str
    scopes: frozenset[str]
    expires_at: float | None
    page_id: str | None = None
    revoked: bool = False


@dataclass
class FakePost:
    id: str
    page_id: str
    message: str
    link: str | None = None
    photo_ids: list[str] = field(default_factory=list)
    video_id: str | None = None
    created_at: float = 0.0
    deleted: bool = False


@dataclass
class FakePhoto:
    id: str
    page_id: str
    published: bool
    mime: str
    data: bytes
    alt_text: str | None = None
    post_id: str | None = None


@dataclass
class FakeVideo:
    id: str
    page_id: str
    reel: bool
    data: bytes = b""
    size: int = 0
    description: str = ""
    #: "uploading" -> "processing" (for `polls_left` reads) -> "ready" or "error".
    state: str = "uploading"
    polls_left: int = 0
    published: bool = False
    failed: str | None = None
    deleted: bool = False


class MetaWorld:
    """Who exists at Meta and which tokens are good."""

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.clock = clock
        self.users: dict[str, FakeUser] = {}
        self.pages: dict[str, FakePage] = {}
        self.tokens: dict[str, FakeToken] = {}
        self.posts: dict[str, FakePost] = {}
        self.photos: dict[str, FakePhoto] = {}
        self.videos: dict[str, FakeVideo] = {}
        self._next = 100_000_000_000_000

    def new_id(self) -> str:
        self._next += 1
        return str(self._next)

    # -- people and Pages -------------------------------------------------------------------

    def add_user(self, name: str = "Alice", grants: Iterable[str] | None = None) -> FakeUser:
        user = FakeUser(id=self.new_id(), name=name, grants=frozenset(grants) if grants else None)
        self.users[user.id] = user
        return user

    def add_page(
        self,
        name: str,
        user: FakeUser,
        tasks: Iterable[str] = ("ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"),
        page_id: str | None = None,
    ) -> FakePage:
        page = FakePage(id=page_id or self.new_id(), name=name, roles={user.id: tuple(tasks)})
        self.pages[page.id] = page
        return page

    def link_instagram(
        self, page: FakePage, username: str, ig_id: str | None = None
    ) -> FakeInstagram:
        account = FakeInstagram(
            id=ig_id or str(17_841_400_000_000_000 + len(self.pages) * 7 + len(username)),
            username=username,
            name=username.title(),
            page_id=page.id,
        )
        page.instagram = account
        return account

    def as_page(self, page: FakePage, token: FakeToken) -> httpx.Response | None:
        """Graph's answer when `token` may not post as `page`, else None."""
        if token.kind != "page" or token.page_id != page.id:
            return error(
                403,
                200,
                "(#200) Unpublished posts must be posted to a page as the page itself.",
            )
        if "pages_manage_posts" not in token.scopes:
            return permission_error("pages_manage_posts")
        return None

    def new_post(self, page: FakePage, message: str, **kwargs: Any) -> FakePost:
        """A post on the Page, made now (as Crier or the Page's people make them)."""
        post = FakePost(
            id=f"{page.id}_{self.new_id()}",
            page_id=page.id,
            message=message,
            created_at=self.clock(),
            **kwargs,
        )
        self.posts[post.id] = post
        return post

    def instagram(self, ig_id: str) -> FakeInstagram | None:
        return next(
            (p.instagram for p in self.pages.values() if p.instagram and p.instagram.id == ig_id),
            None,
        )

    # -- tokens -----------------------------------------------------------------------------

    def user_token(
        self,
        user: FakeUser,
        scopes: Iterable[str] = ALL_PERMISSIONS,
        *,
        long_lived: bool = True,
        value: str | None = None,
    ) -> str:
        """A user token, as if `user` had signed in (`value`: this one)."""
        ttl = LONG_TTL if long_lived else SHORT_TTL
        return self._token(
            "user", user.id, frozenset(scopes), self.clock() + ttl, value=value
        ).value

    def page_token(
        self,
        page: FakePage,
        user: FakeUser | FakeToken,
        *,
        expires: bool = False,
        value: str | None = None,
    ) -> str:
        """The Page token for `user` (or read with the user token `user`, carrying what it
        was granted): no expiry when read with a long-lived user token."""
        if isinstance(user, FakeToken):
            user_id, granted = user.user_id, user.scopes
        else:
            user_id, granted = user.id, frozenset(ALL_PERMISSIONS)
        expiry = self.clock() + SHORT_TTL if expires else None
        return self._token("page", user_id, granted, expiry, page_id=page.id, value=value).value

    def _token(
        self,
        kind: str,
        user_id: str,
        scopes: frozenset[str],
        expires_at: float | None,
        page_id: str | None = None,
        value: str | None = None,
    ) -> FakeToken:
        value = value or "EAAG" + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")
        token = FakeToken(value, kind, user_id, scopes, expires_at, page_id)
        self.tokens[value] = token
        return token

    def issue(self, user_id: str, scopes: frozenset[str], ttl: float) -> FakeToken:
        return self._token("user", user_id, scopes, self.clock() + ttl)

    def expire_user_tokens(self) -> None:
        for token in self.tokens.values():
            if token.kind == "user":
                token.expires_at = self.clock() - 1

    def revoke(self, value: str) -> None:
        self.tokens[value].revoked = True

    def check(self, value: str) -> FakeToken | httpx.Response:
        """The token, or Graph's answer refusing it."""
        token = self.tokens.get(value)
        if token is None:
            return error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if token.revoked:
            return error(
                400,
                190,
                "Error validating access token: The user has not authorized application "
                f"{self.app_id}.",
                subcode=458,
            )
        if token.expires_at is not None and token.expires_at <= self.clock():
            return error(
                400,
                190,
                "Error validating access token: Session has expired on Tuesday, 01-Dec-26 "
                "10:00:00 PST. The current time is Monday, 07-Dec-26 04:00:00 PST.",
                subcode=463,
            )
        return token


def error(
    status: int,
    code: int,
    message: str,
    *,
    type: str = "OAuthException",
    subcode: int | None = None,
    user_title: str | None = None,
    user_msg: str | None = None,
    transient: bool | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Graph's error object."""
    body: dict[str, Any] = {"message": message, "type": type, "code": code}
    if subcode is not None:
        body["error_subcode"] = subcode
    if user_title is not None:
        body["error_user_title"] = user_title
    if user_msg is not None:
        body["error_user_msg"] = user_msg
    if transient is not None:
        body["is_transient"] = transient
    body["fbtrace_id"] = "A" + secrets.token_hex(10)
    return httpx.Response(status, json={"error": body}, headers=dict(headers or {}))


def permission_error(permission: str) -> httpx.Response:
    return error(
        403,
        200,
        f"(#200) Requires {permission} permission to manage the object",
    )


def gone(object_id: str) -> httpx.Response:
    return error(
        400,
        100,
        f"Unsupported delete request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read "
        "the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        type="GraphMethodException",
        subcode=33,
    )


__all__ = [
    "ALL_PERMISSIONS",
    "LONG_TTL",
    "SHORT_TTL",
    "FakeInstagram",
    "FakePage",
    "FakePhoto",
    "FakePost",
    "FakeToken",
    "FakeUser",
    "FakeVideo",
    "MetaWorld",
    "error",
    "gone",
    "permission_error",
]
