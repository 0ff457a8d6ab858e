from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from jobs.conversation import followups, nightly_plan, reminders, send_outbox
from replenish.db import make_engine, upgrade_database
from replenish.db.models import OutboundMessage, Proposal, ShopCreate, TankForecast
from replenish.db.models.messages import MessageStatus
from replenish.db.queries import create_shop
from replenish.demo import seed_demo

SEEDED = datetime(2026, 11, 24, 2, tzinfo=UTC)  # the demo's history ends here
NIGHT = SEEDED + timedelta(days=14, hours=11)  # 21:00 in Tainan, two weeks on
MORNING = NIGHT + timedelta(hours=11)  # 08:00 the next day


def two_shops(backend, settings):
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    with Session(engine) as session:
        for name, households in (("林記米行", 60), ("Dave's Water", 20)):
            shop = create_shop(session=session, products=settings.products,
                               shop_in=ShopCreate.from_params(settings.shop, name=name))
            seed_demo(session=session, shop=shop, settings=settings, households=households,
                      now=SEEDED, seed=20261124 + households)
        session.commit()
    return url, engine


def test_the_nightly_plan_forecasts_and_proposes_once_even_when_run_twice(backend, settings):
    url, engine = two_shops(backend, settings)
    first = nightly_plan(database_url=url, now=NIGHT, settings=settings)
    with Session(engine) as session:
        proposals = len(session.exec(select(Proposal)).all())
        queued = len(session.exec(select(OutboundMessage)).all())
        forecasts = session.exec(select(TankForecast)).all()
    second = nightly_plan(database_url=url, now=NIGHT, settings=settings)
    with Session(engine) as session:
        assert len(session.exec(select(Proposal)).all()) == proposals
        assert len(session.exec(select(OutboundMessage)).all()) == queued
    assert len(first) == len(second) == 2
    assert len(forecasts) == 80 and all(f.as_of == NIGHT.date() for f in forecasts)
    assert proposals > 0 and queued > 0
    engine.dispose()


def test_prompts_planned_at_night_leave_the_outbox_in_the_morning(backend, settings):
    url, engine = two_shops(backend, settings)
    nightly_plan(database_url=url, now=NIGHT, settings=settings)
    assert send_outbox(database_url=url, now=NIGHT + timedelta(minutes=5),
                       settings=settings).sent == 0  # quiet hours
    sent = send_outbox(database_url=url, now=MORNING, settings=settings).sent
    with Session(engine) as session:
        statuses = {m.status for m in session.exec(select(OutboundMessage))}
    assert sent > 0 and statuses == {MessageStatus.SENT}
    reminders(database_url=url, now=MORNING, settings=settings)
    followups(database_url=url, now=MORNING, settings=settings)
    engine.dispose()
