"""What /connect asks for a WhatsApp account, and the template the user named, checked.

The wizard asks, in order: the business phone number id, a system-user access token
(secret), the recipients (numbers in international format; the Cloud API has no broadcast
lists), the WhatsApp Business Account id (optional, to read the templates) and a template
to send every post with (optional). `WhatsAppProvider.verify` reads the rest from WhatsApp.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.base import ConnectField
from providers.errors import PermanentError
from providers.whatsapp_limits import (
    PHONE_NUMBER_ID_PATTERN,
    RECIPIENTS_PATTERN,
    WABA_ID_PATTERN,
)
from providers.whatsapp_templates import TemplateInfo, choose_template

#: A template's name as WhatsApp Manager shows it, optionally with ":language".
TEMPLATE_PATTERN = r"[a-z0-9_]{1,512}(?::[A-Za-z_]{2,10})?"

CONNECT_FIELDS: tuple[ConnectField, ...] = (
    ConnectField(
        key="phone_number_id",
        prompt=(
            "What is the <b>phone number ID</b> of your WhatsApp business number? In the "
            "Meta app dashboard: <b>WhatsApp → API Setup</b>, under the <i>From</i> number "
            "(it's a long number, not the phone number itself)."
        ),
        pattern=PHONE_NUMBER_ID_PATTERN,
        hint="Send just the digits of the phone number ID, like <code>106540352242922</code>.",
    ),
    ConnectField(
        key="access_token",
        prompt=(
            "Now an <b>access token</b>. In Meta Business settings: <b>Users → System "
            "users</b>, add a system user with access to the WhatsApp account and the app, "
            "then <b>Generate new token</b> with <code>whatsapp_business_messaging</code> "
            "and <code>whatsapp_business_management</code>, expiry <i>Never</i>. (The "
            "temporary token on the API Setup page works for 24 hours only.)"
        ),
        secret=True,
        pattern=r"\S{20,}",
        hint="That doesn't look like an access token; copy the whole token.",
    ),
    ConnectField(
        key="recipients",
        prompt=(
            "Who gets the posts? Send their <b>phone numbers in international format</b>, "
            "separated by commas or new lines, like <code>+14155550123, +447700900123</code>."
            "\n<i>The Cloud API has no broadcast lists, so Crier sends each post to every "
            "number here, one by one. WhatsApp delivers a normal message only to people "
            "who wrote to your number in the last 24 hours; for the others you need an "
            "approved template (two questions on).</i>"
        ),
        pattern=RECIPIENTS_PATTERN,
        hint=(
            "Write each number with + and the country code, separated by commas or new "
            "lines, like <code>+14155550123, +447700900123</code>."
        ),
    ),
    ConnectField(
        key="waba_id",
        prompt=(
            "Optional: the <b>WhatsApp Business Account ID</b>, so I can read your message "
            "templates (API Setup shows it under the phone number ID). Skip if you don't "
            "use templates."
        ),
        optional=True,
        pattern=WABA_ID_PATTERN,
        hint="Send just the digits of the WhatsApp Business Account ID.",
    ),
    ConnectField(
        key="template",
        prompt=(
            "Optional: send every post as an <b>approved message template</b>? Then it "
            "reaches everyone on the list, also outside the 24-hour window (WhatsApp "
            "charges for templates). Send its name, or <code>name:language</code> like "
            "<code>weekly_news:en_US</code>; its body must have one parameter, "
            "<code>{{1}}</code>, which gets the post's text. Skip to send normal messages."
        ),
        optional=True,
        pattern=TEMPLATE_PATTERN,
        hint="Send the template's name as WhatsApp Manager shows it, like weekly_news.",
    ),
)


def template_choice(
    answer: Any, templates: list[TemplateInfo], waba_id: str | None
) -> TemplateInfo | None:
    """The template the user asked for (a name at /connect, the stored choice when verified
    again), checked against what the account has now."""
    if isinstance(answer, Mapping):
        answer = f"{answer.get('name')}:{answer.get('language')}"
    if not answer or not str(answer).strip():
        return None
    if not waba_id:
        raise PermanentError(
            "To send with a template Crier needs the WhatsApp Business Account ID (to read the "
            "template); connect again and give it."
        )
    return choose_template(str(answer), templates)
