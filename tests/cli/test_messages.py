import json

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from replenish.cli import app
from replenish.db import make_engine
from replenish.db.models import MessageStatus, OutboundMessage
from replenish.db.queries.messages import queue_message
from tests.fakes.twilio_server import FakeTwilio

runner = CliRunner()


@pytest.fixture
def shop_db(backend):
    """An initialised shop (SQLite and PostgreSQL); returns how to run the CLI on it."""
    url = backend.new_database()
    env = {"REPLENISH_DATABASE_URL": url}
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    engine = make_engine(url)

    def run(*args, **extra_env):
        return runner.invoke(app, list(args), env=env | extra_env)

    def queue(key, body="Wang's Rice: 10 kg on Thu? Reply 1 yes", to="+886912345678"):
        with Session(engine) as session:
            message = queue_message(
                session=session,
                shop_id=1,
                to_phone=to,
                body=body,
                kind="prompt",
                idempotency_key=key,
            )
            session.commit()
            return message.id

    def set_status(message_id, status, note=None):
        with Session(engine) as session:
            message = session.get(OutboundMessage, message_id)
            message.status, message.error_message = status, note
            session.commit()

    run.queue, run.set_status = queue, set_status
    yield run
    engine.dispose()


def test_an_empty_outbox_says_so(shop_db):
    result = shop_db("messages")
    assert result.exit_code == 0 and result.output.strip() == "no messages"


def test_the_outbox_lists_each_text_with_its_state(shop_db):
    shop_db.queue("a")
    shop_db.queue("b", body="米快吃完了嗎？週四送10公斤可以嗎？")

    result = shop_db("messages")

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:4] == ["id", "created", "status", "kind"]
    assert len(lines) == 3 and "queued" in lines[1] and "米快吃完了嗎" in lines[1]


def test_the_outbox_filters_by_status_and_prints_json(shop_db):
    a = shop_db.queue("a")
    b = shop_db.queue("b", to="+886912000111")
    shop_db.set_status(b, MessageStatus.FAILED, "21211: invalid 'To' phone number")

    failed = json.loads(shop_db("messages", "--status", "failed", "--json").output)

    assert [m["id"] for m in failed] == [b]
    assert failed[0]["error_message"] == "21211: invalid 'To' phone number"
    assert failed[0]["status"] == "failed" and failed[0]["to_phone"] == "+886912000111"
    everything = json.loads(shop_db("messages", "--json").output)
    assert [m["id"] for m in everything] == [b, a]


def test_dispatch_sends_due_texts_through_the_console_by_default(shop_db):
    shop_db.queue("a", body="您好，米快沒了")

    result = shop_db("messages", "dispatch")

    assert result.exit_code == 0, result.output
    assert "text to +886912345678: 您好，米快沒了" in result.output
    assert "console: sent 1" in result.output
    [row] = json.loads(shop_db("messages", "--json").output)
    assert row["status"] == "sent" and row["provider_sid"].startswith("CONSOLE-")
    again = shop_db("messages", "dispatch", "--json")
    assert json.loads(again.output)["sent"] == 0


def test_dispatch_sends_through_twilio_when_the_account_is_set(shop_db):
    shop_db.queue("a")
    with FakeTwilio() as twilio:
        env = {
            "REPLENISH_SMS__TWILIO__ACCOUNT_SID": twilio.account_sid,
            "REPLENISH_SMS__TWILIO__AUTH_TOKEN": twilio.auth_token,
            "REPLENISH_SMS__TWILIO__FROM_NUMBER": "+15005550006",
            "REPLENISH_SMS__TWILIO__API_BASE_URL": twilio.base_url,
            "REPLENISH_SMS__PUBLIC_URL": "https://rice.example.com",
        }
        result = shop_db("messages", "dispatch", "--json", **env)
        wrong = shop_db("messages", "dispatch", **env)
        shop_db.queue("b")
        refused = shop_db(
            "messages", "dispatch", **(env | {"REPLENISH_SMS__TWILIO__AUTH_TOKEN": "wrong"})
        )

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["transport"] == "twilio" and summary["sent"] == 1
    assert wrong.exit_code == 0 and "twilio: sent 0" in wrong.output
    assert twilio.posts[0]["StatusCallback"] == "https://rice.example.com/twilio/status?key=a"
    assert refused.exit_code == 1 and "20003" in refused.output


def test_the_owner_resends_or_closes_a_text_in_review(shop_db):
    a = shop_db.queue("a")
    b = shop_db.queue("b")
    for message_id in (a, b):
        shop_db.set_status(message_id, MessageStatus.REVIEW, "cannot tell whether it went out")

    resent = shop_db("messages", "resend", str(a))
    closed = shop_db("messages", "mark-sent", str(b))

    assert resent.exit_code == 0 and "queued again" in resent.output
    assert closed.exit_code == 0
    rows = {m["id"]: m["status"] for m in json.loads(shop_db("messages", "--json").output)}
    assert rows == {a: "queued", b: "sent"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("messages", "resend", "999"), "no message 999"),
        (("messages", "mark-sent", "1"), "only a message in review"),
        (("messages", "--status", "lost"), "Invalid value for '--status'"),
    ],
)
def test_mistakes_are_explained(shop_db, args, message):
    shop_db.queue("a")
    result = shop_db(*args)
    assert result.exit_code == 2
    assert message in result.output
