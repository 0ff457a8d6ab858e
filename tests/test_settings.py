from pathlib import Path

import pydantic
import pytest

from replenish.core.types import Locale, Unit
from replenish.settings import Settings, SettingsError, load_settings

REPO_SETTINGS = Path(__file__).resolve().parents[1] / "settings.toml"


@pytest.fixture(autouse=True)
def _in_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def write(tmp_path, text, name="settings.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_defaults_load_without_a_settings_file():
    settings = load_settings()
    assert settings.database_url == "sqlite:///replenish.db"
    assert settings.forecast.risk == 0.002
    assert settings.forecast.first_risk == 0.001
    assert settings.forecast.half_life_days == 45
    assert settings.forecast.measurement_error.customer == 0.12
    assert settings.shop.locale is Locale.ZH_TW
    assert set(settings.products) == {"rice", "water", "cooking_oil", "propane"}
    assert settings.products["rice"].unit is Unit.KG
    assert settings.products["water"].units_per_litre == pytest.approx(1 / 18.9, rel=1e-3)


def test_the_documented_settings_file_matches_the_defaults():
    assert load_settings(REPO_SETTINGS) == load_settings()


def test_settings_toml_in_the_working_folder_is_read(tmp_path):
    write(tmp_path, '[shop]\nname = "Wang\'s Rice"\nregion = "us"\n')
    settings = load_settings()
    assert settings.shop.name == "Wang's Rice"
    assert settings.shop.region == "US"
    assert settings.shop.timezone == "Asia/Taipei"  # the rest keeps its default


def test_replenish_settings_names_the_file_to_read(tmp_path, monkeypatch):
    path = write(tmp_path, "[forecast]\nrisk = 0.1\n", name="elsewhere.toml")
    monkeypatch.setenv("REPLENISH_SETTINGS", str(path))
    assert load_settings().forecast.risk == 0.1


def test_a_missing_file_named_by_replenish_settings_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("REPLENISH_SETTINGS", str(tmp_path / "nope.toml"))
    with pytest.raises(SettingsError, match="nope.toml.*does not exist"):
        load_settings()


def test_an_environment_variable_overrides_the_file(tmp_path, monkeypatch):
    write(tmp_path, "[forecast]\nrisk = 0.1\nhalf_life_days = 30\n")
    monkeypatch.setenv("REPLENISH_FORECAST__RISK", "0.05")
    settings = load_settings()
    assert settings.forecast.risk == 0.05
    assert settings.forecast.half_life_days == 30


def test_replenish_database_url_picks_the_database(monkeypatch):
    monkeypatch.setenv("REPLENISH_DATABASE_URL", "postgresql://shop@db/replenish")
    assert load_settings().database_url == "postgresql://shop@db/replenish"


def test_one_product_setting_can_be_overridden_from_the_environment(monkeypatch):
    monkeypatch.setenv("REPLENISH_PRODUCTS__RICE__MIN_DROP", "10")
    settings = load_settings()
    assert settings.products["rice"].min_drop == 10
    assert settings.products["rice"].bag_sizes == (5, 10)
    assert "water" in settings.products


def test_a_shop_that_lists_its_products_gets_only_those(tmp_path):
    write(
        tmp_path,
        """
[products.rice]
name = "Rice"
unit = "kg"
units_per_litre = 0.8
bag_sizes = [5]
min_drop = 5
priors = { adult = 0.15, child = 0.08, elder = 0.12 }
""",
    )
    assert list(load_settings().products) == ["rice"]


def test_an_invalid_value_fails_naming_the_key_and_the_allowed_values(monkeypatch):
    monkeypatch.setenv("REPLENISH_SHOP__LOCALE", "fr")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "shop.locale" in message
    assert "'fr'" in message
    assert "'en', 'zh-TW' or 'zh-CN'" in message
    assert "REPLENISH_SHOP__LOCALE" in message


def test_a_risk_out_of_range_fails_naming_the_limit(tmp_path):
    write(tmp_path, "[forecast]\nrisk = 0.7\n")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems == [
        "forecast.risk = 0.7: Input should be less than 0.5 (settings file key "
        "'forecast.risk', or environment variable REPLENISH_FORECAST__RISK)"
    ]


def test_every_bad_key_is_reported_at_once(tmp_path):
    write(tmp_path, '[shop]\ntimezone = "Asia/Tainan"\nregion = "XX"\ncurrency = "dollars"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    for expected in ("shop.timezone", "Asia/Taipei", "shop.region", "'TW'", "shop.currency"):
        assert expected in message
    assert len(caught.value.problems) == 3


def test_a_misspelt_key_is_refused(tmp_path):
    write(tmp_path, "[forecast]\nrsik = 0.1\n")
    with pytest.raises(SettingsError, match="forecast.rsik: is not a known setting"):
        load_settings()


def test_a_file_that_is_not_toml_is_refused(tmp_path):
    write(tmp_path, "[forecast\nrisk = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings()


def test_business_hours_must_open_before_they_close(tmp_path):
    write(tmp_path, '[shop]\nopen = "20:00"\nclose = "08:00"\n')
    with pytest.raises(SettingsError, match="open must be earlier than close"):
        load_settings()


def test_a_product_needs_a_positive_bag_size(monkeypatch):
    monkeypatch.setenv("REPLENISH_PRODUCTS__RICE__BAG_SIZES", "[5, -1]")
    with pytest.raises(SettingsError, match=r"products\.rice\.bag_sizes\.1"):
        load_settings()


def test_settings_are_frozen():
    settings = load_settings()
    with pytest.raises(pydantic.ValidationError):
        settings.database_url = "sqlite:///other.db"
    with pytest.raises(pydantic.ValidationError):
        settings.forecast.risk = 0.3
    assert isinstance(settings, Settings)


def test_a_misspelt_environment_variable_is_an_error_with_a_suggestion(monkeypatch):
    from replenish.settings import SettingsError, load_settings

    monkeypatch.setenv("REPLENISH_FORECAST__RSIK", "0.05")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "REPLENISH_FORECAST__RSIK: is not a known setting" in str(caught.value)
    assert "REPLENISH_FORECAST__RISK" in str(caught.value)


def test_product_overrides_in_the_environment_are_known(monkeypatch):
    from replenish.settings import load_settings

    monkeypatch.setenv("REPLENISH_PRODUCTS__RICE__MIN_DROP", "10")
    assert load_settings().products["rice"].min_drop == 10


def test_a_zero_per_person_prior_is_refused(monkeypatch):
    from replenish.settings import SettingsError, load_settings

    monkeypatch.setenv("REPLENISH_PRODUCTS__RICE__PRIORS__ADULT", "0")
    with pytest.raises(SettingsError, match="products.rice.priors.adult"):
        load_settings()
