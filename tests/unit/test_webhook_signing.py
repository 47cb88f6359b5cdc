"""Standard Webhooks signatures and the URLs Crier accepts for a user's webhook."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from bot.accounts.webhooks import WebhookProblem, check_url, new_secret
from bot.engine.webhooks.sender import signed_headers


def test_the_specifications_example_signs_as_published() -> None:
    # The example from the Standard Webhooks specification's reference libraries.
    headers = signed_headers(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        datetime.fromtimestamp(1614265330, UTC),
        b'{"test": 2432232314}',
    )
    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def test_a_new_secret_signs_as_a_hand_computed_hmac() -> None:
    secret = new_secret()
    key = base64.b64decode(secret.removeprefix("whsec_"))
    assert len(key) == 32
    when = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    body = '{"type":"post.published","data":{"post_id":1,"account":"Café"}}'.encode()
    headers = signed_headers(secret, "msg_1", when, body)
    mac = hmac.new(key, f"msg_1.{int(when.timestamp())}.".encode() + body, hashlib.sha256)
    assert headers["webhook-signature"] == "v1," + base64.b64encode(mac.digest()).decode()
    assert new_secret() != secret


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://example.com/hooks", "https://example.com/hooks"),
        ("  https://example.com/h?x=1  ", "https://example.com/h?x=1"),
        ("http://localhost:8080/h", "http://localhost:8080/h"),
        ("http://127.0.0.1:9/h", "http://127.0.0.1:9/h"),
    ],
)
def test_urls_crier_calls(raw: str, expected: str) -> None:
    assert check_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "example.com/hooks",
        "ftp://example.com/h",
        "http://example.com/h",
        "https://",
        "https://user:pw@example.com/h",
        "https://example.com/" + "a" * 2100,
        "javascript:alert(1)",
    ],
)
def test_urls_crier_refuses(raw: str) -> None:
    with pytest.raises(WebhookProblem):
        check_url(raw)
