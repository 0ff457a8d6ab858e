"""The dispatcher against the real twilio client and a local Twilio, on a real database."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest

from replenish.db.models import MessageStatus
from replenish.sms import DispatchParams, backoff, dispatch_outbox
from replenish.sms.twilio import TwilioTransport

PARAMS = DispatchParams(retry_base=timedelta(seconds=30), retry_max=timedelta(hours=1))


def dispatch(outbox, transport, now, **kwargs):
    kwargs.setdefault("params", PARAMS)
    kwargs.setdefault("rng", random.Random(7))
    return dispatch_outbox(
        engine=outbox.engine, transport=transport, now=now, shop_id=outbox.shop_id, **kwargs
    )


def test_a_queued_message_is_sent_once_even_if_dispatch_runs_twice(
    outbox, twilio, fake_twilio, now
):
    [message_id] = outbox.queue()

    first = dispatch(outbox, twilio, now)
    second = dispatch(outbox, twilio, now + timedelta(hours=1))

    assert (first.sent, second.sent) == (1, 0)
    assert len(fake_twilio.posts) == 1
    row = outbox.row(message_id)
    assert row.status is MessageStatus.SENT
    assert row.provider_sid == fake_twilio.messages[0]["sid"]
    assert row.attempts == 1 and row.sent_at == now


def test_two_dispatchers_racing_send_each_message_once(outbox, fake_twilio, now):
    ids = outbox.queue(30)
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        with TwilioTransport(fake_twilio.params()) as transport:
            start.wait()
            try:
                results.append(dispatch(outbox, transport, now))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not errors
    bodies = [form["Body"] for form in fake_twilio.posts]
    assert len(bodies) == len(set(bodies)) == 30
    assert sum(r.sent for r in results) == 30
    rows = outbox.rows()
    assert [r.id for r in rows] == ids
    assert {r.status for r in rows} == {MessageStatus.SENT}
    assert len({r.provider_sid for r in rows}) == 30
    assert {r.attempts for r in rows} == {1}


def test_the_twilio_transport_posts_exactly_the_fields_twilio_expects(
    outbox, twilio, fake_twilio, now
):
    outbox.queue(
        body="Wang's Rice: 10 kg on Thu? Reply 1 yes, 2 later, 3 no", key="prompt:t42:2026-11-27"
    )

    dispatch(outbox, twilio, now)

    [request] = fake_twilio.received
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.authorized
    assert request.form == {
        "To": "+886912345678",
        "From": "+15005550006",
        "Body": "Wang's Rice: 10 kg on Thu? Reply 1 yes, 2 later, 3 no",
        "StatusCallback": "https://shop.example.com/twilio/status?key=prompt%3At42%3A2026-11-27",
    }


def test_a_messaging_service_replaces_the_from_number(outbox, fake_twilio, now):
    service = "MG" + "ab" * 16
    outbox.queue(body="好的，週四送到")
    with TwilioTransport(fake_twilio.params(from_number="", messaging_service_sid=service)) as t:
        result = dispatch(outbox, t, now)

    assert result.sent == 1
    assert fake_twilio.posts == [
        {"To": "+886912345678", "MessagingServiceSid": service, "Body": "好的，週四送到"}
    ]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_throttling_are_retried_with_backoff(
    outbox, twilio, fake_twilio, now, status
):
    [message_id] = outbox.queue()
    fake_twilio.fail_next(1, status=status)

    first = dispatch(outbox, twilio, now, rng=random.Random(7))

    assert (first.sent, first.retried) == (0, 1)
    row = outbox.row(message_id)
    wait = backoff(1, PARAMS, random.Random(7))
    assert row.status is MessageStatus.QUEUED and row.attempts == 1
    assert row.next_attempt_at == now + wait
    assert str(status) in row.error_message or "20429" in row.error_message
    assert timedelta(seconds=15) <= wait <= timedelta(seconds=30)

    early = dispatch(outbox, twilio, now + wait - timedelta(seconds=1))
    on_time = dispatch(outbox, twilio, now + wait)

    assert (early.sent, on_time.sent) == (0, 1)
    assert len(fake_twilio.posts) == 2 and len(fake_twilio.messages) == 1
    row = outbox.row(message_id)
    assert row.status is MessageStatus.SENT and row.attempts == 2 and row.error_message is None


def test_each_retry_waits_twice_as_long_up_to_the_longest_wait(outbox, twilio, fake_twilio, now):
    params = DispatchParams(
        retry_base=timedelta(seconds=30),
        retry_max=timedelta(seconds=100),
        retry_jitter=0,
        max_attempts=10,
    )
    [message_id] = outbox.queue()
    fake_twilio.fail_next(4, status=500)
    waits, at = [], now
    for _ in range(4):
        dispatch(outbox, twilio, at, params=params)
        row = outbox.row(message_id)
        waits.append(row.next_attempt_at - at)
        at = row.next_attempt_at

    assert waits == [timedelta(seconds=s) for s in (30, 60, 100, 100)]


def test_jitter_spreads_messages_that_failed_together(outbox, twilio, fake_twilio, now):
    ids = outbox.queue(5)
    fake_twilio.fail_next(5, status=503)

    dispatch(outbox, twilio, now, rng=random.Random(1))

    due = {outbox.row(i).next_attempt_at for i in ids}
    assert len(due) == 5
    assert all(now + timedelta(seconds=15) <= d <= now + timedelta(seconds=30) for d in due)


def test_a_message_that_keeps_failing_fails_after_the_last_attempt(
    outbox, twilio, fake_twilio, now
):
    params = DispatchParams(max_attempts=3, retry_jitter=0)
    [message_id] = outbox.queue()
    fake_twilio.fail_next(5, status=500)
    at = now
    for _ in range(3):
        result = dispatch(outbox, twilio, at, params=params)
        at = at + timedelta(hours=2)

    assert result.failed == 1
    row = outbox.row(message_id)
    assert row.status is MessageStatus.FAILED and row.attempts == 3
    assert row.error_message.startswith("gave up after 3 attempts")
    assert dispatch(outbox, twilio, at + timedelta(days=1), params=params).sent == 0
    assert len(fake_twilio.posts) == 3


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (21211, "invalid 'To' phone number"),
        (21610, "unsubscribed"),
        (21614, "not a mobile number"),
    ],
)
def test_a_permanent_error_fails_at_once_with_the_reason(
    outbox, twilio, fake_twilio, now, code, reason
):
    fake_twilio.refuse("+886912000111", code=code)
    [bad] = outbox.queue(to="+886912000111")
    [good] = outbox.queue(key=f"other:{outbox.shop_id}")

    result = dispatch(outbox, twilio, now)
    later = dispatch(outbox, twilio, now + timedelta(days=1))

    assert (result.sent, result.failed, result.retried) == (1, 1, 0)
    assert later.sent == later.failed == 0
    row = outbox.row(bad)
    assert row.status is MessageStatus.FAILED
    assert row.error_code == code and reason in row.error_message
    assert row.attempts == 1
    assert outbox.row(good).status is MessageStatus.SENT
    assert [f["To"] for f in fake_twilio.posts] == ["+886912000111", "+886912345678"]


def test_a_message_waits_until_not_before(outbox, twilio, fake_twilio, now):
    morning = now + timedelta(hours=9)
    [message_id] = outbox.queue(not_before=morning)

    night = dispatch(outbox, twilio, now)
    next_day = dispatch(outbox, twilio, morning)

    assert (night.sent, next_day.sent) == (0, 1)
    assert outbox.row(message_id).sent_at == morning


def test_wrong_credentials_stop_the_run_and_keep_every_message_queued(outbox, fake_twilio, now):
    ids = outbox.queue(3)
    with TwilioTransport(fake_twilio.params(auth_token="not-the-token")) as wrong:
        result = dispatch(outbox, wrong, now)

    assert result.stopped is not None and "20003" in result.stopped
    assert result.sent == result.failed == 0
    assert len(fake_twilio.received) == 1  # one try, not one per message
    rows = [outbox.row(i) for i in ids]
    assert {r.status for r in rows} == {MessageStatus.QUEUED}
    assert {r.attempts for r in rows} == {0}


def test_an_unreachable_twilio_is_retried(outbox, fake_twilio, now):
    [message_id] = outbox.queue()
    params = fake_twilio.params(api_base_url="http://127.0.0.1:9")  # nothing listens there
    with TwilioTransport(params) as unreachable:
        result = dispatch(outbox, unreachable, now)

    assert result.retried == 1
    row = outbox.row(message_id)
    assert row.status is MessageStatus.QUEUED and "cannot reach Twilio" in row.error_message


def test_a_limit_bounds_one_run(outbox, twilio, fake_twilio, now):
    outbox.queue(5)
    assert dispatch(outbox, twilio, now, limit=2).sent == 2
    assert dispatch(outbox, twilio, now).sent == 3


def test_backoff_never_exceeds_the_longest_wait():
    rng = random.Random(3)
    params = DispatchParams(retry_base=timedelta(seconds=10), retry_max=timedelta(minutes=5))
    for attempts in range(1, 200):
        wait = backoff(attempts, params, rng)
        assert timedelta(0) < wait <= timedelta(minutes=5)


def test_a_second_dispatcher_never_sends_a_message_the_first_is_sending(outbox, fake_twilio, now):
    """While A is in the middle of sending message 1, B runs from start to end."""
    first, second = outbox.queue(2)
    seen_by_b = []

    class Interleaving:
        name = "twilio"

        def __init__(self, inner):
            self.inner = inner
            self.nested = False

        def send(self, **fields):
            if not self.nested:
                self.nested = True
                seen_by_b.append(dispatch(outbox, self.inner, now))  # B, mid-send of A
            return self.inner.send(**fields)

    with TwilioTransport(fake_twilio.params()) as transport:
        a = dispatch(outbox, Interleaving(transport), now)

    [b] = seen_by_b
    assert a.sent + b.sent == 2  # A claimed its chunk first: B finds nothing of it to send
    bodies = [form["Body"] for form in fake_twilio.posts]
    assert sorted(bodies) == sorted([outbox.row(first).body, outbox.row(second).body])
    assert {outbox.row(i).status for i in (first, second)} == {MessageStatus.SENT}
