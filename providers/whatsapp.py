"""WhatsApp, through the WhatsApp Business Platform Cloud API (Graph API v26.0).

An account is one business phone number (its *phone number id*), a system-user access token
and a list of people to send every post to, typed in at /connect: the Cloud API has no
broadcast lists (those are a WhatsApp Business app feature), so Crier sends the post to each
number in turn, one message each (or one per photo, video or document). An optional
WhatsApp Business Account id lets `verify` read the account's message templates; an
optional template name makes every post go out as that template, its text filling the
template's one body parameter.

The 24-hour customer service window: WhatsApp delivers a free-form message only to people
who wrote to the number in the last 24 hours; for the others it answers 131047 and only an
approved template reaches them. Crier doesn't receive WhatsApp's webhooks, so it can't know
who is inside the window; `window_note` explains the rule in the preview, and a refusal
becomes that recipient's reason in the result's `notes`. Meta documents that send errors
come back in the API's answer, by webhook, or both: a message WhatsApp accepted (an id came
back) may still fail later, which Crier can't see.

Docs: developers.facebook.com/documentation/business-messaging/whatsapp — Messages
(reference/messages), Media (reference/media, "Supported media types"), Phone numbers,
Message templates (business-management-api/message-templates), Throughput, Messaging limits,
Error codes (support/error-codes).

Sending: the media are uploaded once (POST /{phone-number-id}/media) and sent by id, so no
public URL is needed (`Limits.pulls_media` stays False); then POST /{phone-number-id}/messages
for each recipient, each message in turn. Sends are paced to the number's throughput (80
messages a second by default, `throughput_level` HIGH: 1,000), and at most
`max_sends_per_call` messages go out per call, so one call stays short.

Recipients are independent: a refusal for one (131047 closed window, 131026 undeliverable,
131030 not an allowed test recipient...) is noted and the others still get the post; too many
messages to one person lately (131056) leaves that person for later. What stops everyone
(throughput 130429, spam limit 131048, a server error, a lost answer) before anyone has an
outcome raises as usual; after that, `publish` answers `Processing` with a handle of
everything done (`providers.whatsapp_delivery.Progress`) and `poll` carries on from it,
sending only to those still waiting: nobody gets the post twice. An account-wide refusal
after some were sent (the token refused, the account restricted) ends the publish with the
rest noted as not sent. When nobody got the post, the most telling error is raised.

`PublishResult.ref` = {"phone_number_id", "messages": {number: first wamid or null},
"message_ids": {number: [every wamid]}, "failed": {number: reason}, "parts": messages per
recipient}; `url` is the business number's click-to-chat link (https://wa.me/<number>):
a WhatsApp message has no public address. The Cloud API can't delete or edit a message a
business sent, nor list what was sent: `after_publish` declares nothing, `lookup` is None.

Tokens: a system user's token (Business settings → System users) set to never expire is what
a scheduler needs; a temporary token from the app's API Setup page lasts 24 hours. There is
no refresh: a refused token (190) means reconnecting with a new one.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

import httpx

from providers.base import (
    AccountRef,
    AfterPublish,
    ConnectField,
    Limits,
    PostContent,
    Problem,
    Processing,
    Provider,
    PublishResult,
    Severity,
    VerifiedAccount,
    check_limits,
    delete_after_problems,
)
from providers.errors import AuthError, PermanentError, TransientError
from providers.whatsapp_api import (
    GRAPH_API_VERSION,
    GRAPH_BASE_URL,
    SERVER_WAIT,
    PairRateLimited,
    RecipientRefused,
    WhatsAppApi,
)
from providers.whatsapp_connect import CONNECT_FIELDS, template_choice
from providers.whatsapp_delivery import Progress, file_names, message_parts, part_count
from providers.whatsapp_limits import (
    LIMITS,
    PHONE_NUMBER_ID_PATTERN,
    limits_for_config,
    parse_recipients,
    recipients_of,
    template_problems,
)
from providers.whatsapp_templates import (
    TemplateInfo,
    chosen_template,
    template_info,
    window_note,
)

#: Messages a second per number by throughput level (Cloud API "Throughput").
THROUGHPUT = {"STANDARD": 80.0, "HIGH": 1000.0}
#: Messages sent in one call to `publish` or `poll` at most; the rest go in the next poll.
MAX_SENDS_PER_CALL = 50

_DIGITS = re.compile(r"\D")


class WhatsAppProvider(Provider):
    platform: ClassVar[str] = "whatsapp"
    display_name: ClassVar[str] = "WhatsApp"
    connect_fields: ClassVar[tuple[ConnectField, ...]] = CONNECT_FIELDS

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base_url: str = GRAPH_BASE_URL,
        api_version: str = GRAPH_API_VERSION,
        web_base_url: str = "https://wa.me",
        max_sends_per_call: int = MAX_SENDS_PER_CALL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._base = api_base_url
        self._version = api_version
        self._web = web_base_url.rstrip("/")
        self._max_sends = max(1, max_sends_per_call)
        self._sleep = sleep
        self._clock = clock
        #: When the next message may go out, per phone number id (the throughput pace).
        self._next_send: dict[str, float] = {}
        self.limits = LIMITS
        self.after_publish = AfterPublish()

    # -- contract ---------------------------------------------------------------------------

    def limits_for(self, account: AccountRef) -> Limits:
        return limits_for_config(account.config)

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        problems = check_limits(self.limits_for(account), post, self.display_name)
        problems.extend(delete_after_problems(self.after_publish, post, self.display_name))
        recipients = recipients_of(account)
        if not recipients:
            problems.append(
                Problem(
                    code="no_recipients",
                    message="This WhatsApp account has no recipients; connect it again.",
                )
            )
        template = chosen_template(account)
        if template is not None:
            tier = account.config.get("messaging_limit_tier")
            problems.extend(template_problems(template, post, len(recipients), tier))
        return problems

    async def validate_live(self, post: PostContent, account: AccountRef) -> list[Problem]:
        """The 24-hour rule, said in the preview (as a warning: the post still goes out to
        everyone inside their window), with the account's approved templates."""
        return [
            Problem(code="whatsapp_window", message=window_note(account), severity=Severity.WARNING)
        ]

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Read the number (and the account's templates), check the recipients and the chosen
        template. Stores {"phone_number_id", "display_phone_number", "verified_name",
        "quality_rating", "messaging_limit_tier", "throughput_level", "recipients", "waba_id",
        "templates", "template"}; the token stays as typed (credentials "access_token")."""
        config = account.config
        phone_number_id = str(config.get("phone_number_id") or "").strip()
        if not re.fullmatch(PHONE_NUMBER_ID_PATTERN, phone_number_id):
            raise PermanentError("That isn't a phone number ID; it is a long number of digits.")
        recipients = parse_recipients(config.get("recipients"))
        api = self._api(account)
        try:
            number = await api.phone_number(phone_number_id)
        except PermanentError as exc:
            raise PermanentError(
                f"WhatsApp has no phone number {phone_number_id} that this token may use "
                f"({exc.message}). Copy the phone number ID from API Setup, and check that the "
                "system user has the WhatsApp account assigned."
            ) from exc
        waba_id = str(config.get("waba_id") or "").strip() or None
        templates = await self._templates(api, waba_id) if waba_id else []
        template = template_choice(config.get("template"), templates, waba_id)
        display = str(number.get("display_phone_number") or phone_number_id)
        name = str(number.get("verified_name") or "").strip()
        stored: dict[str, Any] = {
            "phone_number_id": phone_number_id,
            "display_phone_number": display,
            "verified_name": name or None,
            "quality_rating": number.get("quality_rating"),
            "messaging_limit_tier": _tier(number),
            "throughput_level": (number.get("throughput") or {}).get("level"),
            "recipients": recipients,
            "waba_id": waba_id,
            "templates": [t.to_config() for t in templates],
            "template": None if template is None else template.to_config(),
        }
        probe = AccountRef(id=account.id, platform=self.platform, label="", config=stored)
        count = f"{len(recipients)} recipient{'s' if len(recipients) != 1 else ''}"
        return VerifiedAccount(
            label=f"WhatsApp {display}" + (f" ({name})" if name else ""),
            external_id=phone_number_id,
            config=stored,
            notice=html.escape(f"Posts go to {count}.\n{window_note(probe)}"),
        )

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | Processing:
        recipients = recipients_of(account)
        if not recipients:
            raise PermanentError("This WhatsApp account has no recipients; connect it again.")
        progress = Progress(recipients=recipients, parts=part_count(post, chosen_template(account)))
        return await self._carry_on(progress, post, account, idempotency_key)

    async def poll(
        self,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
        idempotency_key: str,
    ) -> PublishResult | Processing:
        progress = Progress.from_handle(handle)
        return await self._carry_on(progress, post, account, idempotency_key)

    # -- sending ----------------------------------------------------------------------------

    async def _carry_on(
        self, progress: Progress, post: PostContent, account: AccountRef, key: str
    ) -> PublishResult | Processing:
        """Send to everyone still waiting, as far as this call goes."""
        api = self._api(account)
        phone_number_id = _phone_number_id(account)
        template = chosen_template(account)
        names = file_names(post.media)
        if progress.media_ids is None:
            media = post.media if template is None else post.media[:1]
            progress.media_ids = [
                await api.upload(phone_number_id, item, names[index])
                for index, item in enumerate(media)
            ]
        parts = message_parts(post, progress.media_ids, template, names)
        if len(parts) != progress.parts:
            raise PermanentError("The post changed while it was being sent; publish it again.")
        interval = 1.0 / THROUGHPUT.get(str(account.config.get("throughput_level")), 80.0)
        sends, waits, later = 0, [0.0], None
        for number in progress.pending():
            for index in range(len(progress.messages.get(number, ())), progress.parts):
                if sends >= self._max_sends:
                    return _processing(progress, 1.0)
                message = {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": number,
                    **parts[index],
                    "biz_opaque_callback_data": key[:512],
                }
                await self._pace(phone_number_id, interval)
                started = progress.started
                try:
                    message_id = await api.send(phone_number_id, message)
                except PairRateLimited as exc:
                    waits.append(exc.retry_after)
                    later = later or exc
                    break  # this person later; the others now
                except RecipientRefused as exc:
                    progress.failed[number] = exc.message
                    break
                except TransientError as exc:
                    if exc.ambiguous:
                        progress.sent(number, None)  # maybe out: never again
                    if not started:
                        raise
                    wait = getattr(exc, "retry_after", SERVER_WAIT)
                    return _processing(progress, max(float(wait), 1.0))
                except (AuthError, PermanentError) as exc:
                    if not started:
                        raise
                    progress.stop(exc)
                    return self._finish(progress, account, phone_number_id)
                progress.sent(number, message_id)
                sends += 1
        if progress.pending():
            if not progress.started and later is not None:
                raise later
            return _processing(progress, max(waits))
        return self._finish(progress, account, phone_number_id)

    def _finish(
        self, progress: Progress, account: AccountRef, phone_number_id: str
    ) -> PublishResult:
        delivered = progress.delivered()
        if not delivered:
            raise progress.error()
        first = next((i for n in delivered for i in progress.messages[n] if i), None)
        digits = _DIGITS.sub("", str(account.config.get("display_phone_number") or ""))
        return PublishResult(
            platform_id=first or f"{phone_number_id}:{delivered[0]}",
            url=f"{self._web}/{digits}" if digits else None,
            ref=progress.ref(phone_number_id),
            notes=progress.notes(),
        )

    async def _pace(self, phone_number_id: str, interval: float) -> None:
        """Keep to the number's messages per second (every publish on this provider)."""
        now = self._clock()
        at = self._next_send.get(phone_number_id, now)
        if at > now:
            await self._sleep(at - now)
        self._next_send[phone_number_id] = max(now, at) + interval

    async def _templates(self, api: WhatsAppApi, waba_id: str) -> list[TemplateInfo]:
        try:
            raw = await api.templates(waba_id)
        except PermanentError as exc:
            raise PermanentError(
                f"WhatsApp has no Business Account {waba_id} this token may read ({exc.message})."
                " Copy the WhatsApp Business Account ID from API Setup, or skip it."
            ) from exc
        return [template_info(t) for t in raw]

    def _api(self, account: AccountRef) -> WhatsAppApi:
        token = str(account.credentials.get("access_token") or "").strip()
        if not token:
            raise AuthError("This WhatsApp account has no access token; connect it again.")
        return WhatsAppApi(self._http, token, base_url=self._base, version=self._version)


def _tier(number: Mapping[str, Any]) -> str | None:
    """The messaging limit ("TIER_2K"), from the field that replaced `messaging_limit_tier`."""
    value = number.get("whatsapp_business_manager_messaging_limit")
    if value is None:
        value = number.get("messaging_limit_tier")
    return None if value is None else str(value)


def _processing(progress: Progress, wait: float) -> Processing:
    done = len(progress.recipients) - len(progress.pending())
    stage = f"sending on WhatsApp ({done} of {len(progress.recipients)} recipients done)"
    return Processing(handle=progress.to_handle(), retry_after=wait, stage=stage)


def _phone_number_id(account: AccountRef) -> str:
    value = str(account.config.get("phone_number_id") or "").strip()
    if not value:
        raise PermanentError("This WhatsApp account has no phone number ID; connect it again.")
    return value


__all__ = ["GRAPH_API_VERSION", "WhatsAppProvider", "window_note"]
