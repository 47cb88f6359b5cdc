"""Deleting and editing a post once it is out, per account, as each platform declares it can
(`providers.base.AfterPublish`). A platform that can delete but not edit (Bluesky) is offered
delete-and-post-again instead. Every call is scoped to the post's owner: another user's post
is not found, and no platform is asked anything."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from bot.engine.content import account_ref, extras, media_row, post_content, prepare_for
from bot.media.receive import Received
from providers.base import AfterPublish, Provider, PublishResult, Severity
from providers.errors import AuthError, ProviderError
from providers.http import sanitize
from providers.registry import Registry
from storage import after as store
from storage.db import Database
from storage.models import Post, Target
from storage.secrets import SecretBox

log = logging.getLogger(__name__)

#: The longest one platform may take to delete or edit a post.
CALL_SECONDS = 60.0


@dataclass(frozen=True, kw_only=True)
class Done:
    """What happened on one account."""

    account_id: int
    #: The account as the user knows it (HTML, escaped): "@news (Telegram channel)".
    name: str
    ok: bool
    #: What was done, or why not (plain text).
    said: str
    #: Its platform can't edit but can delete: offer to delete it and post it again.
    post_again: bool = False


def capabilities(registry: Registry, target: Target) -> AfterPublish:
    """What the target's platform allows once it is out (no credentials needed)."""
    provider = registry.get(target.account.platform)
    if provider is None:
        return AfterPublish()
    return provider.after_publish_for(account_ref(target.account))


def can_lookup(provider: Provider | None, target: Target) -> bool:
    """Whether an unknown outcome of this target can be settled by asking its platform."""
    if provider is None:
        return False
    return provider.after_publish_for(account_ref(target.account)).can_lookup


def offers(registry: Registry, targets: Sequence[Target]) -> tuple[bool, bool]:
    """Whether to show 🗑 Delete and ✏️ Edit for these targets: some live target's platform
    can delete it; can edit it, or delete it to post it again."""
    found = [capabilities(registry, t) for t in targets if _known(t)]
    return any(c.can_delete for c in found), any(c.can_edit or c.can_delete for c in found)


def _known(target: Target) -> bool:
    # Marked published by hand: Crier never learnt which post it is on the platform.
    return target.platform_post_id is not None


def published_of(target: Target) -> PublishResult:
    return PublishResult(
        platform_id=target.platform_post_id or "",
        url=target.url,
        ref=dict(target.ref or {}),
    )


