"""`crier demo` as a person meets it: the command started as a process, its page in a real
browser (Debian's chromium, headless, driven by Playwright; never a downloaded browser)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright

from tests.ports import free_port

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def demo_url(tmp_path: Path) -> AsyncIterator[str]:
    """`crier demo --port N --data DIR` running; its page's address."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--port", str(port), "--data", str(tmp_path / "data"),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    output: list[str] = []

    async def read_until_ready() -> None:
        assert process.stdout is not None
        while line := (await process.stdout.readline()).decode():
            output.append(line)
            if f"http://127.0.0.1:{port}" in line:
                return
        raise AssertionError("crier demo exited:\n" + "".join(output))

    await asyncio.wait_for(read_until_ready(), 60)

    async def drain() -> None:  # the process must never block on a full pipe
        assert process.stdout is not None
        while line := (await process.stdout.readline()).decode():
            output.append(line)

    draining = asyncio.create_task(drain())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            raise
        await draining
        assert code == 0, "crier demo did not stop cleanly:\n" + "".join(output)


@pytest.fixture
async def page(demo_url: str, tmp_path: Path) -> AsyncIterator[Page]:
    """A headless chromium tab on the demo's page; a screenshot of it at the end of the test
    is kept as `finished.png` in the test's tmp_path."""
    if not HAVE_CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (.ci/run installs it: apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = await browser.new_context(viewport={"width": 1280, "height": 860})
        tab = await context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        await tab.goto(demo_url)
        try:
            yield tab
        finally:
            await tab.screenshot(path=tmp_path / "finished.png")
            await browser.close()
        assert not errors, f"the page's script failed: {errors}"
