"""What the routes do, over the services the chat uses: a post is checked by the same
platform checks as the preview (problems in the same words), within the same caps, and
scheduled by the same storage calls as the compose flow's ✅ Confirm; an edit goes through
/edit's staging and save; times are read by the same parser as typed times.

Every read and write takes the caller's user id; another user's ids look like ids that
don't exist.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, BinaryIO, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.api_tokens import Caller
from bot.api.problems import ApiProblem, ProblemItem, invalid, not_found
from bot.api.schemas import MAX_ID, PostIn, PostPatch
from bot.compose import edit_save, editing, posting
from bot.compose import slots as queue_slots
from bot.compose.bulk import read_time
from bot.compose.bulk_plan import media_row
from bot.engine import content, series
from bot.engine.text import formatting
from bot.media.fetch import Fetched, FetchPolicy, MediaFetcher, take_upload
from bot.media.probe import MediaRejected
from bot.schedule.parse import NOW_GRACE, TimeParseError
from bot.schedule.recurrence import RecurrenceError, validate_rule
from bot.schedule.slots import NoSlots
from bot.services import Services
from providers.base import Problem, Severity
from storage import accounts, media, posts, users
from storage.models import Account, Media, Post

T = TypeVar("T")
NOW_WORDS = ("now", "asap", "")


def parse_time(services: Services, caller: Caller, text: str | None) -> datetime | None:
    """The UTC instant a request's `time` means (None: now); 422 naming the field if it
    can't be read."""
    if text is None or text.strip().lower() in NOW_WORDS:
        return None
    try:
        return read_time(text, caller.timezone, services.now(), caller.language)
    except TimeParseError as exc:
        raise invalid(
            f"time “{text[:60]}”: {exc}", [ProblemItem(field="time", message=str(exc))]
        ) from exc


def _ids(mapping: dict[str, T], what: str) -> dict[int, T]:
    """A body's {"<id>": value} as {id: value}; 422 for a key that is no id."""
    found: dict[int, T] = {}
    for key, value in mapping.items():
        if not key.isdigit() or not 1 <= int(key) <= MAX_ID:
            raise invalid(
                f"{what}: “{key[:20]}” is not an id.",
                [ProblemItem(field=what, message=f"“{key[:20]}” is not an id")],
            )
        found[int(key)] = value
    return found


def account_problems(checks: list[tuple[Account, list[Problem]]]) -> list[ProblemItem]:
    """Each account's blocking problems, worded as the chat's preview words them."""
    return [
        ProblemItem(
            account_id=a.id, account=a.label, code=p.code, message=f"{a.label}: {p.message}"
        )
        for a, problems in checks
        for p in problems
        if p.severity == Severity.ERROR
    ]


async def _owned_media(session: AsyncSession, user_id: int, ids: list[int]) -> list[Media]:
    rows = []
    for media_id in ids:
        row = await media.get(session, user_id, media_id)
        if row is None or not row.storage_key:
            raise invalid(
                f"Media {media_id} isn't one of your uploads (or its file was released).",
                [ProblemItem(field="media_ids", message=f"unknown media id {media_id}")],
            )
        rows.append(row)
    return rows


async def _owned_accounts(session: AsyncSession, user_id: int, ids: list[int]) -> list[Account]:
    chosen = await accounts.get_many(session, user_id, sorted(set(ids)))
    missing = sorted(set(ids) - {a.id for a in chosen})
    if missing:
        raise invalid(
            f"{posting.ACCOUNT_NOT_YOURS} (id {', '.join(map(str, missing))})",
            [ProblemItem(field="account_ids", message=f"unknown account id {i}") for i in missing],
        )
    return chosen


