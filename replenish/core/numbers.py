"""Numbers as customers type or dictate them: ``15``, ``2.5``, ``十五``, ``兩百五``, ``two``.

``NUMBER`` is a regular expression (without groups) for one number written in digits,
in English words or in Chinese numerals; ``parse_number`` gives the value of a match.
Both are pure and never raise: text that is not a number gives ``None``.

    digits      15, 2.5
    English     one ... nineteen, twenty ... ninety (and "twenty five"), a, an, another,
                a couple (of), a dozen, half (a)
    Chinese     零 〇 一 二 兩/两 三 ... 九 with 十 百 千 (十五, 二十五, 一百零五, 兩百五 = 250,
                廿五), and 半 (a half) on its own

``EN_COUNT`` is the English words a number standing alone may use (not "a" or "half":
those are numbers only in front of a unit, as in "a bag").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

__all__ = ["CJK_NUMERAL", "EN_COUNT", "NUMBER", "parse_number"]

_ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
         "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
          "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_WORDS = {"a": 1, "an": 1, "another": 1, "one more": 1, "a couple of": 2, "a couple": 2,
          "couple of": 2, "a dozen": 12, "dozen": 12, "half a": 0.5, "half": 0.5}
_CJK_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4,
               "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CJK_POWERS = {"十": 10, "百": 100, "千": 1000}


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", " ") for w in sorted(words, key=len, reverse=True))


_EN_TENS = rf"(?:{_alternatives(_TENS)})(?:[ -](?:{_alternatives(_ONES)}))?"
EN_COUNT = rf"{_EN_TENS}|{_alternatives({**_TEENS, **_ONES})}"

CJK_NUMERAL = "[零〇一二兩两三四五六七八九十百千廿]+"
NUMBER = (rf"(?<![\d.])\d+(?:\.\d+)?|(?<![a-z])(?:{EN_COUNT}|{_alternatives(_WORDS)})(?![a-z])"
          rf"|{CJK_NUMERAL}|半")


def parse_number(text: str) -> float | None:
    """The value of one number written as ``NUMBER`` matches it, else None."""
    word = " ".join(text.split()).replace("-", " ")
    value: float | None
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        value = float(word)
    elif word in _WORDS:
        value = float(_WORDS[word])
    elif word in _ONES or word in _TEENS:
        value = float(_ONES.get(word) or _TEENS[word])
    elif (tens := word.split(" ", 1))[0] in _TENS:
        ones = _ONES.get(tens[1], -1) if len(tens) == 2 else 0
        value = float(_TENS[tens[0]] + ones) if ones >= 0 else None
    else:
        value = _parse_cjk(word)
    return value if value is not None and math.isfinite(value) else None


def _parse_cjk(word: str) -> float | None:
    """十五 = 15, 二十五 = 25, 一百零五 = 105, 兩百五 = 250 (spoken short for 兩百五十)."""
    if word == "半":
        return 0.5
    if not word:
        return None
    total, digit, power = 0, None, 0
    for ch in word:
        if ch == "廿":
            total, digit, power = total + 20, None, 10
        elif ch in _CJK_DIGITS:
            if digit:  # 三四 is "three or four", not a number
                return None
            digit = _CJK_DIGITS[ch]
        elif ch in _CJK_POWERS:
            if power and _CJK_POWERS[ch] >= power:
                return None
            power = _CJK_POWERS[ch]
            total, digit = total + (1 if digit is None else digit) * power, None
        else:
            return None
    if digit:
        # 兩百五: the last digit counts in the next lower place
        total += digit * power // 10 if power >= 100 and word[-2] in _CJK_POWERS else digit
    return float(total)
