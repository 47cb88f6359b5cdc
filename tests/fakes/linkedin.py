"""A stateful fake of the LinkedIn API an adapter publishes through, for tests over httpx.

It follows LinkedIn's documentation (OAuth 2.0 authorization code flow, OpenID userinfo,
`/v2/me`, Organization Access Control, Organization Lookup, and the versioned Images, Videos
and Posts APIs) and keeps what they change: sign-ins and their scopes, pages and admin roles,
uploaded images, videos uploaded in 4 MB parts and processed over several polls, and posts.
It checks what LinkedIn checks — the version headers, the token and its scopes, the right to
post as a page, commentary length (little text read as LinkedIn reads it), 2-20 images,
ready media, video sizes and parts, duplicates, a per-member daily limit; deleting and
editing posts (tests/fakes/linkedin_posts.py) — and answers with LinkedIn's error shapes::

    fake = FakeLinkedIn()
    alice = fake.add_member("Alice", "Smith")
    token = fake.grant(alice, "openid profile w_member_social")
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as http:
        await LinkedInProvider(http).publish(post, account, "key")
    assert fake.posts[0].text == "Hello (world)"

`fake.handle` also works as a respx side effect.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from tests.fakes.linkedin_content import ContentRoutes
from tests.fakes.linkedin_posts import PostRoutes
from tests.fakes.linkedin_state import (
    INVALID_TOKEN,
    Failure,
    FakeImage,
    FakePost,
    FakeVideo,
    Grant,
    Member,
    Organization,
    RecordedRequest,
    RefreshGrant,
    access_denied,
    error,
)

API = "https://api.linkedin.com"
WWW = "https://www.linkedin.com"
ACCESS_TOKEN_SECONDS = 60 * 24 * 3600
REFRESH_TOKEN_SECONDS = 365 * 24 * 3600
PART_SIZE = 4 * 1024 * 1024
Handler = Callable[[httpx.Request], httpx.Response]


class FakeLinkedIn(ContentRoutes, PostRoutes):
    def __init__(
        self,
        *,
        api_base_url: str = API,
        www_base_url: str = WWW,
        client_id: str = "crier-client",
        client_secret: str = "crier-secret",
        active_versions: Iterable[str] = ("202601", "202603", "202605", "202607"),
        refresh_tokens: bool = False,
        refresh_answer: str = "same",
        part_size: int = PART_SIZE,
        processing_polls: int = 2,
        posts_per_day: int = 150,
    ) -> None:
        self.api = api_base_url.rstrip("/")
        self.www = www_base_url.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.active_versions = set(active_versions)
        #: The app was approved for programmatic refresh tokens.
        self.refresh_tokens = refresh_tokens
        #: What a refresh answers with: "same" refresh token (LinkedIn), "rotate", or "omit".
        self.refresh_answer = refresh_answer
        self.part_size = part_size
        #: Polls of a finalized video that answer PROCESSING before it is AVAILABLE.
        self.processing_polls = processing_polls
        self.posts_per_day = posts_per_day
        self.members: dict[str, Member] = {}
        self.organizations: dict[str, Organization] = {}
        #: (member id, organization id, role, state)
        self.acls: list[tuple[str, str, str, str]] = []
        self.tokens: dict[str, Grant] = {}
        self.refresh: dict[str, RefreshGrant] = {}
        self.codes: dict[str, tuple[str, frozenset[str], str]] = {}
        self.images: dict[str, FakeImage] = {}
        self.videos: dict[str, FakeVideo] = {}
        self.posts: list[FakePost] = []
        self.deleted_posts: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self._failures: dict[str, list[Failure]] = {}
        self._ids = itertools.count(7_300_000_000_000_000_001)
        self._clock = 0.0

    # -- setting up and inspecting ----------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._clock

    def advance(self, seconds: float) -> None:
        self._clock += seconds

    def add_member(self, first: str, last: str) -> Member:
        member = Member(
            id=f"m{len(self.members) + 1}Xy9",
            first_name=first,
            last_name=last,
            vanity_name=f"{first}-{last}".lower(),
        )
        self.members[member.id] = member
        return member

    def add_organization(
        self, name: str, *, admins: Iterable[Member] = (), role: str = "ADMINISTRATOR"
    ) -> Organization:
        org = Organization(
            id=str(2_414_183 + len(self.organizations)),
            name=name,
            vanity_name=name.lower().replace(" ", "-"),
        )
        self.organizations[org.id] = org
        self.acls.extend((m.id, org.id, role, "APPROVED") for m in admins)
        return org

    def grant(
        self, member: Member, scopes: str, *, expires_in: float = ACCESS_TOKEN_SECONDS
    ) -> str:
        token = f"AQ{next(self._ids):x}-access"
        self.tokens[token] = Grant(member.id, frozenset(scopes.split()), self.now() + expires_in)
        return token

    def authorize(self, member: Member, scopes: str, redirect_uri: str) -> str:
        """The code LinkedIn sends to `redirect_uri` after the member allows the app."""
        code = f"code-{next(self._ids)}"
        self.codes[code] = (member.id, frozenset(scopes.split()), redirect_uri)
        return code

    def revoke(self, token: str) -> None:
        self.tokens.pop(token, None)

    def fail_next(
        self,
        path: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        method: str | None = None,
    ) -> None:
        """Answer the next request to `path` (and `method`) with this response."""
        if body is None:
            body = {"status": status, "message": "Something went wrong"}
        self._failures.setdefault(path, []).append(
            Failure(method and method.upper(), status, body, dict(headers or {}))
        )

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if unquote(r.raw_path) == path and (method is None or r.method == method)
        ]

    # -- dispatch ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        split = urlsplit(str(request.url))
        raw_path = request.url.raw_path.decode().split("?", 1)[0]
        path = unquote(raw_path)
        params = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        self.requests.append(
            RecordedRequest(
                request.method,
                str(request.url),
                raw_path,
                params,
                {k.lower(): v for k, v in request.headers.items()},
                request.content,
            )
        )
        for failure in self._failures.get(path, []):
            if failure.method in (None, request.method):
                self._failures[path].remove(failure)
                if isinstance(failure.body, dict | list):
                    return httpx.Response(
                        failure.status, json=failure.body, headers=failure.headers
                    )
                return httpx.Response(
                    failure.status, text=str(failure.body), headers=failure.headers
                )
        host = f"{split.scheme}://{split.netloc}"
        if host == self.www and path == "/oauth/v2/accessToken" and request.method == "POST":
            return self._token_endpoint(request)
        if host == self.www and path.startswith("/dms-uploads/"):
            return self._upload(request, path)
        if host != self.api:
            return httpx.Response(404, text="not LinkedIn")
        if path.startswith("/rest/"):
            problem = self._check_version(request)
            if problem is not None:
                return problem
        grant = self.tokens.get(request.headers.get("authorization", "").removeprefix("Bearer "))
        if grant is None or grant.expires_at <= self.now():
            return httpx.Response(401, json=INVALID_TOKEN)
        route: dict[
            tuple[str, str], Callable[[httpx.Request, Grant, dict[str, str]], httpx.Response]
        ]
        route = {
            ("GET", "/v2/userinfo"): self._userinfo,
            ("GET", "/v2/me"): self._me,
            ("GET", "/rest/organizationAcls"): self._acls,
            ("GET", "/rest/organizations"): self._organizations,
            ("POST", "/rest/images"): self._images,
            ("POST", "/rest/videos"): self._videos,
            ("POST", "/rest/posts"): self._create_post,
        }
        if request.method == "GET" and path.startswith("/rest/videos/"):
            return self._video(grant, path.removeprefix("/rest/videos/"))
        if path.startswith("/rest/posts/"):
            return self._post_entity(request, grant, path.removeprefix("/rest/posts/"))
        handler = route.get((request.method, path))
        if handler is None:
            return error(404, f"No resource found at {path}", "RESOURCE_NOT_FOUND")
        return handler(request, grant, params)

    def _check_version(self, request: httpx.Request) -> httpx.Response | None:
        version = request.headers.get("linkedin-version")
        if not version:
            return error(
                400,
                "A version must be present. Please specify a version by adding "
                "the LinkedIn-Version header.",
                "VERSION_MISSING",
            )
        if version not in self.active_versions:
            return error(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            return error(400, "Rest.li protocol version 2.0.0 is required", "ILLEGAL_ARGUMENT")
        return None

    # -- OAuth ------------------------------------------------------------------------------

    def _token_endpoint(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return httpx.Response(
                401,
                json={
                    "error": "invalid_client",
                    "error_description": "Client authentication failed",
                },
            )
        if form.get("grant_type") == "authorization_code":
            issued = self.codes.pop(form.get("code", ""), None)
            if issued is None or issued[2] != form.get("redirect_uri"):
                return httpx.Response(
                    400,
                    json={
                        "error": "invalid_request",
                        "error_description": "Unable to retrieve access token: appid/redirect uri/"
                        "code verifier does not match authorization code. Or authorization code "
                        "expired.",
                    },
                )
            member_id, scopes, _ = issued
            refresh = None
            if self.refresh_tokens:
                refresh = f"AQ{next(self._ids):x}-refresh"
                self.refresh[refresh] = RefreshGrant(
                    member_id, scopes, self.now() + REFRESH_TOKEN_SECONDS
                )
            return self._token_answer(member_id, scopes, refresh)
        if form.get("grant_type") == "refresh_token":
            old = form.get("refresh_token", "")
            held = self.refresh.get(old)
            if held is None or held.expires_at <= self.now():
                return httpx.Response(
                    400,
                    json={
                        "error": "invalid_request",
                        "error_description": "The provided authorization grant or refresh token is "
                        "invalid, expired or revoked.",
                    },
                )
            new: str | None = old
            if self.refresh_answer == "rotate":
                new = f"AQ{next(self._ids):x}-refresh"
                self.refresh[new] = self.refresh.pop(old)
            elif self.refresh_answer == "omit":
                new = None
            return self._token_answer(held.member_id, held.scopes, new, refresh_of=held)
        return httpx.Response(
            400,
            json={
                "error": "unsupported_grant_type",
                "error_description": "grant_type is not supported",
            },
        )

    def _token_answer(
        self,
        member_id: str,
        scopes: frozenset[str],
        refresh: str | None,
        refresh_of: RefreshGrant | None = None,
    ) -> httpx.Response:
        token = self.grant(self.members[member_id], " ".join(sorted(scopes)))
        body: dict[str, Any] = {
            "access_token": token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            # LinkedIn lists the granted scopes comma-separated.
            "scope": ",".join(sorted(scopes)),
        }
        if refresh is not None:
            held = refresh_of or self.refresh[refresh]
            body["refresh_token"] = refresh
            body["refresh_token_expires_in"] = round(held.expires_at - self.now())
        if "openid" in scopes:
            body["token_type"] = "Bearer"
            body["id_token"] = "eyJ.fake.jwt"
        return httpx.Response(200, json=body)

    # -- identity and pages -----------------------------------------------------------------

    def _userinfo(self, request: httpx.Request, grant: Grant, _: dict[str, str]) -> httpx.Response:
        if "openid" not in grant.scopes:
            return httpx.Response(403, json=access_denied("userinfo.GET.NO_VERSION"))
        member = self.members[grant.member_id]
        return httpx.Response(
            200,
            json={
                "sub": member.id,
                "email_verified": True,
                "name": member.name,
                "locale": {"country": "US", "language": "en"},
                "given_name": member.first_name,
                "family_name": member.last_name,
            },
        )

    def _me(self, request: httpx.Request, grant: Grant, _: dict[str, str]) -> httpx.Response:
        if not {"r_basicprofile", "r_liteprofile", "profile"} & grant.scopes:
            return httpx.Response(403, json=access_denied("me.GET.NO_VERSION"))
        member = self.members[grant.member_id]
        return httpx.Response(
            200,
            json={
                "id": member.id,
                "localizedFirstName": member.first_name,
                "localizedLastName": member.last_name,
                "vanityName": member.vanity_name,
            },
        )

    def _acls(self, request: httpx.Request, grant: Grant, params: dict[str, str]) -> httpx.Response:
        if not {"rw_organization_admin", "r_organization_admin"} & grant.scopes:
            return httpx.Response(403, json=access_denied("organizationAcls.FINDER-roleAssignee"))
        if params.get("q") != "roleAssignee":
            return error(400, "Invalid finder", "ILLEGAL_ARGUMENT")
        mine = [
            a
            for a in self.acls
            if a[0] == grant.member_id
            and params.get("role", a[2]) == a[2]
            and params.get("state", a[3]) == a[3]
        ]
        start, count = int(params.get("start", 0)), int(params.get("count", 10))
        page = mine[start : start + count]
        return httpx.Response(
            200,
            json={
                "paging": {"start": start, "count": count, "links": [], "total": len(mine)},
                "elements": [
                    {
                        "roleAssignee": f"urn:li:person:{m}",
                        "state": s,
                        "role": r,
                        "organization": f"urn:li:organization:{o}",
                    }
                    for m, o, r, s in page
                ],
            },
        )

    def _organizations(
        self, request: httpx.Request, grant: Grant, params: dict[str, str]
    ) -> httpx.Response:
        ids = params.get("ids", "")
        if not (ids.startswith("List(") and ids.endswith(")")):
            return error(400, "ids must be a Rest.li 2.0 List(...)", "ILLEGAL_ARGUMENT")
        results, statuses, errors = {}, {}, {}
        for org_id in filter(None, ids[5:-1].split(",")):
            org = self.organizations.get(org_id)
            if org is None:
                statuses[org_id] = 404
                errors[org_id] = {"status": 404, "message": "Organization not found"}
                continue
            statuses[org_id] = 200
            results[org_id] = {
                "id": int(org.id),
                "localizedName": org.name,
                "vanityName": org.vanity_name,
            }
        return httpx.Response(
            200, json={"results": results, "statuses": statuses, "errors": errors}
        )

    def may_post_as(self, grant: Grant, author: str) -> bool:
        if author.startswith("urn:li:person:"):
            return (
                "w_member_social" in grant.scopes and author == f"urn:li:person:{grant.member_id}"
            )
        org_id = author.removeprefix("urn:li:organization:")
        return "w_organization_social" in grant.scopes and any(
            a == (grant.member_id, org_id, "ADMINISTRATOR", "APPROVED") for a in self.acls
        )