async def create_post(services: Services, caller: Caller, body: PostIn) -> int:
    """Schedule the post; 422 with every problem when it can't be. Returns its id."""
    settings = services.settings
    if problem := await posting.pending_posts_problem(services, caller.user_id):
        raise invalid(problem)
    text, entities = formatting.tidy(body.text, ())
    if body.text.strip() and not text:
        raise invalid(posting.INVISIBLE, [ProblemItem(field="text", message=posting.INVISIBLE)])
    if problem := posting.text_problem(text, settings):
        raise invalid(problem, [ProblemItem(field="text", message=problem)])
    if body.queue and body.time is not None:
        raise invalid("Give a time or queue: true, not both.")
    when = None if body.queue else parse_time(services, caller, body.time)
    rule = None
    if body.repeat:
        if body.queue:
            raise invalid("A repeating post can't go in the queue: give its first time.")
        try:
            rule = validate_rule(body.repeat)
        except RecurrenceError as exc:
            raise invalid(str(exc), [ProblemItem(field="repeat", message=str(exc))]) from exc
    own_text = _ids(body.per_account_text, "per_account_text")
    threads = _ids(body.thread, "thread")
    alts = _ids(body.alt_text, "alt_text")
    for alt in alts.values():
        if len(alt) > posting.MAX_ALT_TEXT:
            raise invalid(f"Alt text can be at most {posting.MAX_ALT_TEXT:,} characters.")
    overrides: dict[str, object] = {str(k): v for k, v in own_text.items()}
    for account_id, parts in threads.items():
        # As a thread split from the account's own text: editing the post's text keeps it.
        joined = "\n\n".join(parts)
        overrides[str(account_id)] = {"thread": list(parts), "source": joined, "post": None}
    await _live_checks(services, caller, body.account_ids, text, entities, overrides)
    now = services.now()

    async def work(session: AsyncSession) -> Post:
        user = await users.get(session, caller.user_id)
        tz = user.timezone if user else settings.default_timezone
        chosen = await _owned_accounts(session, caller.user_id, body.account_ids)
        rows = await _owned_media(session, caller.user_id, body.media_ids)
        if len(rows) > settings.max_media_per_post:
            raise invalid(f"A post can hold at most {settings.max_media_per_post} media items.")
        if not text and not rows:
            raise invalid("The post is empty: give it some text or media.")
        stray = sorted((set(own_text) | set(threads)) - {a.id for a in chosen})
        if stray:
            raise invalid(f"Account {stray[0]} is given a text but isn't in account_ids.")
        if set(alts) - set(body.media_ids):
            raise invalid("alt_text names a media id that isn't in media_ids.")
        post = await posts.new_draft(session, caller.user_id)
        post.text, post.entities, post.rrule, post.notify = text, entities, rule, body.notify
        post.overrides = overrides
        await posts.attach_copies(session, post, rows)
        await session.refresh(post, ["media_links"])  # loaded even when no media came
        for link, original in zip(post.media_links, rows, strict=True):
            if original.id in alts:
                link.media.alt_text = alts[original.id]
        checks = [(a, editing.validate(services, post, a)) for a in chosen]
        if found := account_problems(checks):
            raise invalid("; ".join(p.message for p in found), found)
        times = (
            await queue_slots.times_for(session, caller.user_id, tz, chosen, now)
            if body.queue
            else {}
        )
        start = min(times.values(), default=when or now)
        dtstart = None
        if rule:
            try:
                dtstart, first = series.first_occurrence(rule, tz, start)
            except RecurrenceError as exc:
                raise invalid(str(exc)) from exc
            start = first
        if start < now - NOW_GRACE:
            raise invalid("The time you picked has passed. Pick a new time.")
        result = await posts.schedule(
            session, post, chosen, max(start, now), tz, dtstart_local=dtstart
        )
        for target in result.targets:
            at = times.get(target.account_id, target.publish_at)
            target.publish_at = target.next_attempt_at = at
        return post

    try:
        post = await services.db.run(work)
    except NoSlots as exc:
        raise invalid(str(exc)) from exc
    services.wake_engine(post.publish_at or now)
    return post.id


async def _live_checks(
    services: Services,
    caller: Caller,
    account_ids: list[int],
    text: str,
    entities: list[Any],
    overrides: dict[str, object],
) -> None:
    """What the platforms say only when asked, as the chat's preview shows it (a channel
    where the bot may no longer post...); outside any transaction, since each asks over the
    network. 422 with their errors."""

    async def owned(session: AsyncSession) -> list[Account]:
        return await _owned_accounts(session, caller.user_id, account_ids)

    chosen = await services.db.run(owned)
    draft = Post(text=text, entities=entities, overrides=overrides, media_links=[])
    live = await asyncio.gather(
        *(content.check_live(draft, a, services.registry, services.secrets) for a in chosen)
    )
    if found := account_problems(list(zip(chosen, live, strict=True))):
        raise invalid("; ".join(p.message for p in found), found)


