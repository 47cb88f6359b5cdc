"""Bulk scheduling: every row of a file checked like a composed post, then stored at once.

`check` reads nothing into the database: it resolves times and accounts, fetches media
links into MEDIA_DIR/.incoming, and runs each account's platform checks on the row as that
account would get it. The `Plan` it returns lives in memory until the user confirms; a
restart loses it on purpose (the user sends the file again) and the clean-up removes the
fetched files nobody kept. `store` writes every ready row, one post with its targets each,
in one transaction, after checking the times once more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.compose.bulk import Row, Sheet, match_accounts, read_time
from bot.compose.posting import MAX_ALT_TEXT
from bot.engine import content
from bot.media.fetch import Fetched, FetchPolicy, MediaFetcher
from bot.media.probe import MediaRejected
from bot.media.profile import human_bytes
from bot.schedule.parse import NOW_GRACE, TimeParseError
from bot.services import Services
from providers.base import Problem, Severity
from providers.registry import UnknownPlatform
from storage import accounts, media, posts, users
from storage import admin as admin_repo
from storage.models import Account, Media, Post, PostMedia

#: Media links fetched at once for one file.
FETCH_CONCURRENCY = 4
#: Longest reason kept for one row (a platform's message can be long).
MAX_REASON = 300


class BulkError(ValueError):
    """Nothing can be stored; the message says why, for the user."""


@dataclass(frozen=True, kw_only=True)
class Ready:
    row: Row
    #: UTC.
    when: datetime
    #: The time said "now" (or within a minute of it): it goes out when confirmed.
    asap: bool
    account_ids: tuple[int, ...]
    account_labels: tuple[str, ...]
    media: Fetched | None = None


@dataclass(frozen=True, kw_only=True)
class Rejected:
    row: Row
    reasons: tuple[str, ...]


@dataclass(kw_only=True)
class Plan:
    """What a checked file would schedule; in memory only, until confirmed or dropped."""

    user_id: int
    timezone: str
    header: list[str]
    ready: list[Ready] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    #: Why none of it can be confirmed (a cap the user would go over), or None.
    blocker: str | None = None
    #: Every file fetched for the ready rows (one per distinct link).
    fetched: list[Fetched] = field(default_factory=list)

    def discard(self) -> None:
        """Drop the fetched files (those `store` kept are in place already)."""
        for item in self.fetched:
            item.discard()


@dataclass(frozen=True, kw_only=True)
class Stored:
    post_ids: list[int]
    #: Rows whose time passed while the summary waited for Confirm.
    late: list[Rejected]


# -- checking -------------------------------------------------------------------------------


async def check(services: Services, user_id: int, sheet: Sheet) -> Plan:
    """Check every row of `sheet` for the user; fetched files stay in MEDIA_DIR/.incoming."""
    settings = services.settings
    user = await services.db.run(lambda s: users.get(s, user_id))
    if user is None:
        raise BulkError("Send /start first.")
    owned = await services.db.run(lambda s: accounts.list_for(s, user_id))
    now = services.now()
    plan = Plan(user_id=user_id, timezone=user.timezone, header=sheet.header)
    budget = None
    if settings.media_quota_bytes:
        usage = await services.db.run(lambda s: media.usage(s, user_id))
        budget = settings.media_quota_bytes - usage
    fetcher = MediaFetcher(settings.media_dir, FetchPolicy.from_settings(settings))
    urls = {row.media_url for row in sheet.rows if row.media_url}
    files = await _fetch_all(fetcher, urls, budget)
    try:
        for row in sheet.rows:
            reasons, ready = _check_row(
                services, row, owned, files, user.timezone, now, user.language
            )
            if ready is not None and not reasons:
                plan.ready.append(ready)
            else:
                plan.rejected.append(Rejected(row=row, reasons=tuple(reasons)))
        used = {r.media.url for r in plan.ready if r.media is not None}
        for url, outcome in files.items():
            if isinstance(outcome, Fetched):
                if url in used:
                    plan.fetched.append(outcome)
                else:
                    outcome.discard()  # only rejected rows wanted it
        plan.blocker = await _caps(services, plan)
    except BaseException:
        for outcome in files.values():
            if isinstance(outcome, Fetched):
                outcome.discard()
        raise
    return plan


async def _fetch_all(
    fetcher: MediaFetcher, urls: set[str], budget: int | None
) -> dict[str, Fetched | str]:
    """Each distinct link once, a few at a time: the file, or why it can't be used. Once
    the files fetched would overflow the user's media storage (`budget` bytes left), the
    remaining links are not fetched: a file can't fill the server's disk."""
    results: dict[str, Fetched | str] = {}
    limit = asyncio.Semaphore(FETCH_CONCURRENCY)
    fetched_bytes = 0

    async def one(url: str) -> None:
        nonlocal fetched_bytes
        async with limit:
            if budget is not None and fetched_bytes > budget:
                results[url] = "not fetched: your media storage would be full"
                return
            try:
                item = await fetcher.fetch(url)
            except MediaRejected as exc:
                results[url] = str(exc)
                return
            fetched_bytes += item.info.size
            results[url] = item

    async with fetcher:
        try:
            await asyncio.gather(*(one(url) for url in sorted(urls)))
        except BaseException:
            for outcome in results.values():
                if isinstance(outcome, Fetched):
                    outcome.discard()
            raise
    return results


def _check_row(
    services: Services,
    row: Row,
    owned: Sequence[Account],
    files: dict[str, Fetched | str],
    tz: str,
    now: datetime,
    language: str | None,
) -> tuple[list[str], Ready | None]:
    """The row's reasons for rejection (all of them at once), and the row when it has none."""
    settings = services.settings
    reasons: list[str] = []
    if row.shape_problem:
        reasons.append(row.shape_problem)
    if not row.text and not row.media_url:
        reasons.append("no text and no media_url")
    if len(row.text) > settings.max_text_length:
        reasons.append(
            f"the text is {len(row.text):,} characters; the most I take is "
            f"{settings.max_text_length:,}"
        )
    when: datetime | None = None
    try:
        when = read_time(row.time, tz, now, language)
    except TimeParseError as exc:
        reasons.append(f"time “{row.time[:60]}”: {exc}" if row.time else str(exc))
    chosen, problems = match_accounts(row.accounts, owned)
    reasons += problems
    fetched: Fetched | None = None
    if row.media_url:
        outcome = files.get(row.media_url, "it could not be fetched")
        if isinstance(outcome, str):
            reasons.append(f"media_url: {outcome}")
        else:
            fetched = outcome
    elif row.alt_text:
        reasons.append("alt_text is given but there is no media_url")
    if len(row.alt_text) > MAX_ALT_TEXT:
        reasons.append(
            f"alt_text is {len(row.alt_text):,} characters; the most is {MAX_ALT_TEXT:,}"
        )
    if chosen and (row.text or fetched is not None):
        post = transient_post(row.text, fetched, row.alt_text or None, when)
        for account in chosen:
            reasons += [f"{account.label}: {p.message}" for p in _errors(services, post, account)]
    reasons = [_short(reason) for reason in reasons]
    if reasons or when is None:
        return reasons, None
    return reasons, Ready(
        row=row,
        when=when,
        asap=when - now <= NOW_GRACE,
        account_ids=tuple(a.id for a in chosen),
        account_labels=tuple(a.label for a in chosen),
        media=fetched,
    )


