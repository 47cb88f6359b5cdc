"""What a video resource from videos.list (part=status,processingDetails) says about an
upload: done, still processing (and when to ask again), or never going to play.

`status.uploadStatus` goes "uploaded" → "processed", or ends "failed" (`failureReason`),
"rejected" (`rejectionReason`) or "deleted"; `processingDetails.processingStatus` may say
"failed" or "terminated" first, and `processingProgress.timeLeftMs` estimates the wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from providers.errors import PermanentError

#: The first look at a video after its last byte went up, seconds.
POLL_DEFAULT = 30.0
#: Later looks follow YouTube's estimate (processingProgress.timeLeftMs), but never sooner
#: than 15 s × 2^(looks so far) nor later than 5 minutes: every look costs a unit of the
#: project's daily quota, and a video stuck near "almost done" must not eat it.
POLL_FIRST = 15.0
POLL_MAX = 300.0

FAILURES = {
    "conversion": "YouTube couldn't convert the video",
    "invalidFile": "YouTube couldn't read the file as a video",
    "emptyFile": "the file is empty",
    "tooSmall": "the file is too small to be a video",
    "codec": "YouTube doesn't support the video's codec",
    "uploadAborted": "the upload didn't finish",
}
REJECTIONS = {
    "copyright": "a copyright claim",
    "inappropriate": "inappropriate content",
    "duplicate": "it duplicates a video already on the channel",
    "termsOfUse": "a terms of use violation",
    "uploaderAccountSuspended": "the channel is suspended",
    "length": "it is longer than the channel may upload (verify it for longer videos)",
    "claim": "the content owner blocked it",
    "uploaderAccountClosed": "the channel is closed",
    "trademark": "a trademark claim",
    "legal": "a legal reason",
}
_GONE = "The video was deleted on YouTube before it finished processing."


def processing_outcome(video: Mapping[str, Any] | None, looks: int) -> Literal[True] | float:
    """True when the video is processed; else the seconds to wait before the next look
    (`looks`: how many there have been, this one included). Raises PermanentError, with
    YouTube's reason, when the video will never play."""
    if video is None:
        raise PermanentError(_GONE)
    status = video.get("status") or {}
    details = video.get("processingDetails") or {}
    upload_status = status.get("uploadStatus")
    if upload_status == "processed":
        return True
    if upload_status == "failed":
        reason = FAILURES.get(str(status.get("failureReason")), "processing failed")
        raise PermanentError(f"YouTube couldn't process the video: {reason}.")
    if upload_status == "rejected":
        reason = REJECTIONS.get(str(status.get("rejectionReason")), "its policies")
        raise PermanentError(f"YouTube rejected the video because of {reason}.")
    if upload_status == "deleted":
        raise PermanentError(_GONE)
    if details.get("processingStatus") in ("failed", "terminated"):
        why = details.get("processingFailureReason") or details["processingStatus"]
        raise PermanentError(f"YouTube couldn't process the video ({why}).")
    return poll_after(details, looks)


def poll_after(details: Mapping[str, Any], looks: int) -> float:
    """YouTube's estimate of the processing time left, within the bounds above."""
    floor = min(POLL_MAX, POLL_FIRST * 2 ** max(1, min(looks, 8)))
    progress = details.get("processingProgress") or {}
    try:
        seconds = int(progress["timeLeftMs"]) / 1000
    except (KeyError, TypeError, ValueError):
        seconds = floor
    return max(floor, min(POLL_MAX, seconds))
