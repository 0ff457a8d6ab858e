"""What every settings section shares: a frozen model, number types, and the validators
the database models use too (a shop's own values are checked the same way)."""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Fraction", "Positive", "validate_currency", "validate_region", "validate_timezone"]

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]

def validate_timezone(value: str) -> str:
    """An IANA time zone name such as ``Asia/Taipei``."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "not a known time zone; use an IANA name such as "
            "'Asia/Taipei', 'Asia/Shanghai' or 'America/New_York'"
        ) from None
    return value


def validate_region(value: str) -> str:
    """A two-letter phone region that the phonenumbers library knows (TW, US, ...)."""
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            "not a phone region; use a two-letter country code such as "
            "'TW', 'CN', 'HK', 'US' or 'JP'"
        )
    return region


def validate_currency(value: str) -> str:
    """A three-letter ISO 4217 currency code."""
    currency = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError("not a currency code; use three letters such as 'TWD', 'CNY' or 'USD'")
    return currency


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
