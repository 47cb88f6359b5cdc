"""The dry run does everything after publishing as well, in memory."""

from __future__ import annotations

from providers.base import AccountRef, NotPublished, PostContent, PublishResult
from providers.dryrun import DryRunProvider

ACCOUNT = AccountRef(id=1, platform="dryrun", label="Dry run")


async def test_publish_edit_lookup_delete() -> None:
    dry = DryRunProvider()
    result = await dry.publish(PostContent(text="One", thread=("Two",)), ACCOUNT, "key-1")
    assert result == PublishResult(platform_id="dryrun-key-1", ref={"key": "key-1", "parts": 2})
    assert await dry.lookup(PostContent(text="One"), ACCOUNT, "key-1") == result
    assert await dry.lookup(PostContent(text="One"), ACCOUNT, "key-2") == NotPublished(
        reason="The dry run recorded nothing with this key."
    )
    edited = await dry.edit(result, PostContent(text="Uno", thread=("Dos",)), ACCOUNT)
    assert edited == result
    assert [r.post.parts for r in dry.records] == [("Uno", "Dos")]
    await dry.delete(result, ACCOUNT)
    assert dry.records == []
    await dry.delete(result, ACCOUNT)  # gone already: still fine


async def test_a_result_stored_before_refs_is_found_by_its_platform_id() -> None:
    dry = DryRunProvider()
    await dry.publish(PostContent(text="Old"), ACCOUNT, "0123456789abcdef")
    await dry.delete(PublishResult(platform_id="dryrun-0123456789ab"), ACCOUNT)
    assert dry.records == []
