"""The [sms] settings: defaults, environment overrides, and clear refusals."""

import re

import pytest

from replenish.settings import SettingsError, load_settings

ACCOUNT = "AC" + "ab" * 16


@pytest.fixture(autouse=True)
def _in_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_by_default_texts_go_to_the_console():
    sms = load_settings().sms
    assert sms.transport == "auto" and not sms.use_twilio
    assert sms.twilio.api_base_url == "https://api.twilio.com"
    assert sms.max_attempts == 5 and sms.stuck_after_seconds == 600


def test_twilio_credentials_from_the_environment_turn_twilio_on(monkeypatch):
    monkeypatch.setenv("REPLENISH_SMS__TWILIO__ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("REPLENISH_SMS__TWILIO__AUTH_TOKEN", "secret")
    monkeypatch.setenv("REPLENISH_SMS__TWILIO__FROM_NUMBER", "+1 500 555 0006")
    sms = load_settings().sms
    assert sms.use_twilio
    assert sms.twilio.from_number == "+15005550006"


def test_the_api_base_url_can_point_at_a_local_server(monkeypatch):
    monkeypatch.setenv("REPLENISH_SMS__TWILIO__API_BASE_URL", "http://127.0.0.1:8099/")
    assert load_settings().sms.twilio.api_base_url == "http://127.0.0.1:8099"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REPLENISH_SMS__TRANSPORT", "twilio", "transport is 'twilio' but"),
        ("REPLENISH_SMS__TWILIO__ACCOUNT_SID", "12345", "'AC' and 32 hex digits"),
        ("REPLENISH_SMS__TWILIO__FROM_NUMBER", "0912345678", "with its country code"),
        ("REPLENISH_SMS__PUBLIC_URL", "shop.example.com", "not a web address"),
        ("REPLENISH_SMS__MAX_ATTEMPTS", "0", "sms.max_attempts"),
        ("REPLENISH_SMS__STUCK_AFTER_SECONDS", "20", "more than twice"),
        ("REPLENISH_SMS__RETRY_MAX_SECONDS", "10", "retry_max_seconds (10)"),
    ],
)
def test_a_bad_sms_setting_is_refused_with_the_reason(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings()


def test_credentials_without_a_sender_are_refused(monkeypatch):
    monkeypatch.setenv("REPLENISH_SMS__TWILIO__ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("REPLENISH_SMS__TWILIO__AUTH_TOKEN", "secret")
    with pytest.raises(SettingsError, match="Twilio needs a sender"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REPLENISH_SMS__RETRY_BASE_SECONDS", "7200", "shorter than retry_base_seconds"),
        ("REPLENISH_SMS__TWILIO__TIMEOUT_SECONDS", "400", "more than twice"),
    ],
)
def test_a_rule_across_keys_holds_when_only_one_of_them_changes(
    monkeypatch, variable, value, message
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_a_settings_error_never_shows_the_auth_token(monkeypatch):
    monkeypatch.setenv("REPLENISH_SMS__TWILIO__ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("REPLENISH_SMS__TWILIO__AUTH_TOKEN", "very-secret-token")
    monkeypatch.setenv("REPLENISH_SMS__STUCK_AFTER_SECONDS", "1")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "Twilio needs a sender" in str(caught.value)
    assert "very-secret-token" not in str(caught.value)


def test_the_auth_token_is_kept_out_of_printed_settings(monkeypatch):
    monkeypatch.setenv("REPLENISH_SMS__TWILIO__AUTH_TOKEN", "very-secret-token")
    sms = load_settings().sms
    assert "very-secret-token" not in repr(sms)
    assert sms.twilio.auth_token.get_secret_value() == "very-secret-token"
