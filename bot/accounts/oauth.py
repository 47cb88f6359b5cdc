"""Connecting by signing in at the platform (X, LinkedIn, Pinterest, YouTube, ...).

/connect → `start`: a random `state` bound to the user (stored as its hash, single use,
ten minutes) and, where the platform takes PKCE, a code verifier (sealed); the user gets
the platform's sign-in link. The platform sends the browser back to
PUBLIC_URL/oauth/<platform>/callback → `complete`: the state is taken (once), the code
exchanged for tokens, and `accounts_for` says where the login can post. One destination
is connected at once; several are offered in the chat as buttons (`pick`). The browser
gets a short page (`Page`); the chat gets the outcome as a notice, so it is never lost.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts import connecting
from bot.config import Settings
from bot.services import Services
from providers.base import Provider, VerifiedAccount
from providers.errors import ProviderError
from providers.oauth import OAuthClient, as_credentials, pkce_pair
from storage import logins, notices, users
from storage.logins import Refusal

log = logging.getLogger(__name__)

#: How long a sign-in link works.
LOGIN_TTL = timedelta(minutes=10)
#: The settings that enable each platform's sign-in.
SETTINGS = {
    "x": "X_CLIENT_ID and X_CLIENT_SECRET",
    "linkedin": "LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET",
    "pinterest": "PINTEREST_CLIENT_ID and PINTEREST_CLIENT_SECRET",
    "youtube": "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET",
    "facebook": "META_APP_ID and META_APP_SECRET",
    "threads": "THREADS_APP_ID and THREADS_APP_SECRET",
    "tiktok": "TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET",
}


class SignInError(ValueError):
    """A sign-in can't start; the message says why, for the user."""


@dataclass(frozen=True, kw_only=True)
class Page:
    """What the browser is shown after the platform sent it back."""

    status: int
    title: str
    #: HTML (escaped where it quotes anything).
    text: str


def signs_in(provider: Provider) -> bool:
    return provider.oauth is not None


def missing(provider: Provider, settings: Settings, sealing: bool) -> str | None:
    """Which setting the operator must set before users can sign in here (None: ready)."""
    needs = []
    if provider.oauth_app is None:
        needs.append(SETTINGS.get(provider.platform, f"the {provider.display_name} app's keys"))
    if not settings.public_url:
        needs.append("PUBLIC_URL")
    if not sealing:
        needs.append("CRIER_ENCRYPTION_KEY")
    return " and ".join(needs) if needs else None


def redirect_uri(settings: Settings, platform: str) -> str:
    assert settings.public_url is not None
    return f"{settings.public_url}/oauth/{platform}/callback"


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _client(services: Services, provider: Provider) -> OAuthClient:
    assert provider.oauth is not None
    assert provider.oauth_app is not None
    return OAuthClient(
        provider.oauth,
        provider.oauth_app,
        services.http,
        platform=provider.display_name,
        clock=services.clock,
    )


async def start(services: Services, user_id: int, platform: str) -> str:
    """A fresh sign-in link for this user and platform."""
    provider = services.registry.get(platform)
    if provider is None or not signs_in(provider):
        raise SignInError("That platform doesn't connect by signing in.")
    if needs := missing(provider, services.settings, services.secrets.available):
        raise SignInError(
            f"{provider.display_name} isn't set up on this Crier yet: its operator needs to "
            f"set {needs}."
        )
    assert provider.oauth is not None
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair() if provider.oauth.pkce else (None, None)
    sealed = services.secrets.seal({"v": verifier}) if verifier else None
    now = services.now()
    await services.db.run(
        lambda s: logins.create(
            s,
            state_hash=_hash(state),
            user_id=user_id,
            platform=platform,
            verifier=sealed,
            now=now,
            ttl=LOGIN_TTL,
        )
    )
    return await _client(services, provider).authorize_url(
        redirect_uri(services.settings, platform), state, challenge
    )


def _page(status: int, title: str, text: str) -> Page:
    return Page(status=status, title=title, text=text)


AGAIN = "Send /connect to the bot in Telegram to start again."


