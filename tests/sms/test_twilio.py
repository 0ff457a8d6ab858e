"""The Twilio transport: the real ``twilio`` client against a local Twilio."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from replenish.db.models import MessageStatus
from replenish.sms import ConfigurationError, OutcomeUnknown, Transport, TransportError
from replenish.sms.base import Finder
from replenish.sms.twilio import TwilioTransport

TO = "+886912345678"


def test_it_is_a_transport_that_can_look_messages_up(twilio):
    assert isinstance(twilio, Transport) and isinstance(twilio, Finder)


def test_a_sent_text_comes_back_with_twilios_sid(twilio, fake_twilio):
    result = twilio.send(to=TO, body="您好", idempotency_key="k1")

    [message] = fake_twilio.messages
    assert result.provider_sid == message["sid"] and result.provider_sid.startswith("SM")
    assert result.status is MessageStatus.SENT  # Twilio's "queued": the provider has it
    assert message["body"] == "您好"


def test_without_a_public_url_there_is_no_status_callback(fake_twilio):
    with TwilioTransport(fake_twilio.params()) as transport:
        transport.send(to=TO, body="hi", idempotency_key="k")
    assert fake_twilio.posts == [{"To": TO, "From": "+15005550006", "Body": "hi"}]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (21211, "invalid 'To' phone number"),
        (21610, "unsubscribed"),
        (21614, "not a mobile number"),
        (21408, "Geo Permissions"),
        (21999, "Error"),  # a refusal we do not know is still the request's fault
    ],
)
def test_a_refused_number_is_a_permanent_error_with_the_reason(twilio, fake_twilio, code, words):
    fake_twilio.refuse(TO, code=code)
    with pytest.raises(TransportError) as caught:
        twilio.send(to=TO, body="hi", idempotency_key="k")
    error = caught.value
    assert error.permanent and error.code == code and error.status == 400
    assert words in str(error)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_throttling_can_be_retried(twilio, fake_twilio, status):
    fake_twilio.fail_next(1, status=status)
    with pytest.raises(TransportError) as caught:
        twilio.send(to=TO, body="hi", idempotency_key="k")
    assert not caught.value.permanent and caught.value.status == status
    assert not isinstance(caught.value, ConfigurationError | OutcomeUnknown)


def test_wrong_credentials_are_a_configuration_error(fake_twilio):
    with (
        TwilioTransport(fake_twilio.params(auth_token="wrong")) as transport,
        pytest.raises(ConfigurationError, match="20003"),
    ):
        transport.send(to=TO, body="hi", idempotency_key="k")


def test_no_answer_in_time_means_the_outcome_is_unknown(fake_twilio):
    fake_twilio.hang_next(1, seconds=2)
    with (
        TwilioTransport(fake_twilio.params(timeout_seconds=0.2)) as transport,
        pytest.raises(OutcomeUnknown),
    ):
        transport.send(to=TO, body="hi", idempotency_key="k")
    assert len(fake_twilio.messages) == 1  # Twilio took it; the answer came too late


def test_a_server_that_cannot_be_reached_is_retried_not_reconciled(fake_twilio):
    unreachable = fake_twilio.params(api_base_url="http://127.0.0.1:9")
    with TwilioTransport(unreachable) as transport, pytest.raises(TransportError) as caught:
        transport.send(to=TO, body="hi", idempotency_key="k")
    assert not caught.value.permanent and not isinstance(caught.value, OutcomeUnknown)


def test_fetch_reads_the_current_status(twilio, fake_twilio):
    sent = twilio.send(to=TO, body="hi", idempotency_key="k")
    fake_twilio.set_status(sent.provider_sid, "undelivered", error_code=30003)

    now = twilio.fetch(sent.provider_sid)

    assert now.status is MessageStatus.UNDELIVERED and now.error_code == 30003


def test_find_returns_only_messages_with_the_same_text_to_the_same_number(twilio):
    since = datetime.now(UTC)
    wanted = twilio.send(to=TO, body="10 kg on Thu?", idempotency_key="a")
    twilio.send(to=TO, body="something else", idempotency_key="b")
    twilio.send(to="+886912000222", body="10 kg on Thu?", idempotency_key="c")

    found = twilio.find(to=TO, body="10 kg on Thu?", idempotency_key="a", since=since)

    assert [f.provider_sid for f in found] == [wanted.provider_sid]


def test_find_ignores_messages_created_before_the_send_was_claimed(twilio):
    twilio.send(to=TO, body="10 kg on Thu?", idempotency_key="a")
    later = datetime.now(UTC) + timedelta(hours=1)
    assert twilio.find(to=TO, body="10 kg on Thu?", idempotency_key="a", since=later) == []


def test_a_messaging_service_send_is_accepted(fake_twilio):
    params = fake_twilio.params(from_number="", messaging_service_sid="MG" + "0" * 32)
    with TwilioTransport(params) as transport:
        result = transport.send(to=TO, body="hi", idempotency_key="k")
    assert fake_twilio.messages[0]["status"] == "accepted"
    assert result.status is MessageStatus.SENT


def test_the_transport_refuses_settings_without_a_sender(fake_twilio):
    with pytest.raises(ValueError, match="from_number or messaging_service_sid"):
        TwilioTransport(fake_twilio.params(from_number=""))
