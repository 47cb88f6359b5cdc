"""Every adapter honours the thread part of the contract: one that declares no threads
refuses a thread in `validate`; one that does checks every part against its own limit
(and counts a part as `text_length` says)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.contract.cases import CASES
from tests.contract.harness import ContractCase

pytestmark = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])


def test_a_thread_is_refused_where_there_are_none_and_checked_part_by_part_elsewhere(
    case: ContractCase, tmp_path: Path
) -> None:
    provider = case.provider(httpx.AsyncClient())
    account = case.account()
    limit = provider.limits_for(account).max_text
    fine = case.post(tmp_path, "First", thread=("a" * limit, "Third"))
    too_long = case.post(tmp_path, "First", thread=("Second", "b" * (limit + 1)))
    if not provider.limits_for(account).threads:
        assert [p.code for p in provider.validate(fine, account)] == ["no_threads"]
        return
    assert provider.validate(fine, account) == []
    problems = provider.validate(too_long, account)
    assert [p.code for p in problems] == ["text_too_long"]
    assert "Part 3 of 3" in problems[0].message
    assert provider.text_length("b" * (limit + 1), account) == limit + 1


def test_an_empty_part_is_refused_where_threads_exist(case: ContractCase, tmp_path: Path) -> None:
    provider = case.provider(httpx.AsyncClient())
    account = case.account()
    post = case.post(tmp_path, "First", thread=("  ",))
    codes = [p.code for p in provider.validate(post, account)]
    expected = "empty_part" if provider.limits_for(account).threads else "no_threads"
    assert codes == [expected]