def transient_post(
    text: str, fetched: Fetched | None, alt: str | None, when: datetime | None
) -> Post:
    """The row as an unsaved post, for the same platform checks a draft gets."""
    links = [] if fetched is None else [PostMedia(position=0, media=media_row(0, fetched, alt))]
    return Post(text=text, overrides={}, entities=[], publish_at=when, media_links=links)


def media_row(user_id: int, fetched: Fetched, alt_text: str | None) -> Media:
    info = fetched.info
    return Media(
        user_id=user_id,
        sha256=info.sha256,
        storage_key=fetched.storage_key,
        kind=fetched.kind.value,
        mime=info.mime,
        size=info.size,
        width=info.width,
        height=info.height,
        duration=info.duration,
        file_name=fetched.file_name,
        alt_text=alt_text,
        probe=fetched.probe_extras(),
    )


def _errors(services: Services, post: Post, account: Account) -> list[Problem]:
    try:
        provider = services.registry[account.platform]
    except UnknownPlatform:
        return [Problem(code="unsupported", message="this platform is not supported any more")]
    found = content.check(post, account, provider, services.settings.media_dir)
    return [p for p in found if p.severity == Severity.ERROR]


def _short(reason: str) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1].rstrip() + "…"


async def _caps(services: Services, plan: Plan) -> str | None:
    """Why the ready rows can't all be stored (pending-posts cap, media quota), or None."""
    if not plan.ready:
        return None

    async def work(session: AsyncSession) -> str | None:
        return await _cap_problem(services, session, plan, len(plan.ready))

    return await services.db.run(work)


