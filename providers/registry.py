"""Platform name -> adapter. Explicit, read-only to callers, no scanning."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from providers.base import Provider


class UnknownPlatform(KeyError):
    """No adapter is registered for this platform."""


class Registry(Mapping[str, Provider]):
    def __init__(self, providers: Iterable[Provider]) -> None:
        self._providers: dict[str, Provider] = {}
        for provider in providers:
            if provider.platform in self._providers:
                raise ValueError(f"two adapters for platform {provider.platform!r}")
            self._providers[provider.platform] = provider

    def __getitem__(self, platform: str) -> Provider:
        try:
            return self._providers[platform]
        except KeyError:
            raise UnknownPlatform(platform) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)

    def __len__(self) -> int:
        return len(self._providers)
