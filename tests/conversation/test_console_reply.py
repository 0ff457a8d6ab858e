"""``replenish messages reply``: the owner types a customer's answer (console transport)."""

import json
from datetime import UTC, date, datetime

import time_machine
from sqlmodel import Session, select
from typer.testing import CliRunner

from replenish.cli import app
from replenish.core.conversation import ProposalState
from replenish.core.types import DeliveryMode, DropStatus, TankShape
from replenish.db import make_engine
from replenish.db.models import CustomerCreate, Drop, InboundMessage, Proposal, Shop, TankCreate
from replenish.db.queries import add_tank, create_customer, get_product

runner = CliRunner()
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday, 10:00 in Taipei


def shop_with_a_proposal(backend):
    url = backend.new_database()
    env = {"REPLENISH_DATABASE_URL": url}
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    engine = make_engine(url)
    with Session(engine) as session:
        shop = session.exec(select(Shop)).one()
        who = create_customer(session=session, shop=shop,
                              customer_in=CustomerCreate(name="王太太", phone="0912345678"))
        rice = get_product(session=session, shop_id=shop.id, key="rice")
        tank = add_tank(session=session, customer=who, tank_in=TankCreate(
            product_id=rice.id, shape=TankShape.CAPACITY, capacity=40.0))
        session.add(Proposal(shop_id=shop.id, customer_id=who.id, tank_id=tank.id,
                             product_id=rice.id, mode=DeliveryMode.CONFIRM,
                             state=ProposalState.PROPOSED, drop_on=date(2026, 11, 26),
                             quantity=10.0, cycle_key="tank1:2026-11-26"))
        session.commit()
        return engine, env, who.id


def test_a_typed_yes_books_the_drop_and_shows_the_confirmation(backend):
    engine, env, customer_id = shop_with_a_proposal(backend)
    with time_machine.travel(NOW, tick=False):
        result = runner.invoke(app, ["messages", "reply", "--customer", str(customer_id),
                                     "好喔 這次要15公斤"], env=env)
    assert result.exit_code == 0, result.output
    assert "understood: confirm · 15 kg" in result.output
    assert "will send: 好的!週四(11/26)送15公斤米到府" in result.output
    with Session(engine) as session:
        drop = session.exec(select(Drop)).one()
        assert (drop.status, drop.quantity) == (DropStatus.PLANNED, 15)
        inbound = session.exec(select(InboundMessage)).one()
        assert inbound.provider_sid.startswith("CONSOLE-IN-") and inbound.handled
    engine.dispose()


def test_an_unknown_typed_reply_waits_in_the_inbox(backend):
    engine, env, customer_id = shop_with_a_proposal(backend)
    with time_machine.travel(NOW, tick=False):
        result = runner.invoke(app, ["messages", "reply", "--customer", str(customer_id),
                                     "你們有賣糙米嗎", "--json"], env=env)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["to_inbox"] and out["answer"] == "unknown" and len(out["queued"]) == 1
    engine.dispose()


def test_a_reply_for_no_such_customer_is_refused(backend):
    engine, env, _ = shop_with_a_proposal(backend)
    result = runner.invoke(app, ["messages", "reply", "--customer", "999", "好"], env=env)
    assert result.exit_code == 2 and "no such customer" in result.output
    engine.dispose()
