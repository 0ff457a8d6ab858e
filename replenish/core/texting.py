"""Text messages as a phone network sees them: segments, quiet hours, templates.

* **Segments.** A message that fits the GSM 03.38 alphabet travels as GSM-7: 160
  characters in one segment, 153 a segment when split. Anything else (Chinese, emoji)
  travels as UCS-2: 70 characters in one segment, 67 a segment when split; characters
  outside the Basic Multilingual Plane (most emoji) take two UCS-2 units.
* **Quiet hours.** Nothing is sent between ``quiet_start`` and ``quiet_end`` in the
  customer's local time (default 21:00-08:00); a message due then waits for the end.
* **Templates.** ``str.format``-style text with named fields; a missing field is an
  error naming it, never a message with a hole in it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["QuietHours", "Segments", "next_send_time", "render", "segments", "template_fields"]

# GSM 03.38 basic character set, and the extension table (each of those costs two septets)
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    """How a message travels: its encoding, length in that encoding's units, and segments."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    count: int


def segments(text: str) -> Segments:
    """How many SMS segments ``text`` takes."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, multi, encoding = 70, 67, "UCS-2"
    count = 1 if units <= single else -(-units // multi)
    return Segments(encoding=encoding, units=units, count=count)


@dataclass(frozen=True)
class QuietHours:
    """Local hours in which no message is sent; ``start`` may be after ``end`` (overnight)."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours must start and end at different times")

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def next_send_time(due: datetime, *, tz: ZoneInfo, quiet: QuietHours) -> datetime:
    """The first moment at or after ``due`` outside quiet hours in ``tz`` (same zone as due)."""
    local = due.astimezone(tz)
    if not quiet.contains(local.time()):
        return due
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)  # an overnight quiet period ends tomorrow morning
    wake = datetime.combine(day, quiet.end, tzinfo=tz)
    return wake.astimezone(due.tzinfo)


def template_fields(template: str) -> set[str]:
    """The named fields a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(template: str, values: Mapping[str, object]) -> str:
    """Fill a template; a field the template needs but ``values`` lacks is a ValueError."""
    missing = template_fields(template) - set(values)
    if missing:
        raise ValueError(f"template needs {', '.join(sorted(missing))}, which were not given")
    return template.format_map(dict(values))
