"""Credentials at rest: Fernet-encrypted JSON, keyed by CRIER_ENCRYPTION_KEY."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretsUnavailable(RuntimeError):
    """No encryption key is configured, so credentials can't be stored or read."""


class WrongKey(RuntimeError):
    """Stored credentials can't be decrypted with the configured key."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


class SecretBox:
    """Encrypts credential dicts. Several comma-separated keys allow rotation: the first
    encrypts, all decrypt."""

    def __init__(self, keys: str | None) -> None:
        self._fernet: MultiFernet | None = None
        if keys:
            try:
                self._fernet = MultiFernet(
                    [Fernet(k.strip()) for k in keys.split(",") if k.strip()]
                )
            except ValueError as exc:
                raise WrongKey(
                    "CRIER_ENCRYPTION_KEY is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes; `crier keygen` prints one)."
                ) from exc

    @property
    def available(self) -> bool:
        return self._fernet is not None

    def seal(self, credentials: Mapping[str, Any]) -> str:
        if self._fernet is None:
            raise SecretsUnavailable("set CRIER_ENCRYPTION_KEY to store credentials")
        return self._fernet.encrypt(json.dumps(dict(credentials)).encode()).decode()

    def open(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        if self._fernet is None:
            raise SecretsUnavailable("set CRIER_ENCRYPTION_KEY to read stored credentials")
        try:
            data: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise WrongKey(
                "Stored credentials can't be read with CRIER_ENCRYPTION_KEY: it is not the key "
                "they were stored with."
            ) from exc
        return data
