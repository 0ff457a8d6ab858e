"""A send interrupted mid-way is settled by asking the provider, never re-sent blindly."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlmodel import Session

from replenish.db.models import MessageStatus
from replenish.db.queries.messages import record_status
from replenish.sms import ConsoleTransport, DispatchParams, dispatch_outbox
from replenish.sms.twilio import TwilioTransport

PARAMS = DispatchParams(stuck_after=timedelta(minutes=10))
LATER = timedelta(minutes=11)


class Crash(Exception):
    """The process dying between two lines."""


class CrashAfterSend:
    """Hands the text to the provider, then 'dies' before the dispatcher can record it."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name

    def send(self, **fields):
        self.inner.send(**fields)
        raise Crash


class CrashBeforeSend:
    """Dies after the claim, before the request leaves."""

    name = "twilio"

    def send(self, **fields):
        raise Crash


def dispatch(outbox, transport, now, **kwargs):
    kwargs.setdefault("params", PARAMS)
    return dispatch_outbox(
        engine=outbox.engine,
        transport=transport,
        now=now,
        shop_id=outbox.shop_id,
        rng=random.Random(5),
        **kwargs,
    )


def test_a_crash_after_twilio_took_the_text_does_not_send_it_again(
    outbox, twilio, fake_twilio, now
):
    [message_id] = outbox.queue()
    with pytest.raises(Crash):
        dispatch(outbox, CrashAfterSend(twilio), now)
    stuck = outbox.row(message_id)
    assert stuck.status is MessageStatus.SENDING and stuck.provider_sid is None

    too_soon = dispatch(outbox, twilio, now + timedelta(minutes=5))
    assert too_soon.reconciled == too_soon.sent == 0
    assert outbox.row(message_id).status is MessageStatus.SENDING

    restart = dispatch(outbox, twilio, now + LATER)

    assert restart.reconciled == 1 and restart.sent == 0
    assert len(fake_twilio.posts) == 1
    row = outbox.row(message_id)
    assert row.status is MessageStatus.SENT
    assert row.provider_sid == fake_twilio.messages[0]["sid"]
    assert row.attempts == 1


def test_a_crash_before_the_request_left_sends_the_text_once_after_the_restart(
    outbox, twilio, fake_twilio, now
):
    [message_id] = outbox.queue()
    with pytest.raises(Crash):
        dispatch(outbox, CrashBeforeSend(), now)

    restart = dispatch(outbox, twilio, now + LATER)

    assert (restart.retried, restart.sent) == (1, 1)  # Twilio has none: queued again, sent
    assert len(fake_twilio.posts) == 1
    row = outbox.row(message_id)
    assert row.status is MessageStatus.SENT and row.attempts == 2


def test_a_console_send_cut_short_goes_to_the_owner_for_review(outbox, now):
    [message_id] = outbox.queue()
    console = ConsoleTransport(start=1)
    with pytest.raises(Crash):
        dispatch(outbox, CrashAfterSend(console), now)

    restart = dispatch(outbox, console, now + LATER)

    assert (restart.review, restart.sent) == (1, 0)
    row = outbox.row(message_id)
    assert row.status is MessageStatus.REVIEW
    assert "cannot tell whether it went out" in row.error_message


def test_two_texts_twilio_could_match_send_the_row_to_review(outbox, twilio, fake_twilio, now):
    [message_id] = outbox.queue(body="Your rice arrives Thu 17:00-19:00")
    twilio.send(to="+886912345678", body="Your rice arrives Thu 17:00-19:00", idempotency_key="x")
    with pytest.raises(Crash):
        dispatch(outbox, CrashAfterSend(twilio), now)

    restart = dispatch(outbox, twilio, now + LATER)

    assert restart.review == 1
    row = outbox.row(message_id)
    assert row.status is MessageStatus.REVIEW and "2 messages with this text" in row.error_message
    assert len(fake_twilio.posts) == 2


def test_a_message_another_row_already_owns_is_not_adopted(outbox, twilio, fake_twilio, now):
    body = "Wang's Rice: how was today's delivery? Reply 1-5"
    [done] = outbox.queue(body=body, key=f"followup:a:{outbox.shop_id}")
    dispatch(outbox, twilio, now)
    [stuck] = outbox.queue(body=body, key=f"followup:b:{outbox.shop_id}")
    with pytest.raises(Crash):
        dispatch(outbox, CrashBeforeSend(), now)

    restart = dispatch(outbox, twilio, now + LATER)

    assert (restart.reconciled, restart.sent) == (0, 1)
    assert outbox.row(stuck).provider_sid != outbox.row(done).provider_sid
    assert len(fake_twilio.posts) == 2


def test_no_answer_in_time_is_settled_by_asking_twilio_not_by_sending_again(
    outbox, fake_twilio, now
):
    [message_id] = outbox.queue()
    fake_twilio.hang_next(1, seconds=2, create=True)
    with TwilioTransport(fake_twilio.params(timeout_seconds=0.3)) as impatient:
        first = dispatch(outbox, impatient, now)
        assert first.sent == first.retried == 0 and first.problems
        assert outbox.row(message_id).status is MessageStatus.SENDING

        restart = dispatch(outbox, impatient, now + LATER)

    assert restart.reconciled == 1
    assert len(fake_twilio.posts) == 1
    assert outbox.row(message_id).provider_sid == fake_twilio.messages[0]["sid"]


def test_a_status_callback_settles_a_stuck_send_by_its_key(outbox, twilio, fake_twilio, now):
    [message_id] = outbox.queue(key=f"prompt:t7:{outbox.shop_id}")
    with pytest.raises(Crash):
        dispatch(outbox, CrashAfterSend(twilio), now)
    [posted] = fake_twilio.posts
    sid = fake_twilio.messages[0]["sid"]
    assert posted["StatusCallback"].endswith(f"key=prompt%3At7%3A{outbox.shop_id}")

    with Session(outbox.engine) as session:
        record_status(
            session=session,
            provider_sid=sid,
            status="delivered",
            idempotency_key=f"prompt:t7:{outbox.shop_id}",
            now=now + timedelta(seconds=5),
        )
        session.commit()
    restart = dispatch(outbox, twilio, now + LATER)

    assert restart.reconciled == restart.sent == 0
    row = outbox.row(message_id)
    assert row.status is MessageStatus.DELIVERED and row.provider_sid == sid
    assert len(fake_twilio.posts) == 1


def test_a_lookup_that_fails_leaves_the_row_for_the_next_run(outbox, twilio, fake_twilio, now):
    [message_id] = outbox.queue()
    with pytest.raises(Crash):
        dispatch(outbox, CrashAfterSend(twilio), now)
    fake_twilio.fail_next(1, status=503)

    trouble = dispatch(outbox, twilio, now + LATER)
    assert trouble.reconciled == 0 and "lookup failed" in trouble.problems[0]
    assert outbox.row(message_id).status is MessageStatus.SENDING

    assert dispatch(outbox, twilio, now + 2 * LATER).reconciled == 1
    assert len(fake_twilio.posts) == 1


def test_a_stuck_send_out_of_attempts_fails_instead_of_going_out_again(outbox, twilio, now):
    [message_id] = outbox.queue()
    params = DispatchParams(max_attempts=1, stuck_after=timedelta(minutes=10))
    with pytest.raises(Crash):
        dispatch(outbox, CrashBeforeSend(), now, params=params)

    restart = dispatch(outbox, twilio, now + LATER, params=params)

    assert restart.failed == 1
    row = outbox.row(message_id)
    assert row.status is MessageStatus.FAILED and "gave up after 1 attempts" in row.error_message
