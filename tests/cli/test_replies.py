"""``replenish parse-reply`` shows an owner what the system understood from a reply."""

import json

import pytest
from typer.testing import CliRunner

from replenish.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _default_settings(tmp_path, monkeypatch):
    """Run where there is no settings.toml: the built-in products and aliases apply."""
    monkeypatch.chdir(tmp_path)


def parse(*args):
    return runner.invoke(app, ["parse-reply", *args])


def test_it_prints_the_intent_and_values_on_one_line():
    result = parse("好喔 這次要15公斤")
    assert result.exit_code == 0, result.output
    assert result.output == "confirm · 15 kg\n"


def test_json_gives_the_intent_and_every_value():
    result = parse("先不用 下禮拜再說", "--today", "2025-11-24", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "intent": "snooze", "quantity": None, "unit": None, "level_fraction": None,
        "level_quantity": None, "level_unit": None, "snooze_days": 7, "day": "2025-12-01",
        "product": None, "text": "先不用 下禮拜再說"}


def test_a_weekday_is_read_from_the_given_day():
    result = parse("好喔 禮拜四來就可以了", "--today", "2025-11-24")
    assert result.output == "confirm · Thu 2025-11-27\n"


def test_it_knows_the_products_aliases_from_the_settings():
    assert parse("兩包蓬萊米").output == "quantity · 2 bags · rice\n"
    assert parse("桶裝瓦斯").output == "product · propane\n"


def test_an_alias_can_be_tried_before_it_is_added_to_the_settings():
    assert parse("糙米").output == "unknown\n"
    assert parse("糙米", "--alias", "rice=糙米").output == "product · rice\n"


def test_a_product_alias_from_the_environment_counts(monkeypatch):
    monkeypatch.setenv("REPLENISH_PRODUCTS__RICE__ALIASES", '["rice", "糙米"]')
    assert parse("糙米").output == "product · rice\n"


def test_a_bad_alias_or_date_names_the_option_and_exits_non_zero():
    for args, words in ((["--alias", "beans=豆"], "no product 'beans'"),
                        (["--alias", "rice"], "KEY=WORD"),
                        (["--today", "Thursday"], "YYYY-MM-DD")):
        result = parse("yes", *args)
        assert result.exit_code == 2, args
        assert words in result.output
        assert "Traceback" not in result.output


def test_an_opt_out_is_shown_as_stop():
    assert parse("STOP").output == "stop\n"
