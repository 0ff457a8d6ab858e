"""The nightly forecast job: load -> core -> save, for every shop in the database.

Thin on purpose: the arguments are a URL and a moment, not live objects, so that the job
can run in another process or on another machine later.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from replenish.db import make_engine
from replenish.db.models import Shop
from replenish.db.queries.nightly import RefreshResult, refresh_forecasts
from replenish.settings import Settings

__all__ = ["nightly_forecast"]


def nightly_forecast(*, database_url: str, now: datetime,
                     settings: Settings) -> dict[int, RefreshResult]:
    """Refresh every tank's forecast of every shop as of ``now``; one commit per shop."""
    engine = make_engine(database_url)
    results: dict[int, RefreshResult] = {}
    try:
        with Session(engine) as session:
            shop_ids = session.exec(select(Shop.id).order_by(col(Shop.id))).all()
        for shop_id in shop_ids:
            with Session(engine) as session:
                shop = session.get(Shop, shop_id)
                assert shop is not None and shop.id is not None
                results[shop.id] = refresh_forecasts(session=session, shop=shop, now=now,
                                                     settings=settings)
                session.commit()
    finally:
        engine.dispose()
    return results
