"""WhatsApp (Cloud API): connecting, the exact requests a post becomes, every limit in
validate, and what each documented error code means.

Request and answer shapes follow Meta's WhatsApp Cloud API reference (Messages, Media,
Phone numbers, Message templates, Error codes); the fake is tests/fakes/whatsapp.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, Severity
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.whatsapp import WhatsAppProvider
from providers.whatsapp_api import PairRateLimited, RecipientRefused, error_for
from providers.whatsapp_connect import CONNECT_FIELDS
from providers.whatsapp_limits import MB, parse_recipients
from providers.whatsapp_templates import template_parameter, window_note
from tests.fakes.whatsapp_wire import graph_error, multipart
from tests.unit.providers.whatsapp_world import (
    ALICE,
    BOB,
    CAROL,
    TOKEN,
    World,
    document,
    photo,
    video,
    world,
)

BASE = "https://graph.facebook.com/v26.0"


@pytest.fixture
async def w() -> Any:
    async with world() as it:
        yield it


def body(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.content)


def connect_account(w: World, **config: Any) -> AccountRef:
    """What the /connect wizard hands to verify: typed answers, the token as a secret."""
    answers = {"phone_number_id": w.number.id, "recipients": f"{ALICE}, {BOB}\n{CAROL}"}
    return AccountRef(
        id=0,
        platform="whatsapp",
        label="",
        config=answers | config,
        credentials={"access_token": TOKEN},
    )


# -- connecting -----------------------------------------------------------------------------


def test_the_wizard_asks_for_the_number_a_secret_token_the_recipients_and_optional_templates() -> (
    None
):
    assert [(f.key, f.secret, f.optional) for f in CONNECT_FIELDS] == [
        ("phone_number_id", False, False),
        ("access_token", True, False),
        ("recipients", False, False),
        ("waba_id", False, True),
        ("template", False, True),
    ]
    recipients = next(f for f in CONNECT_FIELDS if f.key == "recipients")
    assert "no broadcast lists" in recipients.prompt


@pytest.mark.parametrize(
    ("typed", "ok"),
    [
        ("+14155550101", True),
        ("+1 (415) 555-0101, +44 7700 900202", True),
        ("+14155550101\n+447700900202;", True),
        ("14155550101", False),  # no +
        ("+1415", False),
        ("alice", False),
    ],
)
def test_the_recipients_pattern_takes_international_numbers(typed: str, ok: bool) -> None:
    import re

    pattern = next(f.pattern for f in CONNECT_FIELDS if f.key == "recipients")
    assert pattern is not None
    assert bool(re.fullmatch(pattern, typed)) is ok


def test_recipients_are_normalised_deduplicated_and_checked() -> None:
    assert parse_recipients("+1 (415) 555-0101, +44 7700 900202\n+14155550101") == [
        "+14155550101",
        "+447700900202",
    ]
    assert parse_recipients(["+14155550101"]) == ["+14155550101"]
    with pytest.raises(PermanentError, match="international format"):
        parse_recipients("+14155550101, 07700900202")
    with pytest.raises(PermanentError, match="at least one"):
        parse_recipients(" , ")
    with pytest.raises(PermanentError, match="at most 256"):
        parse_recipients([f"+1415555{n:04d}" for n in range(257)])


async def test_verify_reads_the_number_and_stores_the_recipients(w: World) -> None:
    verified = await w.provider().verify(connect_account(w))
    assert verified.label == "WhatsApp +1 555-010-0000 (Acme News)"
    assert verified.external_id == w.number.id
    assert verified.credentials is None  # the token the user typed is kept
    assert verified.config == {
        "phone_number_id": w.number.id,
        "display_phone_number": "+1 555-010-0000",
        "verified_name": "Acme News",
        "quality_rating": "GREEN",
        "messaging_limit_tier": "TIER_250",
        "throughput_level": "STANDARD",
        "recipients": [ALICE, BOB, CAROL],
        "waba_id": None,
        "templates": [],
        "template": None,
    }
    (request,) = w.fake.requests
    assert request.method == "GET"
    assert request.url.path == f"/v26.0/{w.number.id}"
    assert request.url.params["fields"] == (
        "display_phone_number,verified_name,quality_rating,"
        "whatsapp_business_manager_messaging_limit,throughput"
    )
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert verified.notice is not None
    assert "3 recipients" in verified.notice
    assert "last 24 hours" in verified.notice


async def test_verify_reads_the_templates_and_checks_the_chosen_one(w: World) -> None:
    waba = w.number.waba_id
    w.fake.add_template(waba, "weekly_news", "This week: {{1}}", language="en_US")
    w.fake.add_template(waba, "weekly_news", "Esta semana: {{1}}", language="es")
    w.fake.add_template(waba, "promo", "Hi {{1}}, {{2}}", status="APPROVED")
    w.fake.add_template(waba, "draft", "{{1}}", status="PENDING")
    for n in range(120):  # a second page
        w.fake.add_template(waba, f"old_{n}", "{{1}}", status="REJECTED")
    account = connect_account(w, waba_id=waba, template="weekly_news:es")
    verified = await w.provider().verify(account)
    assert verified.config["waba_id"] == waba
    assert len(verified.config["templates"]) == 124
    assert verified.config["template"] == {
        "name": "weekly_news",
        "language": "es",
        "status": "APPROVED",
        "category": "MARKETING",
        "header": None,
        "params": ["1"],
        "named": False,
        "fixed_length": len("Esta semana: "),
        "needs_more": False,
    }
    pages = [r for r in w.fake.requests if r.url.path.endswith("/message_templates")]
    assert [r.url.params.get("after") for r in pages] == [None, "100"]
    assert pages[0].url.params["limit"] == "100"
    assert "weekly_news (es)" in (verified.notice or "")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("weekly_news", "several languages"),
        ("promo", "has 2 in its body"),
        ("draft", "pending"),
        ("nope", "no message template"),
    ],
)
async def test_a_template_crier_cant_use_is_refused_at_connect(
    w: World, template: str, message: str
) -> None:
    waba = w.number.waba_id
    w.fake.add_template(waba, "weekly_news", "This week: {{1}}", language="en_US")
    w.fake.add_template(waba, "weekly_news", "Esta semana: {{1}}", language="es")
    w.fake.add_template(waba, "promo", "Hi {{1}}, {{2}}")
    w.fake.add_template(waba, "draft", "{{1}}", status="PENDING")
    with pytest.raises(PermanentError, match=message):
        await w.provider().verify(connect_account(w, waba_id=waba, template=template))


async def test_a_template_needs_the_business_account_id(w: World) -> None:
    with pytest.raises(PermanentError, match="Business Account ID"):
        await w.provider().verify(connect_account(w, template="weekly_news"))


async def test_verify_refuses_a_bad_token_and_an_unknown_number(w: World) -> None:
    wrong = AccountRef(
        id=0,
        platform="whatsapp",
        label="",
        config={"phone_number_id": w.number.id, "recipients": ALICE},
        credentials={"access_token": "EAAG-not-a-token-anyone-knows"},
    )
    with pytest.raises(AuthError, match="access token") as refused:
        await w.provider().verify(wrong)
    assert "EAAG-not-a-token" not in str(refused.value)
    with pytest.raises(PermanentError, match="no phone number 999999999"):
        await w.provider().verify(connect_account(w, phone_number_id="999999999"))
    with pytest.raises(PermanentError, match="no Business Account 12345678"):
        await w.provider().verify(connect_account(w, waba_id="12345678"))


async def test_a_stored_account_verifies_again(w: World) -> None:
    w.fake.add_template(w.number.waba_id, "weekly_news", "This week: {{1}}")
    first = await w.provider().verify(
        connect_account(w, waba_id=w.number.waba_id, template="weekly_news")
    )
    credentials = {"access_token": TOKEN}
    again = AccountRef(
        id=5, platform="whatsapp", label="", config=first.config, credentials=credentials
    )
    assert (await w.provider().verify(again)).config == first.config


# -- publishing: the exact requests ---------------------------------------------------------


async def test_a_text_post_is_one_text_message(w: World) -> None:
    w.open_windows(ALICE)
    result = await w.provider().publish(PostContent(text="Hello there"), w.account(), "key-1")
    (request,) = w.messages()
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/{w.number.id}/messages"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert body(request) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": ALICE,
        "type": "text",
        "text": {"preview_url": False, "body": "Hello there"},
        "biz_opaque_callback_data": "key-1",
    }
    (sent,) = w.fake.sent_to(ALICE)
    assert result.platform_id == sent.id  # type: ignore[union-attr]
    assert result.url == "https://wa.me/15550100000"  # type: ignore[union-attr]
    assert result.ref == {  # type: ignore[union-attr]
        "phone_number_id": w.number.id,
        "messages": {ALICE: sent.id},
        "message_ids": {ALICE: [sent.id]},
        "failed": {},
        "parts": 1,
    }
    assert result.notes == ()  # type: ignore[union-attr]


async def test_a_link_asks_for_a_preview(w: World) -> None:
    w.open_windows(ALICE)
    await w.provider().publish(PostContent(text="Read https://crier.example/a"), w.account(), "k")
    assert body(w.messages()[0])["text"]["preview_url"] is True


async def test_an_image_is_uploaded_once_and_sent_by_id_with_the_caption(
    w: World, tmp_path: Path
) -> None:
    w.open_windows(ALICE, BOB)
    item = photo(tmp_path)
    post = PostContent(text="Sunrise", media=(item,))
    result = await w.provider().publish(post, w.account([ALICE, BOB]), "k")
    (upload,) = w.uploads()
    assert str(upload.url) == f"{BASE}/{w.number.id}/media"
    fields = multipart(upload)
    assert fields["messaging_product"][2] == b"whatsapp"
    assert fields["type"][2] == b"image/jpeg"
    assert fields["file"] == ("photo.jpg", "image/jpeg", item.path.read_bytes())  # type: ignore[union-attr]
    (media_id,) = w.fake.media
    sent = [body(r) for r in w.messages()]
    assert [m["to"] for m in sent] == [ALICE, BOB]
    assert all(
        m["type"] == "image" and m["image"] == {"id": media_id, "caption": "Sunrise"} for m in sent
    )
    assert result.ref["parts"] == 1  # type: ignore[union-attr]


async def test_several_media_are_several_messages_the_caption_on_the_first(
    w: World, tmp_path: Path
) -> None:
    w.open_windows(ALICE)
    post = PostContent(
        text="Our report", media=(photo(tmp_path, "a"), video(tmp_path), document(tmp_path))
    )
    result = await w.provider().publish(post, w.account(), "k")
    image_id, video_id, document_id = w.fake.media
    assert [body(r)[body(r)["type"]] for r in w.messages()] == [
        {"id": image_id, "caption": "Our report"},
        {"id": video_id},
        {"id": document_id, "filename": "report.pdf"},
    ]
    assert [w.fake.media[i].mime for i in w.fake.media] == [
        "image/jpeg",
        "video/mp4",
        "application/pdf",
    ]
    ids = [m.id for m in w.fake.sent_to(ALICE)]
    assert result.ref["message_ids"] == {ALICE: ids}  # type: ignore[union-attr]
    assert result.ref["messages"] == {ALICE: ids[0]}  # type: ignore[union-attr]
    assert result.ref["parts"] == 3  # type: ignore[union-attr]


async def test_a_template_account_sends_the_text_as_the_parameter(w: World) -> None:
    w.fake.add_template(w.number.waba_id, "weekly_news", "This week: {{1}}")
    account = w.account(
        [ALICE, BOB],
        template={
            "name": "weekly_news",
            "language": "en_US",
            "status": "APPROVED",
            "params": ["1"],
            "fixed_length": 11,
        },
    )
    post = PostContent(text="Three things\n\nworth   knowing")
    result = await w.provider().publish(post, account, "k")
    parameter = {"type": "text", "text": "Three things worth   knowing"}
    assert body(w.messages()[0])["template"] == {
        "name": "weekly_news",
        "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [parameter]}],
    }
    # Templates reach people outside the 24-hour window.
    assert len(w.fake.sent_to(BOB)) == 1
    assert result.ref["failed"] == {}  # type: ignore[union-attr]


async def test_a_template_with_an_image_header_and_a_named_parameter(
    w: World, tmp_path: Path
) -> None:
    w.fake.add_template(w.number.waba_id, "flyer", "Hello! {{news}}", header="IMAGE", named=True)
    account = w.account(
        template={
            "name": "flyer",
            "language": "en_US",
            "status": "APPROVED",
            "header": "IMAGE",
            "params": ["news"],
            "named": True,
            "fixed_length": 7,
        },
    )
    await w.provider().publish(PostContent(text="Fair", media=(photo(tmp_path),)), account, "k")
    (media_id,) = w.fake.media
    parameter = {"type": "text", "text": "Fair", "parameter_name": "news"}
    assert body(w.messages()[0])["template"]["components"] == [
        {"type": "header", "parameters": [{"type": "image", "image": {"id": media_id}}]},
        {"type": "body", "parameters": [parameter]},
    ]


def test_a_template_parameter_loses_line_breaks_and_long_spaces() -> None:
    assert template_parameter(" a\nb\t\tc      d ") == "a b c    d"


# -- validate: every limit ------------------------------------------------------------------


def _sized(kind: MediaKind, mime: str, size: int) -> MediaFile:
    return MediaFile(kind=kind, mime=mime, size=size)


async def _codes(w: World, post: PostContent, account: AccountRef | None = None) -> list[str]:
    return [p.code for p in w.provider().validate(post, account or w.account())]


@pytest.mark.parametrize(
    ("post", "codes"),
    [
        (PostContent(text="a" * 4096), []),
        (PostContent(text="a" * 4097), ["text_too_long"]),
        (PostContent(text="a" * 1024, media=(_sized(MediaKind.PHOTO, "image/png", 10),)), []),
        (
            PostContent(text="a" * 1025, media=(_sized(MediaKind.PHOTO, "image/png", 10),)),
            ["text_too_long"],
        ),
        (PostContent(text="x", media=(_sized(MediaKind.PHOTO, "image/jpeg", 5 * MB),)), []),
        (
            PostContent(text="x", media=(_sized(MediaKind.PHOTO, "image/jpeg", 5 * MB + 1),)),
            ["media_too_large"],
        ),
        (
            PostContent(text="x", media=(_sized(MediaKind.PHOTO, "image/webp", 10),)),
            ["media_type"],
        ),
        (
            PostContent(text="x", media=(_sized(MediaKind.VIDEO, "video/mp4", 16 * MB + 1),)),
            ["media_too_large"],
        ),
        (PostContent(text="x", media=(_sized(MediaKind.VIDEO, "video/3gpp", 16 * MB),)), []),
        (
            PostContent(text="x", media=(_sized(MediaKind.VIDEO, "video/quicktime", 10),)),
            ["media_type"],
        ),
        (
            PostContent(text="x", media=(_sized(MediaKind.DOCUMENT, "application/pdf", 100 * MB),)),
            [],
        ),
        (
            PostContent(
                text="x", media=(_sized(MediaKind.DOCUMENT, "application/pdf", 100 * MB + 1),)
            ),
            ["media_too_large"],
        ),
        (
            PostContent(text="x", media=(_sized(MediaKind.DOCUMENT, "application/zip", 10),)),
            ["media_type"],
        ),
        (
            PostContent(
                text="x", media=tuple(_sized(MediaKind.PHOTO, "image/png", 1) for _ in range(11))
            ),
            ["too_many_media", "too_many_images"],
        ),
        (PostContent(text="x", thread=("y",)), ["no_threads"]),
    ],
)
async def test_validate_enforces_every_limit(w: World, post: PostContent, codes: list[str]) -> None:
    assert await _codes(w, post) == codes


async def test_validate_wants_recipients(w: World) -> None:
    assert await _codes(w, PostContent(text="x"), w.account([])) == ["no_recipients"]


async def test_validate_follows_the_chosen_template(w: World) -> None:
    plain = {
        "name": "news",
        "language": "en",
        "status": "APPROVED",
        "params": ["1"],
        "fixed_length": 24,
    }
    account = w.account(template=plain)
    assert await _codes(w, PostContent(text="a" * 1000), account) == []
    assert await _codes(w, PostContent(text="a" * 1001), account) == ["text_too_long"]
    problems = w.provider().validate(PostContent(text="two\nlines"), account)
    assert [(p.code, p.severity) for p in problems] == [("line_breaks", Severity.WARNING)]
    assert await _codes(
        w, PostContent(text="", media=(_sized(MediaKind.PHOTO, "image/png", 1),)), account
    ) == ["no_media", "template_needs_text"]
    with_image = w.account(template=plain | {"header": "IMAGE"})
    assert await _codes(w, PostContent(text="x"), with_image) == ["template_needs_media"]
    image = _sized(MediaKind.PHOTO, "image/png", 1)
    assert await _codes(w, PostContent(text="x", media=(image,)), with_image) == []
    assert await _codes(w, PostContent(text="x", media=(image, image)), with_image) == [
        "too_many_media",
        "too_many_images",
    ]
    crowd = [f"+1415555{n:04d}" for n in range(251)]
    problems = w.provider().validate(PostContent(text="x"), w.account(crowd, template=plain))
    assert [(p.code, p.severity) for p in problems] == [("messaging_limit", Severity.WARNING)]


async def test_limits_are_declared_as_data(w: World) -> None:
    limits = w.provider().limits
    assert (limits.max_text, limits.max_caption, limits.max_media) == (4096, 1024, 10)
    assert limits.video_codecs == frozenset({"h264"})
    assert not limits.threads
    assert not limits.alt_text
    assert not limits.pulls_media  # uploads: no public URL needed
    assert not limits.idempotent_publish


# -- the 24-hour window, for the preview ----------------------------------------------------


def test_window_note_explains_the_rule_and_lists_approved_templates() -> None:
    account = AccountRef(
        id=1,
        platform="whatsapp",
        label="",
        config={
            "display_phone_number": "+1 555-010-0000",
            "waba_id": "123456789",
            "templates": [
                {"name": "weekly_news", "language": "en_US", "status": "APPROVED"},
                {"name": "draft", "language": "en_US", "status": "PENDING"},
            ],
        },
    )
    note = window_note(account)
    assert "wrote to +1 555-010-0000 in the last 24 hours" in note
    assert "Approved templates: weekly_news (en_US)." in note
    assert "draft" not in note
    chosen = {**account.config, "template": {"name": "weekly_news", "language": "en_US"}}
    assert "goes out as the approved template “weekly_news”" in window_note(
        AccountRef(id=1, platform="whatsapp", label="", config=chosen)
    )
    bare = AccountRef(id=1, platform="whatsapp", label="", config={})
    assert "Business Account ID" in window_note(bare)


# -- errors: every documented code ----------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "error", "said"),
    [
        (graph_error(190), AuthError, "access token"),
        (graph_error(0), AuthError, "access token"),
        (graph_error(10, status=403), AuthError, "access token"),
        (graph_error(200, status=403), AuthError, "access token"),
        (graph_error(130429), RateLimited, "throughput"),
        (graph_error(131048), RateLimited, "Spam rate limit"),
        (graph_error(4), RateLimited, "rate limit"),
        (graph_error(131056), PairRateLimited, "too many messages to this person"),
        (graph_error(131047), RecipientRefused, "24 hours"),
        (graph_error(131026), RecipientRefused, "couldn't deliver"),
        (graph_error(131030), RecipientRefused, "allowed recipients"),
        (graph_error(368), PermanentError, "restricted the business account"),
        (graph_error(131031), PermanentError, "is locked"),
        (graph_error(100, "Param text['body'] is invalid"), PermanentError, "body"),
        (graph_error(131009, "Parameter value is not valid"), PermanentError, "not valid"),
        (
            graph_error(100, "Invalid parameter 'to': not a WhatsApp phone number"),
            RecipientRefused,
            "refused the number",
        ),
        (graph_error(131000), TransientError, "unknown error"),
        (graph_error(2, status=503), TransientError, "problem"),
        (httpx.Response(401, text="<html>no</html>"), AuthError, "refused"),
        (httpx.Response(502, text="<html>bad gateway</html>"), TransientError, "502"),
        (httpx.Response(429, headers={"Retry-After": "9"}), RateLimited, "rate limit"),
    ],
)
def test_each_documented_error_maps_to_its_class(
    answer: httpx.Response, error: type[Exception], said: str
) -> None:
    found = error_for(answer, [TOKEN])
    assert type(found) is error
    assert said in str(found)


def test_rate_limits_wait_as_documented_or_as_told() -> None:
    pair = error_for(graph_error(131056))
    assert isinstance(pair, RateLimited)
    assert pair.retry_after == 6.0
    told = error_for(graph_error(130429, headers={"Retry-After": "17"}))
    assert isinstance(told, RateLimited)
    assert told.retry_after == 17.0


def test_a_token_in_an_error_is_never_shown() -> None:
    echoed = graph_error(100, f"Bad token {TOKEN} given")
    assert TOKEN not in str(error_for(echoed, [TOKEN]))


async def test_upload_refusal_fails_the_post(w: World, tmp_path: Path) -> None:
    w.open_windows(ALICE)
    big = video(tmp_path, data=b"\x00" * (16 * MB + 1))
    with pytest.raises(PermanentError, match="too big"):
        await w.provider().publish(PostContent(text="x", media=(big,)), w.account(), "k")
    assert w.messages() == []


async def test_nothing_to_delete_edit_or_look_up(w: World) -> None:
    declared = w.provider().after_publish
    assert not declared.can_delete
    assert not declared.can_edit
    assert not declared.can_lookup
    assert await w.provider().lookup(PostContent(text="x"), w.account(), "k") is None


def test_the_provider_is_named() -> None:
    assert (WhatsAppProvider.platform, WhatsAppProvider.display_name) == ("whatsapp", "WhatsApp")


async def test_there_is_no_sign_in_and_no_refresh(w: World) -> None:
    from providers.oauth import Token

    provider = w.provider()
    assert provider.oauth is None
    with pytest.raises(PermanentError, match="doesn't connect by signing in"):
        await provider.accounts_for(Token(access_token="x"))
    with pytest.raises(AuthError, match="reconnect"):
        await provider.refresh(w.account())