class AfterPublishing:
    """Delete, edit, and post again, for the bot's buttons."""

    def __init__(
        self,
        *,
        db: Database,
        registry: Registry,
        secrets: SecretBox,
        media_dir: Path,
        clock: Callable[[], datetime],
        names: dict[str, str],
    ) -> None:
        self._db = db
        self._registry = registry
        self._secrets = secrets
        self._media_dir = media_dir
        self._clock = clock
        self._names = names

    async def post(self, user_id: int, post_id: int) -> Post | None:
        """The user's post with its targets; None when it isn't theirs (or isn't one)."""
        return await self._db.run(lambda s: store.post_with_targets(s, user_id, post_id))

    def live(self, post: Post) -> list[Target]:
        return store.live(post)

    def name(self, target: Target) -> str:
        platform = self._names.get(target.account.platform, target.account.platform)
        if target.account.platform == "dryrun":
            return escape(platform)
        return f"{escape(target.account.label)} ({escape(platform)})"

    # -- delete ------------------------------------------------------------------------------

    async def delete(self, user_id: int, post_id: int) -> list[Done] | None:
        """Delete the post from every account it is out on; None: not the user's post."""
        post = await self.post(user_id, post_id)
        if post is None:
            return None
        live = store.live(post)
        done = await asyncio.gather(*(self._delete_one(t) for t in live))
        ids = [t.id for t, d in zip(live, done, strict=True) if d.ok]
        now = self._clock()
        await self._db.run(lambda s: store.mark_deleted(s, user_id, ids, now))
        return list(done)

    async def _delete_one(self, target: Target) -> Done:
        provider = self._registry.get(target.account.platform)
        if provider is None or not capabilities(self._registry, target).can_delete:
            platform = provider.display_name if provider else target.account.platform
            return self._no(target, f"Crier can't delete a post on {platform} once it is out.")
        if not _known(target):
            return self._no(target, _UNKNOWN_POST)
        ref = account_ref(target.account, self._secrets)
        call = provider.delete(published_of(target), ref)
        failed = await self._call(target, ref.credentials, call)
        name = self.name(target)
        return failed or Done(account_id=target.account_id, name=name, ok=True, said="deleted")

    # -- edit --------------------------------------------------------------------------------

    async def edit(
        self,
        user_id: int,
        post_id: int,
        text: str | None,
        entities: Sequence[dict[str, Any]],
        *,
        media: Received | None = None,
    ) -> list[Done] | None:
        """Change the post's text (None: keep it), and with `media` its photo or video, on
        every account it is out on, each checked as at compose time first; None: not the
        user's post. The new text and media are kept on the post when some account took
        them or may post them again."""
        post = await self.post(user_id, post_id)
        if post is None:
            return None
        if media is not None:
            row = media_row(user_id, media)
            media.keep(self._media_dir)  # before the commit: never a row without its file
            if not await self._db.run(lambda s: store.replace_media(s, user_id, post_id, row)):
                return None
            post = await self.post(user_id, post_id)
            if post is None:
                return None
        if text is None:
            text, entities = post.text, list(post.entities or [])
        # The post as it will read now: one text for every account (own versions dropped).
        post.text, post.entities, post.overrides = text, list(entities), {}
        changed = media is not None
        done = await asyncio.gather(
            *(self._edit_one(post, t, media_changed=changed) for t in store.live(post))
        )
        if any(d.ok or d.post_again for d in done):
            await self._db.run(lambda s: store.set_text(s, user_id, post_id, text, list(entities)))
        return list(done)

    async def _edit_one(self, post: Post, target: Target, *, media_changed: bool) -> Done:
        provider = self._registry.get(target.account.platform)
        if provider is None:
            return self._no(target, "This platform is not supported any more.")
        ref = account_ref(target.account, self._secrets)
        declared = provider.after_publish_for(ref)
        if not declared.can_edit:
            # Its refusal says what to do instead ("delete it and post it again").
            content = post_content(post, None, self._media_dir)
            refusals = provider.validate_edit(published_of(target), content, ref)
            said = refusals[0].message if refusals else f"{provider.display_name} can't edit."
            again = declared.can_delete and _known(target)
            return self._no(target, said, post_again=again)
        if not _known(target):
            return self._no(target, _UNKNOWN_POST)
        published = published_of(target)
        if media_changed:  # the new file as this platform takes it (adapted, cached)
            try:
                content = await prepare_for(post, ref, provider, self._media_dir)
            except ProviderError as exc:
                return self._no(target, exc.message)
        else:
            # With its URL buttons and options: an edit without them would drop the keyboard.
            content = dataclasses.replace(
                post_content(post, target.account_id, self._media_dir, ref.platform),
                **extras(post, ref.config, ref.platform),
            )
        problems = provider.validate_edit(published, content, ref, media_changed=media_changed)
        errors = [p for p in problems if p.severity == Severity.ERROR]
        if errors:
            # Photos and videos it can't swap: offer to delete it and post it again.
            again = declared.can_delete and any(p.code == "media_not_editable" for p in errors)
            return self._no(target, " ".join(p.message for p in errors), post_again=again)
        result: list[PublishResult] = []

        async def edit() -> None:
            result.append(await provider.edit(published, content, ref, media_changed=media_changed))

        failed = await self._call(target, ref.credentials, edit())
        if failed:
            return failed
        [edited] = result
        user_id = target.user_id
        await self._db.run(
            lambda s: store.store_edit(
                s,
                user_id,
                target.id,
                platform_post_id=edited.platform_id,
                url=edited.url,
                ref=dict(edited.ref) or None,
            )
        )
        warnings = [p.message for p in problems if p.severity == Severity.WARNING]
        said = "edited" + "".join(f" ({w})" for w in warnings)
        return Done(account_id=target.account_id, name=self.name(target), ok=True, said=said)

    # -- delete and post again -----------------------------------------------------------------

    async def post_again(self, user_id: int, post_id: int) -> tuple[list[Done], int] | None:
        """Where the platform can't edit: delete the post there and queue it again, now, with
        the post's current text. Returns what happened and how many were queued again."""
        post = await self.post(user_id, post_id)
        if post is None:
            return None
        redo = [
            t
            for t in store.live(post)
            if _known(t) and capabilities(self._registry, t).can_delete and self._stale(post, t)
        ]
        done = await asyncio.gather(*(self._delete_one(t) for t in redo))
        ids = [t.id for t, d in zip(redo, done, strict=True) if d.ok]
        now = self._clock()

        async def work(session: Any) -> int:
            await store.mark_deleted(session, user_id, ids, now)
            return await store.post_again(session, user_id, ids, now)

        return list(done), await self._db.run(work)

    def _stale(self, post: Post, target: Target) -> bool:
        """The platform can't bring this copy up to date in place: it can't edit, or can't
        swap the photos and videos it went out with."""
        found = capabilities(self._registry, target)
        if not found.can_edit:
            return True
        provider = self._registry.get(target.account.platform)
        if provider is None or found.can_edit_media:
            return False
        platform = target.account.platform
        content = post_content(post, target.account_id, self._media_dir, platform)
        problems = provider.validate_edit(
            published_of(target), content, account_ref(target.account)
        )
        return any(p.code == "media_not_editable" for p in problems)

    # -- shared --------------------------------------------------------------------------------

    def _no(self, target: Target, said: str, *, post_again: bool = False) -> Done:
        return Done(
            account_id=target.account_id,
            name=self.name(target),
            ok=False,
            said=said,
            post_again=post_again,
        )

    async def _call(self, target: Target, credentials: Any, call: Awaitable[object]) -> Done | None:
        """Run one platform call; a Done saying why when it failed, None when it worked."""
        secrets = [v for v in dict(credentials).values() if isinstance(v, str) and len(v) >= 6]
        try:
            await asyncio.wait_for(call, CALL_SECONDS)
        except TimeoutError:
            return self._no(target, "The platform didn't answer in time; try again in a minute.")
        except AuthError as exc:
            reason = sanitize(exc.message, secrets)
            return self._no(target, f"{reason} Reconnect it with /connect, then try again.")
        except ProviderError as exc:
            return self._no(target, sanitize(exc.message, secrets))
        except Exception:
            log.exception("after-publish call failed for target %s", target.id)
            said = "Something went wrong on our side; check the post there, then try again."
            return self._no(target, said)
        return None


_UNKNOWN_POST = (
    "Crier doesn't know which post it is there (it was marked as published by hand), so "
    "change it on the platform itself."
)
