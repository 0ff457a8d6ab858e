"""Every default message renders with realistic values; prompts fit in two SMS segments."""

import pytest

from replenish.core.texting import render, segments, template_fields
from replenish.settings import ConversationSettings, SettingsError, load_settings
from replenish.templates import DEFAULT_TEMPLATES, FIELDS

VALUES = {
    "zh-TW": {"shop": "林記米行", "name": "王太太", "product": "蓬萊米", "unit": "公斤",
              "quantity": "10", "runout_day": "週五(11/28)", "drop_day": "週四(11/27)",
              "window": "上午", "ask_day": "週四(11/27)", "phone": "06-222-1234",
              "when": "明天早上8點後", "count": "10", "day": "週四(11/27)", "stops": "23",
              "url": "https://shop.example.com/c/eyJyIjo0MiwiYyI6MywiZSI6MTc2NDIwMDAwMH0.abc"},
    "zh-CN": {"shop": "林记米行", "name": "王太太", "product": "大米", "unit": "公斤",
              "quantity": "10", "runout_day": "周五(11/28)", "drop_day": "周四(11/27)",
              "window": "上午", "ask_day": "周四(11/27)", "phone": "021-5555-1234",
              "when": "明天早上8点后", "count": "10", "day": "周四(11/27)", "stops": "23",
              "url": "https://shop.example.com/c/eyJyIjo0MiwiYyI6MywiZSI6MTc2NDIwMDAwMH0.abc"},
    "en": {"shop": "Dave's Water", "name": "Mrs. Rivera", "product": "5-gallon water",
           "unit": "jugs", "quantity": "3", "runout_day": "Fri 28 Nov",
           "drop_day": "Thu 27 Nov", "window": " 9-12", "ask_day": "Thu 27 Nov",
           "phone": "512-555-0100", "when": "tomorrow after 8 am", "count": "10",
           "day": "Thu 27 Nov", "stops": "23",
           "url": "https://shop.example.com/c/eyJyIjo0MiwiYyI6MywiZSI6MTc2NDIwMDAwMH0.abc"},
}


@pytest.mark.parametrize("locale", sorted(DEFAULT_TEMPLATES))
def test_every_language_has_every_message_with_only_known_fields(locale):
    assert set(DEFAULT_TEMPLATES[locale]) == set(FIELDS)
    for key, text in DEFAULT_TEMPLATES[locale].items():
        assert template_fields(text) <= FIELDS[key], key
        render(text, VALUES[locale])


@pytest.mark.parametrize("locale", sorted(DEFAULT_TEMPLATES))
@pytest.mark.parametrize("key", ["prompt", "heads_up", "reminder", "booked", "courier_link",
                                 "nearby"])
def test_prompts_fit_in_two_segments(locale, key):
    assert segments(render(DEFAULT_TEMPLATES[locale][key], VALUES[locale])).count <= 2


def test_chinese_prompts_travel_as_ucs2():
    assert segments(render(DEFAULT_TEMPLATES["zh-TW"]["prompt"], VALUES["zh-TW"])).encoding \
        == "UCS-2"


def test_a_shop_template_with_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match="runout"):
        ConversationSettings(templates={"en": {"booked": "See you {runout}!"}})


def test_a_shop_template_replaces_the_default(monkeypatch, tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[conversation.templates.en]\nbooked = "Done: {quantity} {unit}."\n',
                    encoding="utf-8")
    cfg = load_settings(path)
    assert cfg.conversation.template("en", "booked") == "Done: {quantity} {unit}."
    assert cfg.conversation.template("en", "declined") == DEFAULT_TEMPLATES["en"]["declined"]


def test_a_template_for_an_unknown_language_names_the_languages(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[conversation.templates.fr]\nbooked = "Merci"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="zh-TW"):
        load_settings(path)
