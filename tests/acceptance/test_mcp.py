"""The MCP server driven by the official SDK's own client, over streamable HTTP on
127.0.0.1 against the running app: list accounts, schedule → list → cancel, and a revoked
token refused on the next call."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from bot.accounts import api_tokens
from bot.app import Crier
from bot.config import Settings
from tests.acceptance.api_helpers import api_settings, token_for
from tests.acceptance.api_helpers import client as client_for_api
from tests.acceptance.conftest import Person


@pytest.fixture
async def crier(make_settings: Callable[..., Settings]) -> AsyncIterator[Crier]:
    async with Crier(api_settings(make_settings)) as app:
        yield app


@contextlib.asynccontextmanager
async def connect(crier: Crier, token: str) -> AsyncIterator[Client]:
    """The SDK's client on the app's /mcp, sending the token as an assistant's config would."""
    assert crier.web is not None
    url = f"http://127.0.0.1:{crier.web.port}/mcp"
    # A client handed to the transport is the caller's to close.
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


def data(result: Any) -> Any:
    """A tool's answer: its structured content, or its text read as JSON."""
    assert not result.is_error, result.content
    if result.structured_content is not None:
        found = result.structured_content
        return found.get("result", found) if isinstance(found, dict) else found
    return json.loads(result.content[0].text)


def error(result: Any) -> str:
    assert result.is_error
    return str(result.content[0].text)


async def test_schedule_list_cancel_with_the_sdk_client(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    token = await token_for(crier, alice)
    async with connect(crier, token) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == {
            "list_accounts",
            "schedule_post",
            "list_posts",
            "get_post",
            "reschedule_post",
            "cancel_post",
        }
        assert all(tool.description for tool in tools.values())

        [account] = data(await client.call_tool("list_accounts", {}))
        assert account["label"] == "Dry run"
        post = data(
            await client.call_tool(
                "schedule_post",
                {
                    "text": "From an assistant",
                    "account_ids": [account["id"]],
                    "time": "tomorrow 9am",
                },
            )
        )
        assert post["targets"][0]["status"] == "queued"
        assert post["publish_at"].endswith("T09:00:00Z")

        listed = data(await client.call_tool("list_posts", {"status": "queued"}))
        assert [p["id"] for p in listed] == [post["id"]]
        moved = data(
            await client.call_tool(
                "reschedule_post", {"post_id": post["id"], "time": "2028-01-02T10:00:00+02:00"}
            )
        )
        assert moved["targets"][0]["publish_at"] == "2028-01-02T08:00:00Z"

        said = await client.call_tool("cancel_post", {"post_id": post["id"]})
        assert not said.is_error
        got = data(await client.call_tool("get_post", {"post_id": post["id"]}))
        assert got["status"] == "cancelled"
        assert data(await client.call_tool("list_posts", {"status": "queued"})) == []

        # The chat's own words for what can't be done.
        again = error(await client.call_tool("cancel_post", {"post_id": post["id"]}))
        # (The SDK puts "Error executing tool <name>: " before a tool's own message.)
        assert again.endswith(f": Post #{post['id']} has nothing waiting to go out.")
        late = error(
            await client.call_tool(
                "schedule_post",
                {"text": "x", "account_ids": [account["id"]], "time": "2020-01-01T00:00:00Z"},
            )
        )
        assert "is in the past" in late
        missing = error(await client.call_tool("get_post", {"post_id": 999}))
        assert missing.endswith(": There is no post 999 among yours.")

    # The post made by the assistant is in /list like any other.
    await alice.says("/list", "From an assistant")


async def test_a_read_only_or_revoked_token_is_refused(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    reader = await token_for(crier, alice, api_tokens.READ)
    async with connect(crier, reader) as client:
        assert data(await client.call_tool("list_posts", {})) == []
        refused = error(await client.call_tool("schedule_post", {"text": "x", "account_ids": [1]}))
        assert "read-only" in refused
        assert crier.services is not None
        [row] = await api_tokens.list_tokens(crier.services, alice.id)
        await api_tokens.revoke(crier.services, alice.id, row.id)
        assert "revoked" in error(await client.call_tool("list_accounts", {}))


async def test_crier_mcp_over_stdio_schedules_lists_and_cancels(
    crier: Crier, alice: Person
) -> None:
    """`crier mcp` as an assistant starts it: a process on the bot's database, the token in
    CRIER_TOKEN; the bot sees what it scheduled."""
    await alice.says("/start", "Crier")
    token = await token_for(crier, alice)
    settings = crier.settings
    env = {
        "PATH": os.environ.get("PATH", ""),
        "CRIER_TOKEN": token,
        "TELEGRAM_BOT_TOKEN": settings.token,
        "TELEGRAM_API_BASE_URL": settings.telegram_api_base_url,
        "DATABASE_URL": settings.database_url,
        "MEDIA_DIR": str(settings.media_dir),
        "DEFAULT_TIMEZONE": "UTC",
    }
    server = StdioServerParameters(command=sys.executable, args=["-m", "bot", "mcp"], env=env)
    async with Client(server) as client:
        [account] = data(await client.call_tool("list_accounts", {}))
        post = data(
            await client.call_tool(
                "schedule_post",
                {"text": "Over stdio", "account_ids": [account["id"]], "time": "in 2 hours"},
            )
        )
        listed = data(await client.call_tool("list_posts", {}))
        assert [p["id"] for p in listed] == [post["id"]]
        assert not (await client.call_tool("cancel_post", {"post_id": post["id"]})).is_error
    await alice.says("/list", "Over stdio")
    async with client_for_api(crier, token) as api:
        assert (await api.get(f"/posts/{post['id']}")).json()["status"] == "cancelled"
