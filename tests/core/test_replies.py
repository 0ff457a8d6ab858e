"""Customers answer in their own words; parse_reply reads them as an intent with values."""

from dataclasses import asdict
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from replenish.core.numbers import parse_number
from replenish.core.replies import (
    Intent,
    ProductNames,
    Reply,
    ReplyUnit,
    normalise,
    parse_reply,
)
from tests.core.replies_table import PRODUCTS, ROWS, TODAY

THURSDAY = date(2025, 11, 27)


def read(text: str, **kwargs) -> Reply:
    return parse_reply(text, products=kwargs.pop("products", PRODUCTS),
                       today=kwargs.pop("today", TODAY))


def test_the_table_holds_at_least_150_distinct_replies():
    assert len({row.text for row in ROWS}) == len(ROWS) >= 150


@pytest.mark.parametrize("row", ROWS, ids=[f"{i:03} {row.text}" for i, row in enumerate(ROWS)])
def test_a_realistic_reply_is_read_as_the_table_says(row):
    reply = read(row.text)
    got = {key: value for key, value in asdict(reply).items() if key != "text"}
    expected = row.expected()
    if expected["level_fraction"] is not None and got["level_fraction"] is not None:
        got["level_fraction"] = pytest.approx(got["level_fraction"], abs=1e-3)
    assert got == expected, f"{row.text!r} was read as {reply.summary()!r}"


def test_every_intent_appears_in_the_table():
    assert {row.intent for row in ROWS} == {intent.value for intent in Intent}


def test_the_intents_are_exactly_the_ten_names_of_the_issue():
    assert [i.value for i in Intent] == ["confirm", "decline", "snooze", "quantity", "level",
                                         "product", "stop", "start", "help", "unknown"]


@pytest.mark.parametrize(("text", "intent"), [
    ("1", Intent.CONFIRM), ("2", Intent.SNOOZE), ("3", Intent.DECLINE),
    ("３", Intent.DECLINE), ("2.", Intent.SNOOZE), ("回覆2", Intent.SNOOZE),
    ("three", Intent.DECLINE), ("兩", Intent.SNOOZE),
])
def test_a_bare_menu_number_is_a_menu_choice(text, intent):
    reply = read(text)
    assert reply.intent is intent
    assert reply.quantity is None and reply.snooze_days is None


@pytest.mark.parametrize(("text", "quantity", "unit"), [
    ("4", 4, None), ("15", 15, None), ("1 bag", 1, ReplyUnit.BAG), ("2 jugs", 2, ReplyUnit.UNIT),
    ("3公斤", 3, ReplyUnit.KG),
])
def test_any_other_number_or_a_menu_number_with_a_unit_is_a_quantity(text, quantity, unit):
    reply = read(text)
    assert (reply.intent, reply.quantity, reply.unit) == (Intent.QUANTITY, quantity, unit)


def test_a_bag_count_is_reported_in_bags_for_the_caller_to_multiply():
    for text in ("two bags", "兩包", "2袋", "yes 2 bags"):
        reply = read(text)
        assert (reply.quantity, reply.unit) == (2, ReplyUnit.BAG), text
        assert reply.unit == "bag"  # a plain str for callers that compare with text


def test_a_yes_with_an_amount_is_a_confirm_that_carries_the_amount():
    reply = read("好喔 這次要15公斤")
    assert (reply.intent, reply.quantity, reply.unit) == (Intent.CONFIRM, 15, ReplyUnit.KG)


def test_a_wait_beats_a_polite_no_and_a_polite_yes():
    assert read("先不用 下禮拜再說").intent is Intent.SNOOZE
    assert read("ok, next week").snooze_days == 7
    assert read("no, next week").intent is Intent.SNOOZE


def test_a_no_beats_a_polite_yes():
    assert read("好的 不用了 謝謝").intent is Intent.DECLINE


