"""Stored texts applied later, in batches: one transaction for many texts, in arrival order,
a failing text kept for the owner without costing the others, each text applied once."""

import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from replenish.conversation import pending
from replenish.conversation.pending import (
    InboundWorker,
    WriteTurns,
    apply_batch,
    apply_stored,
    process_pending,
)
from replenish.core.conversation import ProposalState
from replenish.core.types import DeliveryMode, DropStatus, TankShape
from replenish.db import make_engine, upgrade_database
from replenish.db.models import (
    Customer,
    CustomerCreate,
    Drop,
    InboundMessage,
    OutboundMessage,
    Proposal,
    ShopCreate,
    Tank,
    TankCreate,
)
from replenish.db.queries import add_tank, create_customer, create_shop, get_product
from replenish.db.queries.inbound import record_inbound

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday, 10:00 in Taipei
THURSDAY = date(2026, 11, 26)


def stored_text(backend, settings, sid):
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    with Session(engine) as session:
        shop = create_shop(session=session, shop_in=ShopCreate.from_params(settings.shop),
                           products=settings.products)
        record_inbound(session=session, shop_id=shop.id, provider_sid=sid,
                       from_phone="+886912000777", to_phone="+886223456789", body="hello?",
                       received_at=datetime.now(UTC))
        session.commit()
    return url, engine


def processed(engine, sid):
    with Session(engine) as session:
        row = session.exec(select(InboundMessage).where(InboundMessage.provider_sid == sid)).one()
        return row.processed_at is not None


def test_a_stored_text_is_applied_once_by_process_pending(backend, settings):
    url, engine = stored_text(backend, settings, "SM" + "a" * 32)
    assert process_pending(engine=engine, settings=settings) == 1
    assert processed(engine, "SM" + "a" * 32)
    assert process_pending(engine=engine, settings=settings) == 0
    engine.dispose()


class Town:
    """A shop whose customers each have a 40 kg rice tank and a proposed 10 kg drop."""

    def __init__(self, backend, settings, customers=3):
        self.settings = settings
        self.engine = make_engine(url := backend.new_database())
        upgrade_database(url)
        self.phones: list[str] = []
        with Session(self.engine) as session:
            shop = create_shop(session=session, shop_in=ShopCreate.from_params(settings.shop),
                               products=settings.products)
            rice = get_product(session=session, shop_id=shop.id, key="rice")
            for n in range(customers):
                who = create_customer(session=session, shop=shop, customer_in=CustomerCreate(
                    name=f"客戶{n}", phone=f"+88691200{n:04d}"))
                tank = add_tank(session=session, customer=who, tank_in=TankCreate(
                    product_id=rice.id, shape=TankShape.CAPACITY, capacity=40.0))
                session.add(Proposal(shop_id=shop.id, customer_id=who.id, tank_id=tank.id,
                                     product_id=rice.id, mode=DeliveryMode.CONFIRM,
                                     state=ProposalState.PROPOSED, drop_on=THURSDAY,
                                     quantity=10.0, cycle_key=f"tank{tank.id}:{THURSDAY}"))
                self.phones.append(who.phone)
            session.commit()
            self.shop_id = shop.id
        self._sids = 0

    def text(self, customer: int, body: str) -> int:
        """Store a text as the webhook does (not applied); its id."""
        self._sids += 1
        with Session(self.engine) as session:
            inbound, _ = record_inbound(
                session=session, shop_id=self.shop_id, provider_sid=f"SM{self._sids:032x}",
                from_phone=self.phones[customer], to_phone="+15005550006", body=body,
                received_at=NOW)
            session.commit()
            assert inbound.id is not None
            return inbound.id

    def proposal(self, customer: int) -> Proposal:
        with Session(self.engine) as session:
            return session.exec(select(Proposal).where(Proposal.shop_id == self.shop_id)
                                .order_by(Proposal.id)).all()[customer]

    def rows(self, model, **where):
        with Session(self.engine) as session:
            statement = select(model)
            for name, value in where.items():
                statement = statement.where(getattr(model, name) == value)
            return list(session.exec(statement).all())

    def commits(self) -> list[int]:
        """A counter of the commits made from now on (``len()`` of the list)."""
        seen: list[int] = []
        event.listen(self.engine, "commit", lambda connection: seen.append(1))
        return seen


@pytest.fixture
def town(backend, settings):
    town = Town(backend, settings)
    yield town
    town.engine.dispose()