async def upload(
    services: Services,
    caller: Caller,
    source: BinaryIO,
    *,
    claimed_mime: str | None,
    file_name: str | None,
    alt_text: str | None,
) -> Media:
    """A photo or video uploaded: probed like chat media, within the media quota."""
    settings = services.settings
    if alt_text is not None and len(alt_text) > posting.MAX_ALT_TEXT:
        raise invalid(f"Alt text can be at most {posting.MAX_ALT_TEXT:,} characters.")
    try:
        fetched = await take_upload(
            source,
            settings.media_dir,
            claimed_mime=claimed_mime,
            file_name=file_name,
            max_bytes=settings.api_upload_max_bytes,
        )
    except MediaRejected as exc:
        raise ApiProblem(
            422,
            "The file can't be used",
            str(exc),
            kind="media-rejected",
            errors=[ProblemItem(field="file", message=str(exc))],
        ) from exc

    return await store(services, caller, fetched, alt_text)


async def store(
    services: Services, caller: Caller, fetched: Fetched, alt_text: str | None = None
) -> Media:
    """Keep a checked file as one of the caller's media, within the media quota."""
    settings = services.settings

    async def work(session: AsyncSession) -> Media:
        quota = settings.media_quota_bytes
        if quota and not await media.holds(session, caller.user_id, fetched.info.sha256):
            used = await media.usage(session, caller.user_id)
            if used + fetched.info.size > quota:
                raise invalid(posting.quota_message(used, fetched.info.size, quota, settings))
        row = await media.add(session, media_row(caller.user_id, fetched, alt_text or None))
        fetched.keep(settings.media_dir)  # before the commit, as the chat's media
        return row

    try:
        return await services.db.run(work)
    finally:
        fetched.discard()


async def fetch_links(services: Services, caller: Caller, urls: list[str]) -> list[int]:
    """Media from links (as a bulk file's media_url column is fetched), kept as the
    caller's; returns their media ids. 422 naming the link that can't be used."""
    fetcher = MediaFetcher(
        services.settings.media_dir, FetchPolicy.from_settings(services.settings)
    )
    ids = []
    async with fetcher:
        for url in urls:
            try:
                fetched = await fetcher.fetch(url)
            except MediaRejected as exc:
                raise invalid(f"{url[:80]}: {exc}") from exc
            ids.append((await store(services, caller, fetched)).id)
    return ids


async def patch_post(services: Services, caller: Caller, post_id: int, body: PostPatch) -> None:
    """Apply changes to the post's waiting copies with /edit's rules (its staging, checks
    and save); 422 with the same words the chat gives."""
    uid = caller.user_id
    existing = editing.current(services, uid)  # an edit in the chat is left as it was
    try:
        try:
            draft = await editing.begin(services, uid, post_id)
        except editing.EditError as exc:
            if "can't find" in str(exc):
                raise not_found("post", post_id) from exc
            raise ApiProblem(409, "The post can't be edited", str(exc), kind="conflict") from exc
        try:
            if body.text is not None:
                editing.set_text(services, draft, body.text)
            if body.time is not None:
                editing.set_time(services, draft, parse_time(services, caller, body.time))
            if body.account_ids is not None:

                async def owned(session: AsyncSession) -> list[Account]:
                    return await _owned_accounts(session, uid, body.account_ids or [])

                wanted = {a.id for a in await services.db.run(owned)}
                for account_id in sorted(wanted ^ set(draft.account_ids)):
                    await editing.toggle_account(services, uid, draft, account_id)
            if body.media_ids is not None:

                async def rows(session: AsyncSession) -> list[Media]:
                    return await _owned_media(session, uid, body.media_ids or [])

                draft.media_ids = [row.id for row in await services.db.run(rows)]
                draft.media_replaced = True
            for key, value in (body.per_account_text or {}).items():
                if not key.isdigit() or len(key) > 10 or int(key) not in draft.account_ids:
                    raise invalid(f"per_account_text: account {key[:20]} isn't on this post.")
                editing.set_override(draft, services, int(key), value)
            checked = await editing.check(services, uid, draft)
            if found := account_problems(checked.checks):
                raise invalid("; ".join(p.message for p in found), found)
            await edit_save.save(services, uid, draft)
        except editing.EditError as exc:
            raise invalid(str(exc)) from exc
    finally:
        editing.drop(services, uid)
        if existing is not None:
            services.scratch.setdefault("edits", {})[uid] = existing
