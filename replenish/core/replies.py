"""A customer's SMS reply, in their own words, read as an intent with values.

``parse_reply(text, *, products=(), today=None) -> Reply`` is pure (no I/O, no clock)
and never raises. It reads English, Traditional and Simplified Chinese and mixes of
them, ignoring case, punctuation, emoji, full-width forms (NFKC) and polite filler
("please", "thanks", "謝謝", "麻煩", "喔", "啦", "了", "吧"...). 👍 👌 ✅ count as "ok" and
👎 ❌ as "no". ``Reply.text`` is the normalised text the rules read.

The intent says what to do with the proposal; values come with any intent:

    quantity, unit   an amount to bring. ``unit``: kg, L, unit (a jug, a cylinder),
                     bag (a count of bags, 包/袋: multiply by the product's bag size),
                     jin (斤: 0.6 kg in Taiwan and Hong Kong, 0.5 kg in mainland China),
                     or None for a bare number, which is in the product's own unit.
    level_fraction   how full the tank is, 0..1 ("half left", "快沒了" 0.1, "沒了" 0).
    level_quantity, level_unit   what is left as an amount ("還剩兩公斤", "2 bags left").
    snooze_days      how long to wait, None when not said ("later", "改天", a bare 2).
    day              the date named or waited for; needs ``today``. A bare weekday is
                     the next one after today; 下週四 and "next week thursday" are in
                     the next calendar week ("next thursday" is the coming one); 28號,
                     11/28 and "the 28th" are the next such date.
    product          the key of the one product named by its key or an alias. A
                     one-character Chinese alias (米) counts only beside words such as
                     要/送/包/沒, so 糙米 and 米酒 are not rice unless they are aliases.

The rules, first match wins:

1. An opt-out anywhere: STOP, unsubscribe, "don't text me", 退訂, 不要再傳...; or the
   whole reply is "cancel", "end" or 取消 (取消這次 is a decline). Legally binding.
2. The whole reply is 1, 2 or 3 (also 一/二/兩/三, one/two/three, "選2"): the prompt's
   menu: confirm, snooze, decline. Any other number, and a 1-3 with more words
   ("1 bag", "yes 2"), is an amount. START/unstop/開始 -> start; HELP/?/幫助 -> help.
3. ``unknown`` (a person reads it) when much of the reply is not understood (a story,
   a question), when it complains (bugs, mould, a refund, 蟲, 發霉, 退錢...), or it
   names two different days, waits, amounts, levels or products, or an amount in lb,
   gallons or grams.
4. A yes (and no no) with a day -> confirm on that day ("好喔 禮拜四來就可以了").
5. A wait ("later", "next week", "in 3 days", "改天", "先不用 下禮拜再說") or a day
   alone -> snooze, even beside a no ("no, next week") or a yes ("ok, next week").
   A no with a plain weekday ("不要禮拜四") is unknown.
6. A no (no, still have plenty, 不用, 還有, 3) -> decline, with a level if one was said;
   "plenty"/還很多/還夠 with a no counts as about half a tank (a loose hint).
   It beats a polite yes ("好的 不用了", "ok no thanks"); with an amount ("no, 5 kg")
   it is unknown.
7. A yes (yes, ok, 好, 要, 可以, 是...) -> confirm, carrying any amount, level and
   product said with it ("好喔 這次要15公斤", "yes 2 bags", "要白米").
8. An amount -> quantity; a level -> level; a product -> product; a help word ->
   help; nothing else -> unknown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from replenish.core import reply_words as w
from replenish.core.numbers import parse_number

__all__ = ["Intent", "ProductNames", "Reply", "ReplyUnit", "normalise", "parse_reply"]


class Intent(StrEnum):
    CONFIRM = "confirm"
    DECLINE = "decline"
    SNOOZE = "snooze"
    QUANTITY = "quantity"
    LEVEL = "level"
    PRODUCT = "product"
    STOP = "stop"
    START = "start"
    HELP = "help"
    UNKNOWN = "unknown"


class ReplyUnit(StrEnum):
    """The unit of an amount in a reply (``Unit`` plus bags and 斤)."""

    KG = "kg"
    L = "L"
    UNIT = "unit"
    BAG = "bag"
    JIN = "jin"


@dataclass(frozen=True)
class ProductNames:
    """A product's key and the words customers use for it."""

    key: str
    aliases: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not self.key.strip():
            raise ValueError("a product needs a key")
        object.__setattr__(self, "aliases", tuple(self.aliases))


