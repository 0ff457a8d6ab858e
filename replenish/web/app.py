"""The web app. For now: the morning view of who runs out first, and its JSON.

Sign-in, the owner's pages and the courier's pages come with the web app issue; until
then ``replenish run`` listens on 127.0.0.1 only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from replenish.conversation.pending import InboundWorker, process_pending
from replenish.db import make_engine
from replenish.db.models import JobRun, JobStatus, Shop
from replenish.db.queries.forecasts import list_forecasts
from replenish.settings import Settings
from replenish.web.courier import router as courier_router
from replenish.web.twilio import router as twilio_router

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # texts stored by the webhook but not applied before the last stop
    await run_in_threadpool(process_pending, engine=app.state.engine, settings=app.state.settings)
    worker = InboundWorker(engine=app.state.engine, settings=app.state.settings)
    worker.start()
    app.state.inbound_worker = worker
    try:
        yield
    finally:
        worker.stop()


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    app = FastAPI(title="replenish", version="0.1.0", lifespan=_lifespan)
    app.state.engine = engine or make_engine(settings.database_url)
    app.state.settings = settings
    app.include_router(twilio_router)  # POST /twilio/sms, /twilio/status
    app.include_router(courier_router)  # /courier/{signed link}: a courier's route

    def first_shop(session: Session) -> Shop:
        shop = session.exec(select(Shop).order_by(col(Shop.id))).first()
        if shop is None:
            raise HTTPException(503, "no shop yet: run `replenish init`")
        return shop

    @app.get("/api/v1/forecasts")
    def forecasts(session: SessionDep) -> list[dict[str, Any]]:
        """Every tank's latest forecast, soonest order-by date first."""
        shop = first_shop(session)
        return [_forecast_json(f, c, p) for f, c, _, p in
                list_forecasts(session=session, shop_id=shop.id)]

    @app.get("/", response_class=HTMLResponse)
    def today(request: Request, session: SessionDep) -> HTMLResponse:
        shop = first_shop(session)
        local_today = datetime.now(UTC).astimezone(ZoneInfo(shop.timezone)).date()
        rows = list_forecasts(session=session, shop_id=shop.id)
        since = datetime.now(UTC) - timedelta(days=1)
        failed = session.exec(select(JobRun).where(
            JobRun.status == JobStatus.FAILED, col(JobRun.started_at) >= since)
            .order_by(col(JobRun.started_at).desc()).limit(10)).all()
        return TEMPLATES.TemplateResponse(request, "today.html", {
            "shop": shop, "today": local_today, "rows": rows, "failed_jobs": failed,
            "tz": ZoneInfo(shop.timezone)})

    return app


def _forecast_json(f: Any, c: Any, p: Any) -> dict[str, Any]:
    return {
        "customer_id": c.id, "customer": c.name, "tank_id": f.tank_id, "product": p.key,
        "unit": p.unit.value, "level_now": f.level_now, "rate_per_day": f.rate,
        "runout_p10": f.runout_p10, "runout_p50": f.runout_p50, "runout_p90": f.runout_p90,
        "order_by": f.order_by, "drop_size": f.drop_size, "as_of": f.as_of,
    }
