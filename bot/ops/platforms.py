"""The platforms Crier publishes to: every adapter, configured from the settings (the
registered apps' keys, API plans, options). A platform whose app keys are unset is still
registered, so accounts already connected keep publishing; /connect names the setting that
enables its sign-in."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import httpx
from pydantic import SecretStr

from bot.config import Settings
from providers.base import Provider
from providers.bluesky import BlueskyProvider
from providers.discord import DiscordProvider
from providers.dryrun import DryRunProvider
from providers.facebook import FacebookProvider
from providers.instagram import InstagramProvider
from providers.linkedin import LinkedInProvider
from providers.mastodon import MastodonProvider
from providers.oauth import OAuthApp
from providers.pinterest import PinterestProvider
from providers.registry import Registry
from providers.telegram_channel import TelegramChannelProvider
from providers.threads import ThreadsProvider
from providers.tiktok import TikTokProvider
from providers.webhook import WebhookProvider
from providers.whatsapp import WhatsAppProvider
from providers.x import XProvider
from providers.youtube import YouTubeProvider


def build_registry(
    settings: Settings, http: httpx.AsyncClient, extra: Sequence[Provider] = ()
) -> Registry:
    meta = oauth_app(settings.meta_app_id, settings.meta_app_secret)
    registry = Registry(
        [
            DryRunProvider(),
            TelegramChannelProvider(
                http, token=settings.token, api_base_url=settings.telegram_api_base_url
            ),
            BlueskyProvider(
                http,
                resolver_url=settings.bluesky_resolver_url,
                plc_url=settings.bluesky_plc_url,
            ),
            MastodonProvider(http),
            DiscordProvider(http),
            WebhookProvider(
                http,
                block_private_hosts=settings.webhook_block_private_hosts,
                media_base_url=settings.public_media_url if settings.web_port else None,
            ),
            XProvider(
                http,
                oauth_app=oauth_app(settings.x_client_id, settings.x_client_secret),
                plan=settings.x_api_plan,
            ),
            LinkedInProvider(
                http,
                oauth_app=oauth_app(settings.linkedin_client_id, settings.linkedin_client_secret),
                organizations=settings.linkedin_organizations,
            ),
            PinterestProvider(
                http,
                oauth_app=oauth_app(settings.pinterest_client_id, settings.pinterest_client_secret),
            ),
            YouTubeProvider(
                http,
                oauth_app=oauth_app(settings.google_client_id, settings.google_client_secret),
            ),
            FacebookProvider(http, oauth_app=meta),
            InstagramProvider(http, oauth_app=meta),
            ThreadsProvider(
                http, oauth_app=oauth_app(settings.threads_app_id, settings.threads_app_secret)
            ),
            TikTokProvider(
                http,
                oauth_app=oauth_app(settings.tiktok_client_key, settings.tiktok_client_secret),
            ),
            WhatsAppProvider(http),
            *extra,
        ]
    )
    for platform, most in settings.engine_platform_concurrency.items():
        provider = registry.get(platform)
        if provider is not None:  # the operator's cap on the platform, across workers
            provider.limits = dataclasses.replace(provider.limits, platform_concurrency=most)
    return registry


def oauth_app(client_id: str | None, secret: SecretStr | None) -> OAuthApp | None:
    """The registered app's keys, when both are set (else the platform isn't offered)."""
    if not client_id or secret is None or not secret.get_secret_value():
        return None
    return OAuthApp(client_id=client_id, client_secret=secret.get_secret_value())
