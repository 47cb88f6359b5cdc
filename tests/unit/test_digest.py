"""The digest of many post outcomes: what it says, and that it stays within Telegram's limit."""

from __future__ import annotations

from bot.engine.text import digest

OUT = "✅ <b>Post #{n} is out</b>\n<i>hello</i>\n\n✅ Bench — <a href='https://x/{n}'>view post</a>"
FAILED = "❌ <b>Post #{n} was not published</b>\n\n❌ Bench — too spicy"
DETAILS = [[{"text": "📋 Details", "data": "p:status:{n}"}]]
RETRY = [[{"text": "🔁 Retry", "data": "p:retry:{n}"}], [{"text": "📋 Details", "data": "x"}]]


def summaries(kinds: str) -> tuple[list[str], list[list[object]]]:
    texts, buttons = [], []
    for n, kind in enumerate(kinds, start=1):
        template, keyboard = (OUT, DETAILS) if kind == "." else (FAILED, RETRY)
        texts.append(template.format(n=n))
        buttons.append(
            [[{k: v.format(n=n) for k, v in b.items()} for b in row] for row in keyboard]
        )
    return texts, buttons


def test_a_digest_counts_outcomes_and_keeps_every_summary_when_it_fits() -> None:
    texts, buttons = summaries("..x.")
    text, keyboard = digest.compose(texts, buttons)
    assert text.startswith("📬 <b>4 posts settled</b>: 3 published, 1 need a look")
    assert all(t in text for t in texts)
    assert keyboard == [[{"text": "🔁 Retry #3", "data": "p:retry:3"}]]


def test_a_long_digest_keeps_first_lines_within_telegrams_limit() -> None:
    texts, buttons = summaries("." * 500)
    text, keyboard = digest.compose(texts, buttons)
    assert len(text) <= digest.MAX_TEXT
    assert "✅ <b>Post #1 is out</b>" in text
    assert "view post" not in text
    assert "more" in text
    assert text.endswith("/history")
    assert keyboard == []


def test_buttons_are_kept_for_at_most_ten_posts_that_need_a_look() -> None:
    texts, buttons = summaries("x" * 30)
    _, keyboard = digest.compose(texts, buttons)
    assert len(keyboard) == digest.MAX_BUTTON_ROWS