@dataclass(frozen=True)
class Reply:
    intent: Intent
    text: str = ""
    quantity: float | None = None
    unit: ReplyUnit | None = None
    level_fraction: float | None = None
    level_quantity: float | None = None
    level_unit: ReplyUnit | None = None
    snooze_days: int | None = None
    day: date | None = None
    product: str | None = None

    def __post_init__(self) -> None:
        for name in ("quantity", "level_quantity"):
            value = getattr(self, name)
            if value is not None and not 0 < value < 1e6:
                raise ValueError(f"{name} must be a positive amount, got {value!r}")
        if self.unit is not None and self.quantity is None:
            raise ValueError("a unit needs a quantity")
        if self.level_unit is not None and self.level_quantity is None:
            raise ValueError("a level unit needs a level quantity")
        if self.level_fraction is not None and not 0 <= self.level_fraction <= 1:
            raise ValueError(f"level_fraction must be within 0..1, got {self.level_fraction!r}")
        if self.snooze_days is not None and self.snooze_days < 0:
            raise ValueError(f"snooze_days must not be negative, got {self.snooze_days!r}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values: the intent and units as plain text, the day as ISO."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: v.value if isinstance(v, StrEnum) else v.isoformat()
                if isinstance(v, date) else v for name, v in values.items()}

    def summary(self) -> str:
        """One line for an owner: ``confirm · 15 kg``, ``snooze · 7 days · Thu 2025-12-04``."""
        parts = [self.intent.value]
        if self.quantity is not None:
            parts.append(_amount_text(self.quantity, self.unit))
        if self.level_fraction is not None:
            parts.append(f"{self.level_fraction:.0%} left")
        if self.level_quantity is not None:
            parts.append(_amount_text(self.level_quantity, self.level_unit) + " left")
        if self.snooze_days is not None:
            parts.append(f"{self.snooze_days} day" + ("" if self.snooze_days == 1 else "s"))
        if self.day is not None:
            parts.append(f"{self.day:%a %Y-%m-%d}")
        if self.product is not None:
            parts.append(self.product)
        return " · ".join(parts)


def _amount_text(value: float, unit: ReplyUnit | None) -> str:
    number = f"{value:.2f}".rstrip("0").rstrip(".")
    plural = "s" if unit in (ReplyUnit.BAG, ReplyUnit.UNIT) and value != 1 else ""
    return number if unit is None else f"{number} {unit.value}{plural}"


def normalise(text: str) -> str:
    """NFKC, lower case, emoji and punctuation as spaces; keeps 2.5, 11/28, 10:30, 30%."""
    text = unicodedata.normalize("NFKC", text.translate(w.EMOJI)).casefold().replace("⁄", "/")
    text = re.sub(r"['’‘`´]", "", text)
    text = "".join(ch if ch.isalnum() or ch in ".%/:" else " " for ch in text)
    text = re.sub(r"(?<!\d)[.:/]|[.:/](?!\d)", " ", text)
    text = re.sub(r"(?<!\d)%", " ", re.sub(r"(\d)\s+%", r"\1%", text))
    text = re.sub(r"([a-z])\1{2,}", r"\1", text)  # yesss, nooo, okkk
    return " ".join(text.split())


def _fold(text: str, *, polite: bool = True) -> str:
    """Simplified characters as traditional, no spaces between Chinese characters, and
    without ``polite`` Chinese words when False."""
    text = text.translate(w.SIMPLIFIED)
    return re.sub(rf"(?<=[{w.CJK}]) (?=[{w.CJK}])", "", text if polite else w.POLITE.sub(" ", text))


@dataclass
class _Found:
    confirm: bool = False
    decline: bool = False
    wait: bool = False
    help: bool = False
    unclear: bool = False
    day_named: bool = False
    waits: set[int] = field(default_factory=set)
    offsets: set[int] = field(default_factory=set)
    amounts: set[tuple[float, ReplyUnit | None]] = field(default_factory=set)
    lefts: set[tuple[float, ReplyUnit | None]] = field(default_factory=set)
    fractions: set[float] = field(default_factory=set)
    products: set[str] = field(default_factory=set)


class _Scan:
    """The reply's text, from which each understood phrase is cut out as it is read."""

    def __init__(self, text: str) -> None:
        self.rest = text

    def take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        found: list[re.Match[str]] = []

        def cut(match: re.Match[str]) -> str:
            found.append(match)
            return " "

        self.rest = " ".join(pattern.sub(cut, self.rest).split())
        return found


PLENTY_FRACTION = 0.5  # "no, still have plenty": about half a tank, as a loose hint


