from replenish.db.models import MessageStatus
from replenish.settings import SmsSettings, TwilioParams
from replenish.sms import ConsoleTransport, Finder, Transport, TwilioTransport, make_transport

ACCOUNT = "AC" + "1" * 32


def test_the_console_shows_the_text_and_answers_with_a_made_up_id():
    shown = []
    console = ConsoleTransport(echo=shown.append, start=1)

    first = console.send(to="+886912345678", body="米快沒了嗎？", idempotency_key="k1")
    second = console.send(to="+886912345678", body="again", idempotency_key="k2")

    assert (first.provider_sid, second.provider_sid) == ("CONSOLE-1", "CONSOLE-2")
    assert first.status is MessageStatus.SENT
    assert shown == ["text to +886912345678: 米快沒了嗎？", "text to +886912345678: again"]


def test_the_console_is_a_transport_that_cannot_look_messages_up():
    console = ConsoleTransport()
    assert isinstance(console, Transport) and not isinstance(console, Finder)


def test_without_twilio_credentials_the_console_is_chosen():
    assert isinstance(make_transport(SmsSettings()), ConsoleTransport)


def test_with_twilio_credentials_twilio_is_chosen():
    twilio = TwilioParams(account_sid=ACCOUNT, auth_token="t", from_number="+15005550006")
    transport = make_transport(SmsSettings(twilio=twilio))
    try:
        assert isinstance(transport, TwilioTransport)
    finally:
        transport.close()


def test_the_console_can_be_chosen_even_with_twilio_credentials():
    twilio = TwilioParams(account_sid=ACCOUNT, auth_token="t", from_number="+15005550006")
    assert isinstance(
        make_transport(SmsSettings(transport="console", twilio=twilio)), ConsoleTransport
    )