def test_an_opt_out_wins_over_everything_else():
    for text in ("yes stop", "15kg STOP", "好 但是不要再傳簡訊了", "STOP 2"):
        assert read(text).intent is Intent.STOP, text


def test_a_named_weekday_needs_today_to_become_a_date():
    assert read("好喔 禮拜四來就可以了").day == THURSDAY
    without_today = parse_reply("好喔 禮拜四來就可以了", products=PRODUCTS)
    assert without_today.intent is Intent.CONFIRM and without_today.day is None


def test_a_wait_in_days_needs_no_today():
    reply = parse_reply("in 3 days")
    assert (reply.intent, reply.snooze_days, reply.day) == (Intent.SNOOZE, 3, None)


def test_next_weeks_weekday_is_in_the_next_calendar_week():
    sunday = date(2025, 11, 30)
    assert read("下週一", today=sunday).day == date(2025, 12, 1)
    assert read("禮拜一", today=sunday).day == date(2025, 12, 1)
    assert read("下週四", today=TODAY).day == date(2025, 12, 4)
    assert read("禮拜四", today=THURSDAY).day == date(2025, 12, 4)  # not today


def test_a_date_in_the_past_is_next_years():
    assert read("1/5", today=date(2025, 12, 20)).day == date(2026, 1, 5)
    assert read("31號", today=date(2025, 11, 24)).day == date(2025, 12, 31)


def test_a_one_character_alias_does_not_match_inside_another_word():
    assert read("糙米").product is None
    assert read("米酒").product is None
    assert read("要米").product == "rice"


def test_a_product_is_known_only_by_its_key_or_aliases():
    brown = (*PRODUCTS, ProductNames("brown_rice", ["糙米"]))
    assert read("糙米", products=brown).product == "brown_rice"
    assert read("brown rice", products=brown).product == "brown_rice"
    assert read("rice", products=()).intent is Intent.UNKNOWN


def test_simplified_and_traditional_chinese_read_the_same():
    pairs = [("還有一半", "还有一半"), ("下禮拜再說", "下礼拜再说"), ("這次要兩包", "这次要两包"),
             ("退訂", "退订"), ("沒問題", "没问题"), ("桶裝水兩桶", "桶装水两桶")]
    for traditional, simplified in pairs:
        a, b = read(traditional), read(simplified)
        assert (a.intent, a.quantity, a.snooze_days, a.level_fraction, a.product) == \
               (b.intent, b.quantity, b.snooze_days, b.level_fraction, b.product), traditional


def test_case_full_width_punctuation_emoji_and_filler_are_ignored():
    plain = read("yes 15kg")
    for text in ("YES 15KG", "Ｙｅｓ １５ｋｇ", "yes!!! 15 kg 😊", "Yes please, 15kg, thanks!"):
        reply = read(text)
        assert (reply.intent, reply.quantity, reply.unit) == \
               (plain.intent, plain.quantity, plain.unit), text
    assert read("好喔 謝謝啦 麻煩了").intent is Intent.CONFIRM


def test_a_long_story_goes_to_a_person_even_with_a_yes_in_it():
    text = "好 我最近身體不好 住院了 兒子下個月才回來 到時候再打電話給你們"
    assert read(text).intent is Intent.UNKNOWN


def test_two_different_amounts_days_or_products_go_to_a_person():
    for text in ("10 or 15 kg", "禮拜四 禮拜五", "rice and water", "2 bags 20kg"):
        assert read(text).intent is Intent.UNKNOWN, text


def test_jin_is_reported_as_jin_because_its_weight_depends_on_the_region():
    assert (read("十斤").quantity, read("十斤").unit) == (10, ReplyUnit.JIN)
    assert read("5公斤").unit is ReplyUnit.KG


def test_the_normalised_text_is_what_the_rules_read():
    assert normalise("  好喔！！ 這次要１５公斤🙏 ") == "好喔 這次要15公斤"
    assert normalise("Don’t TEXT me!!!") == "dont text me"
    assert normalise("2.5 kg, 11/28 at 10:30, 30 %") == "2.5 kg 11/28 at 10:30 30%"
    assert read("Yes!!").text == "yes"


