from datetime import UTC, datetime

from sqlmodel import Session, select

from jobs.forecast import nightly_forecast
from replenish.db import make_engine, upgrade_database
from replenish.db.models import ShopCreate, TankForecast
from replenish.db.queries import create_shop
from replenish.demo import seed_demo

NIGHT = datetime(2026, 11, 24, 13, tzinfo=UTC)  # 21:00 in Tainan


def test_the_nightly_job_forecasts_every_tank_of_every_shop_and_can_run_twice(backend,
                                                                             settings):
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    with Session(engine) as session:
        for name in ("林記米行", "Dave's Water"):
            shop = create_shop(session=session, products=settings.products,
                               shop_in=ShopCreate.from_params(settings.shop, name=name))
            seed_demo(session=session, shop=shop, settings=settings, households=5,
                      now=NIGHT, seed=len(name))
        session.commit()
    first = nightly_forecast(database_url=url, now=NIGHT, settings=settings)
    second = nightly_forecast(database_url=url, now=NIGHT, settings=settings)
    assert [r.forecast for r in first.values()] == [5, 5]
    assert [r.refolded for r in second.values()] == [0, 0]
    with Session(engine) as session:
        rows = session.exec(select(TankForecast)).all()
        assert len(rows) == 10 and all(r.as_of == NIGHT.date() for r in rows)
    engine.dispose()