async def _cap_problem(
    services: Services, session: AsyncSession, plan: Plan, count: int
) -> str | None:
    settings = services.settings
    waiting = await admin_repo.pending_posts(session, plan.user_id)
    limit = settings.max_pending_posts_per_user
    if waiting + count > limit:
        return (
            f"You have {waiting:,} posts waiting to go out and this file adds {count:,}; "
            f"one person can have at most {limit:,}. Cancel some in /list, or send fewer rows."
        )
    quota = settings.media_quota_bytes
    if not quota:
        return None
    new: dict[str, int] = {}
    for item in plan.fetched:
        if not await media.holds(session, plan.user_id, item.info.sha256):
            new[item.info.sha256] = item.info.size
    used = await media.usage(session, plan.user_id)
    if new and used + sum(new.values()) > quota:
        return (
            f"Your media storage is full: you use {human_bytes(used)} of your "
            f"{human_bytes(quota)}, and this file's media adds {human_bytes(sum(new.values()))}."
        )
    return None


# -- storing --------------------------------------------------------------------------------


async def store(services: Services, plan: Plan) -> Stored:
    """Schedule every ready row whose time has not passed, in one transaction."""
    if plan.blocker:
        raise BulkError(plan.blocker)
    now = services.now()
    due: list[Ready] = []
    late: list[Rejected] = []
    for ready in plan.ready:
        if ready.asap or ready.when >= now - NOW_GRACE:
            due.append(ready)
        else:
            late.append(Rejected(row=ready.row, reasons=("its time passed before you confirmed",)))
    if not due:
        raise BulkError("The times of all the rows passed before you confirmed.")
    settings = services.settings
    kept = {r.media.url: r.media for r in due if r.media is not None}

    async def work(session: AsyncSession) -> list[int]:
        user = await users.get(session, plan.user_id)
        if user is None:
            raise BulkError("Send /start first.")
        if problem := await _cap_problem(services, session, plan, len(due)):
            raise BulkError(problem)
        owned = {a.id: a for a in await accounts.list_for(session, plan.user_id)}
        ids: list[int] = []
        for ready in due:
            chosen = [owned[i] for i in ready.account_ids if i in owned]
            if len(chosen) != len(ready.account_ids):
                raise BulkError(
                    f"An account of row {ready.row.number} was disconnected since the check. "
                    "Nothing was scheduled: send the file again."
                )
            post = await posts.new_draft(session, plan.user_id)
            post.text = ready.row.text
            if ready.media is not None:
                row = media_row(plan.user_id, ready.media, ready.row.alt_text or None)
                await posts.attach_media(session, post, await media.add(session, row))
            when = now if ready.asap else max(ready.when, now)
            await posts.schedule(session, post, chosen, when, plan.timezone)
            ids.append(post.id)
        # Moved into place before the commit: a failed commit leaves unreferenced files,
        # which the clean-up removes, never a row without its file.
        for fetched in kept.values():
            fetched.keep(settings.media_dir)
        return ids

    try:
        ids = await services.db.run(work)
    except MediaRejected as exc:
        raise BulkError(str(exc)) from exc
    services.wake_engine(min(now if r.asap else max(r.when, now) for r in due))
    return Stored(post_ids=ids, late=late)
