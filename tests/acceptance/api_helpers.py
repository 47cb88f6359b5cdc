"""What the REST API's end-to-end tests share: the app with its web server on a free port,
a person's token, and an HTTP client that speaks to /api/v1 over 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from bot.accounts import api_tokens
from bot.app import Crier
from bot.config import Settings
from tests.acceptance.conftest import Person
from tests.ports import free_port


def api_settings(make_settings: Callable[..., Settings], **overrides: Any) -> Settings:
    """The app with its web server on a free port, and a rate limit tests don't reach."""
    values: dict[str, Any] = {
        "web_port": free_port(),
        "api_rate_per_minute": 6000,
        "api_burst": 1000,
    }
    return make_settings(**(values | overrides))


def base_url(crier: Crier) -> str:
    assert crier.web is not None
    return f"http://127.0.0.1:{crier.web.port}/api/v1"


async def token_for(crier: Crier, person: Person, scope: str = api_tokens.WRITE) -> str:
    """A token made as /api makes one (the person has sent /start)."""
    assert crier.services is not None
    _, token = await api_tokens.create(crier.services, person.id, f"test {scope}", scope)
    return token


def client(crier: Crier, token: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=base_url(crier), headers=headers, timeout=20, **kwargs)
