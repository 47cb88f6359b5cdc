"""Schemathesis against the REST API's own OpenAPI document, over real HTTP: for each
operation, a bounded number of generated requests (valid and not) with a write token; no
answer may be a 5xx, and every answer must match what the document says (status, content
type, body schema)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from bot.app import Crier
from bot.config import Settings
from tests.acceptance.api_helpers import api_settings, base_url, client, token_for
from tests.acceptance.conftest import Person

#: Generated requests per operation: enough to find a 5xx on a bad input, bounded for CI.
MAX_EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
async def crier(make_settings: Callable[..., Settings]) -> AsyncIterator[Crier]:
    async with Crier(api_settings(make_settings)) as app:
        yield app


@pytest.mark.slow
async def test_generated_requests_get_no_5xx_and_answers_match_the_document(
    crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    token = await token_for(crier, alice)
    async with client(crier, token) as api:
        # Something to find: a post and an upload for the id routes to hit now and then.
        await api.post("/posts", json={"text": "Seed", "account_ids": [1], "time": "tomorrow 9am"})
        document = (await api.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    url = base_url(crier)
    headers = {"Authorization": f"Bearer {token}"}

    def run() -> list[str]:
        """Sync, in a thread: the app answers on this test's event loop meanwhile."""
        tried = []
        for result in schema.get_all_operations():
            operation = result.ok()

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def exercise(case: schemathesis.Case) -> None:
                response = case.call(base_url=url, headers=headers, timeout=30)
                case.validate_response(response, checks=CHECKS)

            exercise()
            tried.append(operation.label)
        return tried

    tried = await asyncio.to_thread(run)
    assert len(tried) == 9, tried  # every route of the document