async def complete(services: Services, platform: str, params: Mapping[str, str]) -> Page:
    """The platform sent the browser back: finish the sign-in, or say why not."""
    provider = services.registry.get(platform)
    if provider is None or not signs_in(provider) or provider.oauth_app is None:
        return _page(404, "Unknown sign-in", f"Crier doesn't sign in to “{escape(platform)}”.")
    name = escape(provider.display_name)
    state = params.get("state") or ""
    if not state:
        return _page(400, "This sign-in is incomplete", f"The address has no state. {AGAIN}")
    now = services.now()
    taken = await services.db.run(lambda s: logins.take(s, _hash(state), platform, now))
    if taken is Refusal.UNKNOWN:
        return _page(400, "Unknown sign-in", f"I didn't start this sign-in. {AGAIN}")
    if taken is Refusal.USED:
        return _page(
            400,
            "This sign-in link was already used",
            f"Each sign-in link works once. If {name} isn't connected yet: {AGAIN}",
        )
    if taken is Refusal.EXPIRED:
        return _page(
            400,
            "This sign-in took too long",
            f"Sign-in links work for {LOGIN_TTL.seconds // 60} minutes. {AGAIN}",
        )
    assert not isinstance(taken, Refusal)
    login = taken
    if error := params.get("error"):
        said = escape(params.get("error_description") or error)
        cancelled = error == "access_denied"
        why = "you cancelled it" if cancelled else f"{name} said: {said}"
        await _tell(
            services,
            login.user_id,
            f"🔌 Nothing was connected: the sign-in to {name} didn't finish ({why}).",
        )
        return _page(200, "Nothing was connected", f"The sign-in didn't finish ({why}). {AGAIN}")
    code = params.get("code") or ""
    if not code:
        return _page(400, "This sign-in is incomplete", f"{name} sent no code. {AGAIN}")
    verifier = str(services.secrets.open(login.verifier).get("v")) if login.verifier else None
    try:
        token = await _client(services, provider).exchange(
            code, redirect_uri(services.settings, platform), verifier
        )
        found = await provider.accounts_for(token)
    except ProviderError as exc:
        await _tell(services, login.user_id, f"⚠️ Connecting {name} failed: {escape(exc.message)}")
        return _page(502, "Connecting failed", f"{escape(exc.message)} {AGAIN}")
    if not found:
        await _tell(services, login.user_id, f"⚠️ {name} found nothing to post to on that login.")
        return _page(200, "Nothing to connect", f"{name} found nothing to post to. {AGAIN}")
    credentials = as_credentials(token)
    if len(found) == 1:
        only = found[0]
        connected = await connecting.save(
            services, login.user_id, only.platform or platform, only, credentials
        )
        shown = services.registry.get(connected.account.platform) or provider
        await _tell(services, login.user_id, connected_text(shown, connected))
        return _page(
            200,
            "Connected — go back to Telegram",
            f"{name} <b>{escape(connected.account.label)}</b> is connected to Crier.",
        )
    choices = [_choice(services, item) for item in found]
    sealed = services.secrets.seal(credentials)
    await services.db.run(lambda s: logins.keep_choices(s, login.id, sealed, choices))
    rows = [
        [{"text": f"➕ {item.label}", "data": f"oa:{login.id}:{i}"}] for i, item in enumerate(found)
    ]
    await _tell(
        services,
        login.user_id,
        f"🔌 Signed in to {name}. Where should I publish? Tap each one to connect it "
        f"(these buttons work for {LOGIN_TTL.seconds // 60} minutes).",
        rows,
    )
    return _page(
        200,
        "Signed in — go back to Telegram",
        f"Pick where to publish in the chat with the bot: {len(found)} choices are waiting.",
    )


def _choice(services: Services, item: VerifiedAccount) -> dict[str, Any]:
    """What a destination offered in the chat keeps until it is picked."""
    return {
        "platform": item.platform,
        "label": item.label,
        "external_id": item.external_id,
        "config": dict(item.config),
        "credentials": services.secrets.seal(item.credentials) if item.credentials else None,
        "notice": item.notice,
    }


def connected_text(provider: Provider, connected: connecting.Connected) -> str:
    label = escape(connected.account.label)
    name = escape(provider.display_name)
    text = (
        f"✅ Connected {name} <b>{label}</b>. Pick it when you schedule your next post."
        if connected.new
        else f"✅ {name} <b>{label}</b> was already connected; I refreshed its sign-in."
    )
    return text + (f"\n\n{connected.notice}" if connected.notice else "")


async def pick(services: Services, user_id: int, login_id: int, index: int) -> connecting.Connected:
    """Connect one of the destinations a sign-in offered (owner-checked, until it expires)."""
    now = services.now()
    login = await services.db.run(lambda s: logins.get(s, user_id, login_id))
    if login is None or login.token is None or not 0 <= index < len(login.choices):
        raise SignInError("That choice isn't there any more. Send /connect to sign in again.")
    if login.expires_at <= now:
        raise SignInError(
            f"These choices were for {LOGIN_TTL.seconds // 60} minutes. Send /connect to sign "
            "in again."
        )
    choice = login.choices[index]
    token = services.secrets.open(login.token)
    own = services.secrets.open(choice["credentials"]) if choice.get("credentials") else None
    verified = VerifiedAccount(
        label=str(choice["label"]),
        external_id=str(choice["external_id"]),
        config=dict(choice.get("config") or {}),
        credentials=own or token,
        notice=choice.get("notice"),
    )
    return await connecting.save(
        services, user_id, choice.get("platform") or login.platform, verified
    )


async def _tell(
    services: Services, user_id: int, text: str, buttons: list[list[dict[str, str]]] | None = None
) -> None:
    """A DM through the outbox: sent even if Telegram is away right now."""
    now = services.now()

    async def work(session: AsyncSession) -> None:
        user = await users.get(session, user_id)
        if user is not None:
            await notices.enqueue(
                session,
                user_id=user_id,
                chat_id=user.chat_id,
                text=text,
                buttons=buttons,
                now=now,
            )

    await services.db.run(work)
    services.notifier.wake()