def test_a_batch_of_texts_is_applied_in_one_transaction(town):
    ids = [town.text(n, "好") for n in range(3)]
    commits = town.commits()

    results = apply_batch(engine=town.engine, settings=town.settings,
                          items=[(i, None) for i in ids], now=NOW)

    assert len(commits) == 1
    assert [results[i].message for i in ids] == ["booked"] * 3
    for n in range(3):
        assert town.proposal(n).state is ProposalState.BOOKED
    assert len(town.rows(Drop, status=DropStatus.PLANNED)) == 3
    assert len(town.rows(OutboundMessage)) == 3
    assert all(row.handled and row.processed_at is not None
               for row in town.rows(InboundMessage))


def test_texts_of_one_customer_are_applied_in_arrival_order(town):
    yes, no = town.text(0, "好"), town.text(0, "3")  # "3": skip it after all

    results = apply_batch(engine=town.engine, settings=town.settings,
                          items=[(no, None), (yes, None)], now=NOW)  # handed over out of order

    assert (results[yes].message, results[no].message) == ("booked", "declined")
    proposal = town.proposal(0)
    assert proposal.state is ProposalState.DECLINED
    [drop] = town.rows(Drop, id=proposal.drop_id)
    assert drop.status is DropStatus.CANCELLED


def test_a_text_that_fails_is_kept_for_the_owner_and_the_others_of_its_batch_apply(town):
    with Session(town.engine) as session:  # the second tank was re-measured: 10 kg won't fit
        tank = session.get(Tank, town.proposal(1).tank_id)
        tank.capacity, small_tank = 6.0, tank.id
        session.add(tank)
        session.commit()
    ids = [town.text(n, "好") for n in range(3)]

    results = apply_batch(engine=town.engine, settings=town.settings,
                          items=[(i, None) for i in ids], now=NOW)

    assert results[ids[1]] is None
    assert results[ids[0]].message == results[ids[2]].message == "booked"
    [kept] = town.rows(InboundMessage, id=ids[1])
    assert not kept.handled and kept.processed_at is not None  # the owner's; not tried again
    assert town.proposal(1).state is ProposalState.PROPOSED
    assert town.rows(Drop, tank_id=small_tank) == []
    assert town.proposal(0).state is town.proposal(2).state is ProposalState.BOOKED
    assert len(town.rows(OutboundMessage)) == 2  # one answer each, none doubled by the retry
    assert len(town.rows(Drop)) == 2
    assert process_pending(engine=town.engine, settings=town.settings) == 0


def test_a_text_the_database_could_not_take_is_tried_again_not_parked(town, monkeypatch):
    from sqlalchemy.exc import OperationalError as DatabaseBusy

    real = pending.apply_claimed
    calls = []

    def busy_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseBusy("UPDATE ...", {}, Exception("database is locked"))
        return real(**kwargs)

    monkeypatch.setattr(pending, "apply_claimed", busy_once)
    stored = town.text(0, "好")

    assert apply_stored(engine=town.engine, settings=town.settings, inbound_id=stored,
                        now=NOW) is None
    [waiting] = town.rows(InboundMessage, id=stored)
    assert waiting.processed_at is None and not waiting.handled  # not the owner's yet

    assert process_pending(engine=town.engine, settings=town.settings) == 1  # the sweep
    assert town.proposal(0).state is ProposalState.BOOKED


def test_a_batch_that_cannot_commit_is_applied_text_by_text(town, monkeypatch):
    class FailsOnce(Session):
        failures = 1

        def commit(self):
            if FailsOnce.failures:
                FailsOnce.failures -= 1
                raise OperationalError("COMMIT", {}, Exception("disk I/O error"))
            super().commit()

    monkeypatch.setattr(pending, "Session", FailsOnce)
    ids = [town.text(n, "好") for n in range(3)]

    results = apply_batch(engine=town.engine, settings=town.settings,
                          items=[(i, None) for i in ids], now=NOW)

    assert [results[i].message for i in ids] == ["booked"] * 3
    assert len(town.rows(Drop)) == len(town.rows(OutboundMessage)) == 3


