"""A provider whose answers a test scripts, for fault injection in the engine.

Each publish takes the next step of the script (the last step repeats):

    "ok"            published
    "ok:<ms>"       published after taking <ms> milliseconds (a real API call's time)
    "500"           TransientError (server error)
    "timeout"       TransientError(ambiguous=True): the request may have gone out (it did)
    "unsent"        TransientError(ambiguous=True) for a request that never arrived
    "429:<s>"       RateLimited(retry_after=s)
    "401"           AuthError
    "400"           PermanentError
    "block"         wait until `release()` is called, then publish
    "process:<n>"   a two-phase publish: the upload is taken (counted in `uploads`) and the
                    platform processes it for <n> polls, then the post is out
    "process_fail"  a two-phase publish whose processing fails at the first poll

With `lookup_script` set, the platform can be asked whether a post is out (`lookup`,
`AfterPublish.can_lookup`); each lookup takes the next answer (the last repeats):

    "look"          what the platform has: the post published under the key, or not published
    "unsure"        None: it can't tell
    "error"         TransientError: it can't be asked now

It keeps what a real platform would: one post per idempotency key when `idempotent`
(a repeat returns the first post), every call in `calls`, and the most publishes it saw
running at once, in all and per account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from providers.base import (
    AccountRef,
    AfterPublish,
    Limits,
    MediaKind,
    NotPublished,
    PostContent,
    Processing,
    Provider,
    PublishResult,
    VerifiedAccount,
)
from providers.errors import AuthError, PermanentError, RateLimited, TransientError


@dataclass(frozen=True)
class Call:
    idempotency_key: str
    text: str
    token: str | None


class ScriptedProvider(Provider):
    platform: ClassVar[str] = "scripted"
    display_name: ClassVar[str] = "Scripted"

    def __init__(
        self,
        script: list[str] | None = None,
        *,
        idempotent: bool = False,
        refresh_to: str | None = None,
        concurrency: int = 2,
        platform_concurrency: int = 10,
        quota: tuple[int, float] | None = None,
        processing_timeout: float = 3600.0,
    ) -> None:
        self.script = list(script or ["ok"])
        self.limits = Limits(
            max_text=1000,
            max_media=4,
            max_images=4,
            mime_types={MediaKind.PHOTO: frozenset()},
            idempotent_publish=idempotent,
            concurrency=concurrency,
            platform_concurrency=platform_concurrency,
            quota=quota,
            processing_timeout=processing_timeout,
        )
        #: The token `refresh` hands out; None: refreshing is impossible.
        self.refresh_to = refresh_to
        #: Tokens the platform accepts; the account's token must be among them.
        self.valid_tokens: set[str] | None = None
        self.calls: list[Call] = []
        #: Posts that exist on the platform, by idempotency key (or call number).
        self.posts: dict[str, str] = {}
        self.refreshes = 0
        #: Two-phase: uploads taken (each a publish call), every poll's handle, and the wait
        #: the platform advises between polls.
        self.uploads = 0
        self.polls: list[dict[str, Any]] = []
        self.poll_after = 0.05
        self.in_flight = 0
        self.max_in_flight = 0
        self.in_flight_by_account: dict[int, int] = {}
        #: account id -> the most publishes seen running at once to it.
        self.max_in_flight_by_account: dict[int, int] = {}
        self._gate = asyncio.Event()
        self.blocked = asyncio.Event()
        #: Answers to `lookup`, in turn (None: the platform can't be asked); keys looked up.
        self.lookup_script: list[str] | None = None
        self.lookups: list[str] = []

    def after_publish_for(self, account: AccountRef) -> AfterPublish:
        return AfterPublish(can_lookup=self.lookup_script is not None)

    async def lookup(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | NotPublished | None:
        if not self.lookup_script:
            return None
        self.lookups.append(idempotency_key)
        script = self.lookup_script
        step = script.pop(0) if len(script) > 1 else script[0]
        if step == "error":
            raise TransientError("Scripted is down for maintenance (503)", http_status=503)
        if step == "unsure":
            return None
        found = [pid for key, pid in self.posts.items() if key.split("#")[0] == idempotency_key]
        if not found:
            return NotPublished(reason="no post under that key")
        return PublishResult(
            platform_id=found[0], url=f"https://scripted.example/p/{found[0]}", ref={"parts": 1}
        )

    def release(self) -> None:
        self._gate.set()

    async def poll(
        self,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
        idempotency_key: str,
    ) -> PublishResult | Processing:
        """Carry on a two-phase publish from its handle alone (as after a restart)."""
        self.polls.append(dict(handle))
        if handle.get("fail"):
            raise PermanentError("Scripted couldn't process the video: unsupported codec")
        left = int(handle["left"])
        if left > 0:
            return Processing(
                handle={**handle, "left": left - 1},
                retry_after=self.poll_after,
                stage="processing the video",
            )
        post_id = self._record(idempotency_key)
        return PublishResult(
            platform_id=post_id,
            url=f"https://scripted.example/p/{post_id}",
            ref={"upload": handle["upload"], "parts": 1},
        )

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | Processing:
        token = account.credentials.get("token")
        self.calls.append(Call(idempotency_key, post.text, token))
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        mine = self.in_flight_by_account[account.id] = (
            self.in_flight_by_account.get(account.id, 0) + 1
        )
        self.max_in_flight_by_account[account.id] = max(
            self.max_in_flight_by_account.get(account.id, 0), mine
        )
        try:
            return await self._answer(step, post, token, idempotency_key)
        finally:
            self.in_flight -= 1
            self.in_flight_by_account[account.id] -= 1

    async def _answer(
        self, step: str, post: PostContent, token: str | None, key: str
    ) -> PublishResult | Processing:
        if self.valid_tokens is not None and token not in self.valid_tokens:
            raise AuthError("Scripted: the token was revoked")
        if step.startswith("process"):
            self.uploads += 1
            upload = f"upload-{self.uploads}"
            fail = step == "process_fail"
            left = 0 if fail else int(step.split(":")[1])
            return Processing(
                handle={"upload": upload, "left": left, "fail": fail},
                retry_after=self.poll_after,
                stage="processing the video",
            )
        if step == "ok":
            await asyncio.sleep(0)
        elif step.startswith("ok:"):
            await asyncio.sleep(float(step[3:]) / 1000)
        elif step == "block":
            # The platform has it; the answer waits until the test releases it.
            post_id = self._record(key)
            self.blocked.set()
            await self._gate.wait()
            return PublishResult(platform_id=post_id, url=f"https://scripted.example/p/{post_id}")
        elif step == "500":
            raise TransientError("Scripted had a server error (500)", http_status=500)
        elif step == "timeout":
            self._record(key)
            raise TransientError("Scripted did not answer in time", ambiguous=True)
        elif step == "unsent":
            raise TransientError("Scripted did not answer in time", ambiguous=True)
        elif step.startswith("429:"):
            raise RateLimited(float(step[4:]), "Scripted rate limit")
        elif step == "401":
            raise AuthError("Scripted refused the token", http_status=401)
        elif step == "400":
            raise PermanentError("Scripted rejected the post: too spicy", http_status=400)
        else:
            raise AssertionError(f"unknown step {step!r}")
        post_id = self._record(key)
        return PublishResult(platform_id=post_id, url=f"https://scripted.example/p/{post_id}")

    def _record(self, key: str) -> str:
        if self.limits.idempotent_publish and key in self.posts:
            return self.posts[key]
        post_id = str(len(self.posts) + 1)
        self.posts[key if self.limits.idempotent_publish else f"{key}#{post_id}"] = post_id
        return post_id

    def published_keys(self) -> list[str]:
        return [key.split("#")[0] for key in self.posts]

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        handle = str(account.config.get("handle") or account.label)
        return VerifiedAccount(label=handle, external_id=handle)

    async def refresh(self, account: AccountRef) -> Mapping[str, Any]:
        self.refreshes += 1
        if self.refresh_to is None:
            raise AuthError("Scripted needs you to reconnect this account.")
        return {"token": self.refresh_to}
