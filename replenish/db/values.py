"""Values kept inside rows and checked before they are stored: phone numbers, time windows."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, field_serializer, field_validator, model_validator

__all__ = ["DAY_NAMES", "TimeWindow", "normalize_phone", "parse_days", "validate_time_windows"]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    "daily": "mon-sun",
    "everyday": "mon-sun",
    "weekdays": "mon-fri",
    "weekends": "sat-sun",
    "weekend": "sat-sun",
}


def _example(region: str) -> str:
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        return "an international number such as +886 912 345 678"
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    intl = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"a local number such as {national} or an international one such as {intl}"


def normalize_phone(raw: str, *, region: str | None) -> str:
    """A phone number as typed -> E.164 (``"0912 345 678"``, TW -> ``"+886912345678"``).

    ``region`` is the shop's two-letter phone region, used for numbers typed without a
    country code; with ``region=None`` only international numbers (``+...``) are accepted.
    Raises ValueError saying what a valid number looks like.
    """
    text = raw.strip()
    where = f"for region {region}" if region else "(no region: start with + and the country code)"
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValueError(
            f"{raw!r} is not a valid phone number {where}; type {_example(region or 'TW')}"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_days(spec: str) -> frozenset[int]:
    """``"mon-fri"``, ``"sat,sun"``, ``"fri-mon"``, ``"daily"`` -> weekday numbers (Mon = 0)."""
    text = re.sub(r"\s+", "", spec.lower())
    text = _DAY_ALIASES.get(text, text)
    days: set[int] = set()
    for item in filter(None, text.split(",")):
        first, sep, last = item.partition("-")
        if first not in DAY_NAMES or (sep and last not in DAY_NAMES):
            days.clear()
            break
        a = DAY_NAMES.index(first)
        b = DAY_NAMES.index(last) if sep else a
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
    if not days:
        raise ValueError(
            f"days {spec!r} is not understood; use day names {', '.join(DAY_NAMES)}, "
            "ranges such as 'mon-fri', lists such as 'sat,sun', or 'daily'"
        )
    return frozenset(days)


class TimeWindow(BaseModel):
    """When a customer can receive a drop.

    Stored as ``{"days": "mon-fri", "start": "17:00", "end": "21:00"}``, and
    ``"prefer": "yes"`` for a wish rather than a must (routes may arrive outside it, at a
    cost; without it a route keeps the window or leaves the stop out).

    Times are wall-clock times in the shop's time zone; ``start`` is before ``end``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: str
    start: time
    end: time
    prefer: bool = False

    @field_validator("days")
    @classmethod
    def _days_are_understood(cls, value: str) -> str:
        parse_days(value)
        return re.sub(r"\s+", "", value.lower())

    @model_validator(mode="after")
    def _starts_before_it_ends(self) -> TimeWindow:
        if self.start >= self.end:
            raise ValueError(
                f"a time window starts at {self.start:%H:%M} but ends at {self.end:%H:%M}; "
                "start must be before end (split a window that crosses midnight in two)"
            )
        return self

    @field_serializer("start", "end")
    def _hh_mm(self, value: time) -> str:
        return value.strftime("%H:%M")

    @field_serializer("prefer")
    def _yes(self, value: bool) -> str:
        return "yes" if value else "no"

    @property
    def weekdays(self) -> frozenset[int]:
        return parse_days(self.days)


def validate_time_windows(value: Any) -> list[dict[str, str]]:
    """Check a list of time windows and return it as plain JSON-ready dicts."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValueError(
            'time windows must be a list such as [{"days": "mon-fri", "start": "17:00", '
            '"end": "21:00"}]'
        )
    windows = [w if isinstance(w, TimeWindow) else TimeWindow.model_validate(w) for w in value]
    return [w.model_dump(mode="json", exclude={"prefer"} if not w.prefer else None)
            for w in windows]