def parse_reply(text: str, *, products: Sequence[ProductNames] = (),
                today: date | None = None) -> Reply:
    """What a customer meant by ``text``; see the module docstring for the rules."""
    shown = normalise(text)
    folded = _fold(shown)
    core = re.sub(r"\s+", "", w.FILLER.sub(" ", folded))
    if w.STOP.search(folded) or w.BARE_STOP.fullmatch(core):
        return Reply(Intent.STOP, shown)
    if menu := w.MENU.fullmatch(core):
        choice = menu.group(1)
        intent = (Intent.CONFIRM if choice in ("1", "一", "one") else
                  Intent.SNOOZE if choice in ("2", "二", "兩", "two") else Intent.DECLINE)
        return Reply(intent, shown)
    if w.BARE_START.fullmatch(core):
        return Reply(Intent.START, shown)
    if w.BARE_HELP.fullmatch(core) or re.fullmatch(r"[\s?¿]*\?[\s?¿]*", unicodedata.normalize(
            "NFKC", text)):
        return Reply(Intent.HELP, shown)
    if w.COMPLAINT.search(folded):
        return Reply(Intent.UNKNOWN, shown)  # a complaint is for a person
    scan, found = _Scan(_fold(shown, polite=False)), _Found()
    _read_days(scan, found, today)
    _read_amounts(scan, found)
    for key, pattern in _product_patterns(tuple(products)):
        if scan.take(pattern):
            found.products.add(key)
    for pattern, fraction in w.LEVEL_WORDS:
        found.fractions.update(fraction for _ in scan.take(pattern))
    found.decline = bool(scan.take(w.DECLINE))
    found.confirm = bool(scan.take(w.CONFIRM)) or found.confirm
    for m in scan.take(w.BARE_NUMBER):
        _add_amount(found.amounts, m.group("n"), None)
    reply = _decide(found, scan.rest, shown, today)
    if reply.intent is Intent.DECLINE and reply.level_fraction is None \
            and reply.level_quantity is None and w.PLENTY.search(folded):
        reply = replace(reply, level_fraction=PLENTY_FRACTION)
    return reply


def _read_days(scan: _Scan, found: _Found, today: date | None) -> None:
    """Times (ignored), dates, weekdays, waits and relative days, cut out in that order."""
    scan.take(w.TIME)
    for m in scan.take(w.FRACTION_SLASH):
        _add_fraction(found, m.group("a") or m.group("c"), m.group("b") or m.group("d"))
    for m in scan.take(w.DATE):
        _add_day(found, _date_offset(today, int(m.group("m")), int(m.group("d"))))
    for m in scan.take(w.DATE_EN):
        _add_day(found, _date_offset(today, None, int(m.group("d"))))
    for m in scan.take(w.DATE_CJK):
        month = parse_number(m.group("m")) if m.group("m") else None
        _add_day(found, _date_offset(today, None if month is None else int(month),
                                     int(parse_number(m.group("d")) or 0)))
    for pattern in w.WEEKDAY:
        for m in scan.take(pattern):
            name, before = m.group("d"), (m.group("pre") or "").replace(" ", "")
            next_week = before.startswith(("下", "nextweek"))
            found.wait = found.wait or next_week
            _add_day(found, _weekday_offset(today, w.WEEKDAYS.get(name[:3], w.WEEKDAYS.get(
                name, 0)), next_week=next_week, weeks=2 if before.startswith("下下") else 1))
    for pattern in w.WAIT_COUNTS:
        for m in scan.take(pattern):
            found.wait = True
            count = 3.0 if m.group("n") in w.FEW else parse_number(m.group("n"))
            days = w.WAIT_DAYS.get(m.group("u")[:1], 1)
            if count is not None and 0 < count * days <= 400:
                found.waits.add(round(count * days))
    for pattern, wait in w.WAITS:
        if scan.take(pattern):
            found.wait = True
            if wait is not None:
                found.waits.add(wait)
    for pattern, offset in w.RELATIVE_DAYS:
        for _ in scan.take(pattern):
            _add_day(found, offset)


def _read_amounts(scan: _Scan, found: _Found) -> None:
    """Levels as fractions and amounts left, amounts to bring, then half/third words,
    help words, and phrases that must be cut before no and yes ("no problem", "不好")."""
    for m in scan.take(w.FRACTION_CJK):
        _add_fraction(found, m.group("b"), m.group("a"))
    for pattern in w.PERCENT:
        for m in scan.take(pattern):
            _add_fraction(found, m.group("p"), "100")
    for pattern in w.TENTHS:
        for m in scan.take(pattern):
            _add_fraction(found, m.group("t"), "10")
    found.fractions.update(0.5 for _ in scan.take(w.HALF_CJK))
    for pattern in w.LEFT:
        for m in scan.take(pattern):
            _add_amount(found.lefts, m.group("n") or m.group("c"), _unit_of(m),
                        half=bool(m.group("half") or m.group("and")))
    for m in scan.take(w.AMOUNT):
        _add_amount(found.amounts, m.group("n"), _unit_of(m),
                    half=bool(m.group("half") or m.group("and")))
    found.unclear = bool(scan.take(w.OTHER_MEASURE))
    for pattern, fraction in w.FRACTION_WORDS:
        for m in scan.take(pattern):
            found.fractions.add(fraction if fraction is not None else w.FRACTION_OF[m["w"]])
    found.help = bool(scan.take(w.HELP))
    found.confirm = bool(scan.take(w.CONFIRM_FIRST))
    scan.take(w.NEUTRAL)


