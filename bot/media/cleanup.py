"""The periodic media clean-up: frees what no draft or unfinished post needs any more.

A file is kept while any media row (of any user: equal files are stored once) still needs
it; the rows of media nobody needs for the retention period are released first, then the
files no row holds are deleted. Derived files (adapted copies) go when their original is
gone or they were unused for the retention period. A file written in the last hour is never
deleted, so a download being saved right now is safe.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.media.prepare import DERIVED_DIR
from bot.media.receive import INCOMING_DIR
from storage import media
from storage.db import Database

log = logging.getLogger(__name__)

#: Files younger than this are never deleted, whatever the retention setting: a download
#: being probed, or a stored file a new row is about to claim.
GRACE = timedelta(hours=1)
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Derived files are named <sha256>-<profile fingerprint>.<ext>.
_DERIVED = re.compile(r"([0-9a-f]{64})-[0-9a-f]+")


@dataclass(frozen=True, kw_only=True)
class CleanupReport:
    #: Rows of dropped drafts deleted.
    rows_deleted: int = 0
    #: Rows of finished posts whose file was released.
    rows_released: int = 0
    files_deleted: int = 0
    derived_deleted: int = 0
    bytes_freed: int = 0


async def clean_up(
    db: Database, media_dir: Path, *, retention: timedelta, now: datetime
) -> CleanupReport:
    """Release unneeded media rows, then delete the files nothing holds any more."""
    cutoff = now - retention
    deleted, released = await db.run(lambda s: media.expire(s, cutoff=cutoff))
    # Read after the release committed: a file one row gave up and another still needs
    # stays, because the other row is in this set.
    live = await db.run(media.live_files)
    files, derived, freed = await asyncio.to_thread(
        _sweep, media_dir, live, now=now.timestamp(), retention=retention
    )
    return CleanupReport(
        rows_deleted=deleted,
        rows_released=released,
        files_deleted=files,
        derived_deleted=derived,
        bytes_freed=freed,
    )


def _sweep(
    media_dir: Path, live: set[str], *, now: float, retention: timedelta
) -> tuple[int, int, int]:
    """Delete stored originals not in `live`, stale derived files and abandoned downloads."""
    young = now - GRACE.total_seconds()
    unused = now - retention.total_seconds()
    files = derived = freed = 0
    if not media_dir.is_dir():
        return 0, 0, 0
    for path in media_dir.rglob("*"):
        top = path.relative_to(media_dir).parts[0]
        if not path.is_file() or path.is_symlink():
            continue
        stat = path.stat()
        if top == DERIVED_DIR:
            match = _DERIVED.fullmatch(path.name.split(".", 1)[0])
            stale = match is not None and (match[1] not in live or stat.st_mtime < unused)
            if stale and stat.st_mtime < young and _unlink(path):
                derived += 1
                freed += stat.st_size
        elif top == INCOMING_DIR:
            # A download is probed within seconds; one left behind was cut short by a crash.
            if stat.st_mtime < young and _unlink(path):
                freed += stat.st_size
        elif (
            _SHA256.fullmatch(path.name)  # never anything that is not a stored original
            and path.name not in live
            and stat.st_mtime < young
            and _unlink(path)
        ):
            files += 1
            freed += stat.st_size
    return files, derived, freed


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False  # another process cleaned it first
    return True


async def run(db: Database, media_dir: Path, *, retention: timedelta, now: datetime) -> None:
    """One clean-up run, logged (bot/app.py runs it every MEDIA_CLEANUP_INTERVAL)."""
    try:
        report = await clean_up(db, media_dir, retention=retention, now=now)
    except Exception:
        # The next run tries again; nothing is half-done (rows first, files after).
        log.exception("media clean-up failed")
        return
    if report.files_deleted or report.derived_deleted or report.rows_deleted:
        log.info(
            "media clean-up: %d files and %d derived files deleted (%d bytes), "
            "%d rows deleted, %d released",
            report.files_deleted,
            report.derived_deleted,
            report.bytes_freed,
            report.rows_deleted,
            report.rows_released,
        )