def test_a_text_is_applied_once_however_often_it_is_handed_over(town):
    text = town.text(0, "好")
    first = apply_stored(engine=town.engine, settings=town.settings, inbound_id=text, now=NOW)
    again = apply_batch(engine=town.engine, settings=town.settings,
                        items=[(text, None), (text, None)], now=NOW)
    assert first is not None and first.message == "booked"
    assert again == {text: None}
    assert len(town.rows(Drop)) == len(town.rows(OutboundMessage)) == 1
    assert apply_stored(engine=town.engine, settings=town.settings, inbound_id=10**6) is None


def test_a_keyword_twilio_answered_is_applied_without_a_second_answer(town):
    stop, other = town.text(0, "STOP"), town.text(1, "STOP")
    apply_batch(engine=town.engine, settings=town.settings,
                items=[(stop, "STOP"), (other, None)], now=NOW)
    [answer] = town.rows(OutboundMessage)
    assert answer.to_phone == town.phones[1]


def test_a_keyword_twilio_answered_is_not_answered_again_when_applied_after_a_restart(town):
    from replenish.db.queries.inbound import store_inbound

    with town.engine.begin() as connection:  # the webhook stored it; then the power went
        stored = store_inbound(connection=connection, provider_sid="SM-stop-restart",
                               from_phone=town.phones[0], to_phone="+15005550006",
                               body="STOP", received_at=NOW, opt_out_type="STOP")
    assert town.rows(InboundMessage, id=stored)[0].opt_out_type == "STOP"

    assert process_pending(engine=town.engine, settings=town.settings) == 1  # at start

    assert town.rows(OutboundMessage) == []  # Twilio answered it; ours would get 21610
    assert town.rows(Customer, phone=town.phones[0])[0].opted_out


class StoresAlwaysWaiting(WriteTurns):
    def store_waiting(self) -> bool:
        return True


def test_with_a_store_waiting_the_worker_commits_after_each_text(town):
    ids = [town.text(n, "好") for n in range(3)] + [town.text(0, "3")]
    commits = town.commits()

    results = apply_batch(engine=town.engine, settings=town.settings,
                          items=[(i, None) for i in ids], now=NOW, turns=StoresAlwaysWaiting())

    assert len(commits) == 4  # the store goes first between two texts
    assert [results[i].message for i in ids] == ["booked"] * 3 + ["declined"]
    assert town.proposal(0).state is ProposalState.DECLINED
    assert all(row.processed_at is not None for row in town.rows(InboundMessage))


def test_a_store_goes_before_the_workers_next_text():
    turns, order = WriteTurns(), []
    with turns.apply():  # the worker applies a text
        def store() -> None:
            with turns.store():
                order.append("store")

        storing = threading.Thread(target=store)
        storing.start()
        for _ in range(200):
            if turns.store_waiting():
                break
            time.sleep(0.005)
        assert turns.store_waiting()
    with turns.apply():  # its next text waits for the store
        order.append("worker")
    storing.join(5)
    assert order == ["store", "worker"]


def test_the_worker_applies_what_is_submitted_in_batches(town):
    worker = InboundWorker(engine=town.engine, settings=town.settings, linger=0.05)
    worker.start()
    try:
        ids = [town.text(n, "好") for n in range(3)]
        for inbound_id in ids:
            worker.submit(inbound_id)
        worker.drain()
    finally:
        worker.stop()
    assert all(row.handled for row in town.rows(InboundMessage))
    assert len(town.rows(Drop)) == 3


def test_on_sqlite_the_worker_checkpoints_the_log_itself_between_batches(town, monkeypatch,
                                                                         caplog):
    executed: list[str] = []
    real = town.engine.raw_connection

    class Cursor:
        def __init__(self, cursor):
            self.cursor = cursor

        def execute(self, sql, *args):
            executed.append(sql)
            return self.cursor.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.cursor, name)

    class Raw:
        def __init__(self, raw):
            self.raw = raw

        def cursor(self):
            return Cursor(self.raw.cursor())

        def __getattr__(self, name):
            return getattr(self.raw, name)

    monkeypatch.setattr(town.engine, "raw_connection", lambda: Raw(real()))  # (all SQL)
    worker = InboundWorker(engine=town.engine, settings=town.settings, linger=0)
    worker.start()
    try:
        worker.submit(town.text(0, "好"))
        worker.drain()
    finally:
        worker.stop()
    sqlite = town.engine.dialect.name == "sqlite"
    checkpoints = [sql for sql in executed if "checkpoint" in sql]
    assert checkpoints == (["PRAGMA wal_checkpoint(PASSIVE)"] if sqlite else [])
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert town.proposal(0).state is ProposalState.BOOKED