def _unit_of(m: re.Match[str]) -> ReplyUnit | None:
    groups = m.groupdict()
    return next((unit for unit in ReplyUnit if groups.get(unit.name.lower())), None)


def _add_amount(into: set[tuple[float, ReplyUnit | None]], number: str,
                unit: ReplyUnit | None, *, half: bool = False) -> None:
    value = parse_number(number)
    if value is not None and 0 < value + half * 0.5 < 1e5:
        into.add((value + half * 0.5, unit))


def _add_fraction(found: _Found, part: str, whole: str) -> None:
    a, b = parse_number(part), parse_number(whole)
    if a is not None and b and 0 <= a / b <= 1:
        found.fractions.add(round(a / b, 4))


def _add_day(found: _Found, offset: int | None) -> None:
    found.day_named = True
    if offset is not None:
        found.offsets.add(offset)


def _weekday_offset(today: date | None, weekday: int, *, next_week: bool,
                    weeks: int) -> int | None:
    """Days to ``weekday``: the next one after today, or in a later calendar week."""
    if today is None:
        return None
    if next_week:
        return 7 * weeks - today.weekday() + weekday
    return (weekday - today.weekday()) % 7 or 7


def _date_offset(today: date | None, month: int | None, day: int) -> int | None:
    """Days until the next ``month``/``day`` (any month when None) after ``today``."""
    if today is None or not 1 <= day <= 31 or (month is not None and not 1 <= month <= 12):
        return None
    for ahead in range(14):
        year, index = divmod(today.month - 1 + ahead, 12)
        if month is not None and index + 1 != month:
            continue
        try:
            candidate = date(today.year + year, index + 1, day)
        except ValueError:
            continue
        if candidate > today:
            return (candidate - today).days
    return None


@lru_cache(maxsize=32)
def _product_patterns(products: tuple[ProductNames, ...]) -> list[tuple[str, re.Pattern[str]]]:
    """One pattern per alias, longest first, with the key it names."""
    names: dict[str, str] = {}
    for product in products:
        for alias in (product.key.replace("_", " "), *product.aliases):
            names.setdefault(_fold(normalise(alias)), product.key)
    names.pop("", None)
    return [(names[alias], re.compile(w.alias_pattern(alias)))
            for alias in sorted(names, key=len, reverse=True)]


def _decide(found: _Found, rest: str, shown: str, today: date | None) -> Reply:
    many: list[set[Any]] = [found.waits, found.offsets, found.amounts, found.lefts,
                            found.fractions, found.products]
    if found.unclear or any(len(s) > 1 for s in many) or w.unexplained(rest) > w.UNEXPLAINED:
        return Reply(Intent.UNKNOWN, shown)
    amount, left = next(iter(found.amounts), None), next(iter(found.lefts), None)
    values: dict[str, Any] = {
        "quantity": amount and amount[0], "unit": amount and amount[1],
        "level_fraction": next(iter(found.fractions), None),
        "level_quantity": left and left[0], "level_unit": left and left[1],
        "product": next(iter(found.products), None)}
    offset = next(iter(found.offsets), next(iter(found.waits), None))
    when = None if today is None or offset is None or today > date.max - timedelta(offset) \
        else today + timedelta(offset)
    if found.confirm and not found.decline and found.day_named:
        return Reply(Intent.CONFIRM, shown, day=when, **values)
    if found.wait or found.waits or found.day_named:
        if found.decline and not (found.wait or found.waits):
            return Reply(Intent.UNKNOWN, shown)
        return Reply(Intent.SNOOZE, shown, snooze_days=offset, day=when, **values)
    if found.decline:
        if amount or (found.confirm and found.products):
            return Reply(Intent.UNKNOWN, shown)
        return Reply(Intent.DECLINE, shown, **values)
    if found.confirm:
        return Reply(Intent.CONFIRM, shown, **values)
    for intent, seen in ((Intent.QUANTITY, amount), (Intent.LEVEL, found.fractions or left),
                         (Intent.PRODUCT, found.products), (Intent.HELP, found.help)):
        if seen:
            return Reply(intent, shown, **values)
    return Reply(Intent.UNKNOWN, shown)
