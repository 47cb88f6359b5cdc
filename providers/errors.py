"""Why a platform did not take a post.

    ProviderError
     ├── TransientError     the platform or the network failed; later may work
     │    └── RateLimited   the platform said to wait `retry_after` seconds
     ├── AuthError          the credentials were refused; the account must be reconnected
     └── PermanentError     the platform will never accept this post as it is

Messages are meant for the user: plain words, no secrets, no HTML.
"""

from __future__ import annotations


class ProviderError(Exception):
    """The platform did not take the post."""

    def __init__(self, message: str | None = None, *, http_status: int | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip()
        self.http_status = http_status
        super().__init__(self.message)


class TransientError(ProviderError):
    """The platform or the network failed for now; trying again later may work."""

    def __init__(
        self,
        message: str | None = None,
        *,
        http_status: int | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message, http_status=http_status)
        #: True when the request may have reached the platform (a timeout after sending).
        self.ambiguous = ambiguous


class RateLimited(TransientError):
    """The platform asked us to slow down."""

    def __init__(
        self, retry_after: float, message: str | None = None, *, http_status: int | None = 429
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.retry_after = max(0.0, float(retry_after))


class AuthError(ProviderError):
    """The platform refused the account's credentials; it needs to be reconnected."""


class PermanentError(ProviderError):
    """The platform will not accept this post as it is."""
