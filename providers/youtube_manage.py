"""A YouTube video after it is out: deleting it and changing its title and description, over
the YouTube Data API v3 (videos.delete, videos.list, videos.update).

- Delete: `DELETE /youtube/v3/videos?id=<id>` answers 204 (50 quota units); a video that is
  already gone answers 404 `videoNotFound`, which counts as deleted.
- Edit: `videos.update` with `part=snippet` overwrites every mutable property of the snippet
  and needs `snippet.categoryId`, so the video's current snippet is read first
  (`videos.list`, part=snippet, 1 unit) and its category, tags and languages are sent back
  unchanged with the new title and description (`PUT /youtube/v3/videos?part=snippet`, 50
  units). The video itself can't be replaced.
- Both need a scope that manages videos (`youtube.force-ssl`, or `youtube`/`youtubepartner`):
  `youtube.upload` alone can't. Crier asks for `youtube.force-ssl` at sign-in; an account
  connected before that, or whose owner declined it, can't delete or edit until reconnected.
- No lookup: an upload whose answer was lost is settled by the resumable protocol itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from providers.base import AfterPublish, PublishResult
from providers.errors import PermanentError
from providers.http import safe_to_repeat
from providers.youtube_api import PLATFORM, GoogleApi, json_of
from providers.youtube_limits import Metadata

MANAGE_SCOPE: Final = "https://www.googleapis.com/auth/youtube.force-ssl"
#: Scopes videos.delete and videos.update accept (the API reference).
MANAGING_SCOPES: Final = frozenset(
    {
        MANAGE_SCOPE,
        "https://www.googleapis.com/auth/youtube",
        "https://www.googleapis.com/auth/youtubepartner",
    }
)
#: The snippet properties videos.update overwrites (and keeps only if sent back).
MUTABLE_SNIPPET: Final = ("categoryId", "tags", "defaultLanguage", "defaultAudioLanguage")
#: Delete, and change the title and description; no new video, no lookup.
AFTER_PUBLISH: Final = AfterPublish(can_delete=True, can_edit_text=True)
RECONNECT: Final = (
    "Crier can't {what} this YouTube video: the channel was connected without permission to "
    "manage its videos. Connect it again and allow “See, edit, and permanently delete your "
    "YouTube videos”."
)


def may_manage(credentials: Mapping[str, Any]) -> bool:
    """Whether the sign-in may delete and update videos; True when the granted scopes are
    unknown (YouTube then answers for itself)."""
    scope = credentials.get("scope")
    if not isinstance(scope, str) or not scope.strip():
        return True
    return bool(MANAGING_SCOPES & set(scope.split()))


def video_id_of(published: PublishResult) -> str:
    video_id = str(published.ref.get("video_id") or published.platform_id)
    if not video_id:
        raise PermanentError("Crier doesn't know which YouTube video this is.")
    return video_id


async def delete_video(google: GoogleApi, api_base: str, token: str, video_id: str) -> None:
    try:
        with safe_to_repeat(PLATFORM, "deleting"):
            response = await google.send(
                "DELETE", f"{api_base}/videos", token, creates=True, params={"id": video_id}
            )
            if response.status_code >= 300:
                google.fail(response, [token])
    except PermanentError as exc:
        if exc.http_status != 404:
            raise


async def update_snippet(
    google: GoogleApi, api_base: str, token: str, video_id: str, meta: Metadata
) -> Mapping[str, Any]:
    """Read the current snippet, then write it back with the new title and description."""
    response = await google.send(
        "GET", f"{api_base}/videos", token, params={"part": "snippet", "id": video_id}
    )
    if response.status_code != 200:
        google.fail(response, [token])
    items = json_of(response).get("items") or []
    current = next(
        (v.get("snippet") for v in items if isinstance(v, Mapping) and v.get("id") == video_id),
        None,
    )
    if not isinstance(current, Mapping):
        raise PermanentError("This video is no longer on YouTube, so it can't be edited.")
    snippet: dict[str, Any] = {k: current[k] for k in MUTABLE_SNIPPET if k in current}
    snippet["title"] = meta.title
    snippet["description"] = meta.description
    with safe_to_repeat(PLATFORM, "editing"):
        response = await google.send(
            "PUT",
            f"{api_base}/videos",
            token,
            creates=True,
            params={"part": "snippet"},
            json={"id": video_id, "snippet": snippet},
        )
        if response.status_code != 200:
            google.fail(response, [token])
    return json_of(response)
