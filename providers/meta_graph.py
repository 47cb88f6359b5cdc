"""The one boundary between the Meta adapters (Facebook Pages, Instagram) and Meta's servers,
Graph API v27.0 (the current version: released 4 November 2026, after v26.0 of 29 July
2026; "Graph API changelog").

Hosts, each configurable in the adapters' constructors:

- `https://graph.facebook.com/v27.0`: every call but the ones below;
- `https://graph-video.facebook.com/v27.0`: creating a Page video from an uploaded file
  handle (Video API, "Publish a video");
- `https://rupload.facebook.com/video-upload/v27.0`: the bytes of a Facebook reel (Video
  API, "Reels Publishing").

Tokens travel in the `Authorization: OAuth <token>` header (as Meta's upload guides write
it; the Graph API takes it on every call), never in a URL, so they stay out of logs. When the
app is known every Graph call carries `appsecret_proof`, the HMAC-SHA256 of the token keyed
with the app secret ("Securing Graph API Requests"), which Meta requires once the app's
"Require App Secret" setting is on. Errors become provider errors in providers/meta_errors.py.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

import httpx

from providers.errors import TransientError
from providers.http import translate_network_errors
from providers.meta_errors import error_for
from providers.oauth import OAuthApp

GRAPH_VERSION = "v27.0"
API_BASE_URL = f"https://graph.facebook.com/{GRAPH_VERSION}"
VIDEO_BASE_URL = f"https://graph-video.facebook.com/{GRAPH_VERSION}"
RUPLOAD_BASE_URL = f"https://rupload.facebook.com/video-upload/{GRAPH_VERSION}"
#: Where the login dialog lives (`/dialog/oauth` under it).
AUTH_BASE_URL = f"https://www.facebook.com/{GRAPH_VERSION}"


def appsecret_proof(token: str, app_secret: str) -> str:
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


class GraphApi:
    """Sends requests with a token and turns Meta's errors into provider errors."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        platform: str,
        app: OAuthApp | None,
        api_base_url: str = API_BASE_URL,
        video_base_url: str = VIDEO_BASE_URL,
        upload_base_url: str = RUPLOAD_BASE_URL,
    ) -> None:
        self.http = http
        self.platform = platform
        self.app = app
        self.api_base = api_base_url.rstrip("/")
        self.video_base = video_base_url.rstrip("/")
        self.upload_base = upload_base_url.rstrip("/")

    def url(self, path: str) -> str:
        return f"{self.api_base}/{path.lstrip('/')}"

    async def send(
        self,
        method: str,
        url: str,
        token: str,
        *,
        creates: bool = False,
        proof: bool = True,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request. `creates`: its success may have made the post (a lost answer to any
        other request published nothing). `proof`: add `appsecret_proof` (Graph hosts only).
        An empty `token` sends no Authorization (the token endpoint)."""
        query = dict(params or {})
        if proof and self.app is not None and token:
            query["appsecret_proof"] = appsecret_proof(token, self.app.client_secret)
        request_headers = {**({"Authorization": f"OAuth {token}"} if token else {})}
        request_headers.update(headers or {})
        try:
            with translate_network_errors(self.platform):
                return await self.http.request(
                    method,
                    url,
                    headers=request_headers,
                    params=query or None,
                    follow_redirects=False,
                    **kwargs,
                )
        except TransientError as exc:
            if exc.ambiguous and not creates:
                raise TransientError(
                    f"The connection to {self.platform} broke off or timed out; nothing was "
                    "published."
                ) from exc
            raise

    async def call(
        self,
        method: str,
        url: str,
        token: str,
        *,
        creates: bool = False,
        **kwargs: Any,
    ) -> Mapping[str, Any]:
        """A request whose answer must be a JSON object; an error answer raises."""
        response = await self.send(method, url, token, creates=creates, **kwargs)
        body = self.json_of(response, token, creates=creates)
        return body

    def json_of(
        self, response: httpx.Response, token: str = "", *, creates: bool = False
    ) -> Mapping[str, Any]:
        """The JSON object of a successful answer; raises the provider error otherwise."""
        if response.status_code >= 300:
            self.fail(response, [token])
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
            self.fail(response, [token])
        if not isinstance(body, Mapping):
            raise TransientError(
                f"{self.platform} sent an unexpected answer (HTTP {response.status_code}).",
                http_status=response.status_code,
                ambiguous=creates,
            )
        return body

    def fail(self, response: httpx.Response, secrets: Iterable[str] = ()) -> NoReturn:
        hidden = [*secrets, *([self.app.client_secret] if self.app else [])]
        raise error_for(response, platform=self.platform, secrets=hidden)
