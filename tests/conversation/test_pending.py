from datetime import UTC, datetime

from sqlmodel import Session, select

from replenish.conversation.pending import process_pending
from replenish.db import make_engine, upgrade_database
from replenish.db.models import InboundMessage, ShopCreate
from replenish.db.queries import create_shop
from replenish.db.queries.messages import record_inbound


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
