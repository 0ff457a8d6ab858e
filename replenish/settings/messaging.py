"""The text-message sections: how texts leave the shop (``[sms]``, ``[sms.twilio]``) and
how the shop talks with customers (``[conversation]``, with its templates)."""

from __future__ import annotations

import re
from datetime import time
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from replenish.core.types import Locale
from replenish.settings.base import Positive, _Frozen

__all__ = ["ConversationSettings", "SmsSettings", "TwilioParams"]


def _http_url(value: str, *, empty_ok: bool) -> str:
    text = value.strip().rstrip("/")
    if not text and empty_ok:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("not a web address; write it like 'https://shop.example.com'")
    return text


class TwilioParams(_Frozen):
    """A Twilio account that sends the shop's texts (see docs/sms.md)."""

    account_sid: str = ""
    auth_token: SecretStr = SecretStr("")
    from_number: str = ""
    messaging_service_sid: str = ""
    api_base_url: str = "https://api.twilio.com"
    timeout_seconds: Positive = 15.0

    @field_validator("account_sid")
    @classmethod
    def _account_sid(cls, value: str) -> str:
        if value and not re.fullmatch(r"AC[0-9a-fA-F]{32}", value):
            raise ValueError(
                "an Account SID is 'AC' and 32 hex digits (Twilio Console, Account Info)"
            )
        return value

    @field_validator("messaging_service_sid")
    @classmethod
    def _service_sid(cls, value: str) -> str:
        if value and not re.fullmatch(r"MG[0-9a-fA-F]{32}", value):
            raise ValueError("a Messaging Service SID is 'MG' and 32 hex digits")
        return value

    @field_validator("from_number")
    @classmethod
    def _from_number(cls, value: str) -> str:
        if not value:
            return value
        number = value.replace(" ", "").replace("-", "")
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", number):
            raise ValueError(
                "the From number is your Twilio number with its country code: +15551234567"
            )
        return number

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _http_url(value, empty_ok=False)

    @property
    def configured(self) -> bool:
        """Credentials are set (a sender is checked when the Twilio transport is chosen)."""
        return bool(self.account_sid and self.auth_token.get_secret_value())


class SmsSettings(_Frozen):
    """How text messages leave the shop: the transport and the outbox dispatcher.

    Rules across keys are field validators (the later field checks the earlier ones), so
    that an error names one key and never echoes the section, auth token included.
    """

    twilio: TwilioParams = TwilioParams()  # first: the fields below are checked against it
    # validate_default: the rules below also hold when only the other key was changed
    transport: Literal["auto", "console", "twilio"] = Field(default="auto", validate_default=True)
    public_url: str = ""
    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_base_seconds: Positive = 30.0
    retry_max_seconds: Positive = Field(default=3600.0, validate_default=True)
    retry_jitter: float = Field(default=0.5, ge=0, le=1)
    stuck_after_seconds: Positive = Field(default=600.0, validate_default=True)
    batch_size: int = Field(default=100, ge=1, le=10000)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return _http_url(value, empty_ok=True)

    @field_validator("transport")
    @classmethod
    def _twilio_complete(cls, value: str, info: ValidationInfo) -> str:
        t = info.data.get("twilio")
        if t is None:
            return value  # twilio itself is invalid, and reported
        if value == "twilio" and not t.configured:
            raise ValueError(
                "transport is 'twilio' but twilio.account_sid or twilio.auth_token is empty; "
                "set them (REPLENISH_SMS__TWILIO__ACCOUNT_SID, "
                "REPLENISH_SMS__TWILIO__AUTH_TOKEN) or use transport = 'console'"
            )
        if value != "console" and t.configured and not (t.from_number or t.messaging_service_sid):
            raise ValueError(
                "Twilio needs a sender: set twilio.from_number (+15551234567) or "
                "twilio.messaging_service_sid (MG...)"
            )
        return value

    @field_validator("retry_max_seconds")
    @classmethod
    def _longest_wait(cls, value: float, info: ValidationInfo) -> float:
        base = info.data.get("retry_base_seconds")
        if base is not None and value < base:
            raise ValueError(
                f"retry_max_seconds ({value:g}) is shorter than retry_base_seconds "
                f"({base:g}); the longest wait must be at least the first"
            )
        return value

    @field_validator("stuck_after_seconds")
    @classmethod
    def _longer_than_a_send(cls, value: float, info: ValidationInfo) -> float:
        t = info.data.get("twilio")
        if t is not None and value <= 2 * t.timeout_seconds:
            raise ValueError(
                f"stuck_after_seconds ({value:g}) must be more than twice "
                f"twilio.timeout_seconds ({t.timeout_seconds:g}): a send still in flight must "
                "never look stuck"
            )
        return value

    @property
    def use_twilio(self) -> bool:
        """Send through Twilio: chosen, or ``auto`` with credentials set."""
        return self.transport == "twilio" or (self.transport == "auto" and self.twilio.configured)


class ConversationSettings(_Frozen):
    """How the shop talks with customers by text message (see docs/sms.md)."""

    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    max_prompts_per_week: int = Field(default=2, ge=1, le=14)
    reminder_after_hours: float = Field(default=6.0, gt=0, le=168)
    call_list_days: int = Field(default=2, ge=0, le=14)
    followup_every_days: int = Field(default=180, ge=0, le=3650)
    confirm_plain_yes: bool = False  # text back after a yes to exactly what was offered
    snooze_days: int = Field(default=3, ge=1, le=60)
    loyalty_every: int = Field(default=10, ge=0)  # 0: no free drop
    help_phone: str = ""
    templates: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _quiet_hours_differ(self) -> ConversationSettings:
        if self.quiet_start == self.quiet_end:
            raise ValueError("quiet_start and quiet_end must differ")
        return self

    @field_validator("templates")
    @classmethod
    def _known_templates(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        import string

        from replenish.templates import FIELDS

        locales = {locale.value for locale in Locale}
        for locale, texts in value.items():
            if locale not in locales:
                raise ValueError(f"templates.{locale}: not a language; use one of "
                                 f"{', '.join(sorted(locales))}")
            for key, text in texts.items():
                if key not in FIELDS:
                    raise ValueError(f"templates.{locale}.{key}: not a message; the messages "
                                     f"are {', '.join(FIELDS)}")
                used = {name for _, name, _, _ in string.Formatter().parse(text) if name}
                unknown = used - FIELDS[key]
                if unknown:
                    raise ValueError(
                        f"templates.{locale}.{key} uses {{{', '.join(sorted(unknown))}}}; "
                        f"it may use {', '.join('{' + f + '}' for f in sorted(FIELDS[key]))}")
        return value

    def template(self, locale: str, key: str) -> str:
        """The shop's text for ``key`` in ``locale``, else the default."""
        from replenish.templates import DEFAULT_TEMPLATES

        return self.templates.get(locale, {}).get(key) or DEFAULT_TEMPLATES[locale][key]
