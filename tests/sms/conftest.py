"""Fixtures for the sender: a local Twilio, and a database the dispatcher commits to.

The dispatcher commits (that is its point), so these tests cannot run inside the
rolled-back ``session`` of tests/conftest.py. ``outbox_engine`` is a database of its own
per backend and module; each test gets a new shop, and dispatches only that shop.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from replenish.db import make_engine, upgrade_database
from replenish.db.models import MessageKind, OutboundMessage, ShopCreate
from replenish.db.queries import create_shop
from replenish.db.queries.messages import queue_message
from replenish.sms.twilio import TwilioTransport
from tests.fakes.twilio_server import FakeTwilio


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def twilio(fake_twilio: FakeTwilio) -> Iterator[TwilioTransport]:
    """The real Twilio transport, pointed at the local server, with status callbacks on."""
    with TwilioTransport(fake_twilio.params(), public_url="https://shop.example.com") as t:
        yield t


@pytest.fixture(scope="module")
def outbox_engine(backend) -> Iterator[Engine]:
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def shop_id(outbox_engine: Engine, settings) -> int:
    with Session(outbox_engine) as session:
        shop = create_shop(
            session=session,
            shop_in=ShopCreate.from_params(settings.shop, name="Wang's Rice"),
            products=settings.products,
        )
        session.commit()
        assert shop.id is not None
        return shop.id


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Outbox:
    """Queue texts and read them back, each in its own committed transaction."""

    def __init__(self, engine: Engine, shop_id: int) -> None:
        self.engine = engine
        self.shop_id = shop_id

    def queue(self, n: int = 1, *, to: str = "+886912345678", **fields) -> list[int]:
        ids = []
        with Session(self.engine) as session:
            for i in range(n):
                message = queue_message(
                    session=session,
                    shop_id=self.shop_id,
                    to_phone=to,
                    body=fields.get("body", f"Wang's Rice: your rice runs low ({i})"),
                    kind=fields.get("kind", MessageKind.PROMPT),
                    idempotency_key=fields.get("key", f"prompt:{self.shop_id}:{to}:{i}"),
                    not_before=fields.get("not_before"),
                )
                session.flush()
                ids.append(message.id)
            session.commit()
        return ids

    def rows(self) -> list[OutboundMessage]:
        with Session(self.engine) as session:
            statement = (
                select(OutboundMessage)
                .where(OutboundMessage.shop_id == self.shop_id)
                .order_by(OutboundMessage.id)
            )
            return list(session.exec(statement).all())

    def row(self, message_id: int) -> OutboundMessage:
        with Session(self.engine) as session:
            row = session.get(OutboundMessage, message_id)
            assert row is not None
            return row


@pytest.fixture
def outbox(outbox_engine: Engine, shop_id: int) -> Outbox:
    return Outbox(outbox_engine, shop_id)
