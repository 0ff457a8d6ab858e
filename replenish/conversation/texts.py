"""A template, filled for one customer: names, product words and days in their language."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from replenish.core.texting import QuietHours, next_send_time, render
from replenish.db.models import Customer, Product, Shop
from replenish.db.values import TimeWindow
from replenish.settings import Settings

__all__ = ["format_day", "message_text", "product_word", "quiet_hours", "send_after",
           "unit_word", "window_text"]

_WEEKDAYS = {
    "zh-TW": "一二三四五六日",
    "zh-CN": "一二三四五六日",
}
_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_UNITS = {
    "zh-TW": {"kg": "公斤", "L": "公升", "unit": "個"},
    "zh-CN": {"kg": "公斤", "L": "升", "unit": "个"},
    "en": {"kg": "kg", "L": "L", "unit": "units"},
}


def format_day(day: date, locale: str) -> str:
    """``週四(11/27)``, ``周四(11/27)`` or ``Thu 27 Nov``."""
    if locale in _WEEKDAYS:
        week = "週" if locale == "zh-TW" else "周"
        return f"{week}{_WEEKDAYS[locale][day.weekday()]}({day.month}/{day.day})"
    return f"{_EN_WEEKDAYS[day.weekday()]} {day.day} {day:%b}"


def unit_word(product: Product, locale: str) -> str:
    return _UNITS.get(locale, _UNITS["en"]).get(product.unit.value, product.unit.value)


def product_word(product: Product, locale: str) -> str:
    """The product as the customer calls it: for Chinese, the first Chinese alias when the
    shop's name for it is in Latin letters ("Rice" -> "米")."""
    if locale.startswith("zh") and product.name.isascii():
        for alias in product.aliases:
            if not alias.isascii():
                return alias
    return product.name


def window_text(customer: Customer, day: date, locale: str) -> str:
    """The customer's time window on ``day`` (`` between 17:00 and 21:00``, ``17:00–21:00``),
    or "" when they gave none for that day."""
    for raw in customer.time_windows:
        window = TimeWindow.model_validate(raw)
        if day.weekday() in window.weekdays:
            start, end = f"{window.start:%H:%M}", f"{window.end:%H:%M}"
            return f"{start}–{end}" if locale.startswith("zh") else f" between {start} and {end}"
    return ""


def _amount(quantity: float) -> str:
    return f"{quantity:g}"


def message_text(key: str, *, settings: Settings, shop: Shop, customer: Customer,
                 product: Product, quantity: float | None = None,
                 drop_day: date | None = None, runout_day: date | None = None,
                 **extra: Any) -> str:
    """The shop's ``key`` message for ``customer``, in the customer's language."""
    locale = customer.language.value
    values: dict[str, Any] = {
        "shop": shop.name, "name": customer.name, "product": product_word(product, locale),
        "unit": unit_word(product, locale),
        "quantity": "" if quantity is None else _amount(quantity),
        "drop_day": "" if drop_day is None else format_day(drop_day, locale),
        "runout_day": "" if runout_day is None else format_day(runout_day, locale),
        "window": "" if drop_day is None else window_text(customer, drop_day, locale),
        "ask_day": "", "phone": settings.conversation.help_phone or "",
        "when": "", "count": "",
    }
    for name, value in extra.items():
        values[name] = format_day(value, locale) if isinstance(value, date) else value
    return render(settings.conversation.template(locale, key), values)


def quiet_hours(settings: Settings) -> QuietHours:
    c = settings.conversation
    return QuietHours(start=c.quiet_start, end=c.quiet_end)


def send_after(now: datetime, *, shop: Shop, settings: Settings) -> datetime:
    """The first moment at or after ``now`` outside quiet hours in the shop's zone."""
    return next_send_time(now, tz=ZoneInfo(shop.timezone), quiet=quiet_hours(settings))