def test_summary_and_dict_show_the_owner_what_was_understood():
    reply = read("好喔 禮拜四來 15公斤")
    assert reply.summary() == "confirm · 15 kg · Thu 2025-11-27"
    assert read("下禮拜再說").summary() == "snooze · 7 days · Mon 2025-12-01"
    assert read("還有一半").summary() == "level · 50% left"
    assert read("2 jugs").summary() == "quantity · 2 units"
    assert read("15").summary() == "quantity · 15"
    assert reply.as_dict() == {
        "intent": "confirm", "quantity": 15.0, "unit": "kg", "level_fraction": None,
        "level_quantity": None, "level_unit": None, "snooze_days": None, "day": "2025-11-27",
        "product": None, "text": "好喔 禮拜四來 15公斤"}


@pytest.mark.parametrize("kwargs", [
    {"quantity": 0}, {"quantity": -1}, {"unit": ReplyUnit.KG}, {"level_fraction": 1.5},
    {"snooze_days": -1}, {"level_unit": ReplyUnit.BAG},
])
def test_a_reply_with_impossible_values_cannot_be_made(kwargs):
    with pytest.raises(ValueError):
        Reply(Intent.CONFIRM, **kwargs)


def test_a_product_needs_a_key():
    with pytest.raises(ValueError):
        ProductNames(" ", ["米"])


@pytest.mark.parametrize(("text", "value"), [
    ("15", 15), ("2.5", 2.5), ("十", 10), ("十五", 15), ("二十五", 25), ("兩", 2), ("两", 2),
    ("一百零五", 105), ("兩百五", 250), ("廿五", 25), ("半", 0.5), ("fifteen", 15),
    ("twenty five", 25), ("a", 1), ("half a", 0.5), ("三四", None), ("十百", None), ("x", None),
])
def test_numbers_are_read_as_people_write_and_say_them(text, value):
    assert parse_number(text) == value


_WORDS = ["yes", "no", "ok", "好", "要", "不用", "還有", "一半", "15", "kg", "公斤", "包", "兩",
          "十", "半", "下禮拜", "禮拜四", "in", "3", "days", "stop", "start", "help", "?", "米",
          "水", "rice", "left", "11/28", "28號", "%", "/", ".", "分之", "成", "剩", "沒", "了",
          "👍", "１", "next", "week", "the", "15th", "a", "bag", "couple", "of", " "]


@given(st.one_of(
    st.text(),
    st.lists(st.sampled_from(_WORDS), max_size=12).map("".join),
    st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=3)), max_size=10).map(" ".join),
), st.one_of(st.none(), st.dates()))
@example("9" * 400, None)
@example("三" * 50 + "公斤", date(2025, 2, 28))
@example("31號", date(9999, 12, 31))
@example("下下禮拜日", date(1, 1, 1))
def test_any_text_gives_one_of_the_ten_intents_with_sane_values(text, today):
    reply = parse_reply(text, products=PRODUCTS, today=today)
    assert reply.intent in Intent
    assert reply.quantity is None or reply.quantity > 0
    assert reply.level_fraction is None or 0 <= reply.level_fraction <= 1
    assert reply.snooze_days is None or reply.snooze_days >= 0


@given(st.text())
def test_normalising_twice_changes_nothing(text):
    once = normalise(text)
    assert normalise(once) == once


@given(st.sampled_from([row for row in ROWS if row.intent not in ("unknown", "help")]),
       st.sampled_from(["", "謝謝", "please", "喔", "thanks!", "🙏", "啦", "麻煩了"]))
def test_polite_filler_around_a_reply_changes_nothing(row, filler):
    plain = read(row.text)
    assert read(f"{filler} {row.text} {filler}").intent is plain.intent
