"""``/customers/{id}``: one customer on one page.

Who they are (household, notes and habits), and for each tank a chart of its level
(``replenish.web.chart``: readings, drops, the expected level, tonight's forecast with its
p10–p90 band and the order-by date), its forecast in figures and its drops, planned and
delivered. Below, the text thread both ways, as ``/messages`` shows it. Only the
signed-in user's shop: another shop's customer, or an unknown id, is 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from replenish.conversation.rules import customer_area
from replenish.core.types import DropStatus
from replenish.db.models import (
    Courier,
    Customer,
    HouseholdChange,
    InboundMessage,
    OutboundMessage,
    Product,
    Shop,
    TankForecast,
)
from replenish.db.queries.tanks import list_drops, list_readings, list_tanks
from replenish.settings import Settings
from replenish.web.auth import CurrentUser, owner_page
from replenish.web.chart import ChartDrop, ChartForecast, ChartReading, Labels, at_noon, tank_chart
from replenish.web.pages import TEMPLATES

__all__ = ["router"]

router = APIRouter(tags=["customers"])

HISTORY_DAYS = 120


def _chart_maker(readings: list[ChartReading], drops: list[ChartDrop],
                 forecast: ChartForecast | None, capacity: float, unit: str,
                 now: datetime, tz: ZoneInfo, clip_id: int) -> Callable[..., Markup]:
    """The chart, drawn by the template so that its words come from the catalogs."""

    def draw(summary: str = "", order_by: str = "order by", now_label: str = "now") -> Markup:
        return Markup(tank_chart(  # noqa: S704  (tank_chart escapes every text)
            readings=readings, drops=drops, forecast=forecast, capacity=capacity, unit=unit,
            now=now, tz=tz, days=HISTORY_DAYS,
            labels=Labels(summary=summary, order_by=order_by, now=now_label),
            clip_id=f"plot-{clip_id}"))

    return draw


def _tank(session: Session, shop: Shop, tank: Any, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    product = session.get(Product, tank.product_id)
    forecast = session.get(TankForecast, tank.id)
    # all of the history: the chart starts its line from the last level before its window
    readings = list(list_readings(session=session, tank_id=tank.id or 0))
    drops = list(list_drops(session=session, shop_id=shop.id or 0, tank_id=tank.id))
    since = now - timedelta(days=HISTORY_DAYS)
    capacity = (forecast.capacity if forecast is not None else None) or tank.capacity or max(
        [r.level for r in readings] + [1.0])
    delivered = [d for d in drops if d.status is DropStatus.DELIVERED]
    chart_forecast = None
    if forecast is not None and None not in (
            forecast.level_now, forecast.rate, forecast.runout_p10, forecast.runout_p50,
            forecast.runout_p90):
        chart_forecast = ChartForecast(
            at=forecast.computed_at or now, level_now=forecast.level_now or 0.0,
            rate=forecast.rate or 0.0, runout_p10=forecast.runout_p10,  # type: ignore[arg-type]
            runout_p50=forecast.runout_p50,  # type: ignore[arg-type]
            runout_p90=forecast.runout_p90,  # type: ignore[arg-type]
            order_by=forecast.order_by)
    couriers = {c.id: c.name for c in session.exec(
        select(Courier).where(Courier.shop_id == shop.id))}
    unit = product.unit.value if product is not None else ""
    return {
        "tank": tank, "product": product, "unit": unit, "forecast": forecast,
        "capacity": capacity,
        "readings": [r for r in readings if r.at >= since],
        "drops": sorted(drops, key=lambda d: (d.delivered_on, d.id or 0), reverse=True),
        "couriers": couriers,
        "chart": _chart_maker(
            [ChartReading(at=r.at, level=r.level) for r in readings],
            [ChartDrop(at=d.at or at_noon(d.delivered_on, tz), quantity=d.quantity,
                       level_before=d.level_before, level_after=d.level_after)
             for d in delivered],
            chart_forecast, capacity, unit, now, tz, tank.id or 0),
    }


def _area(shop: Shop, customer: Customer, areas: int, today: date) -> dict[str, Any] | None:
    """The customer's area (``routing.areas``) and its next three days; None when the
    shop has no area days or either location is missing."""
    area = customer_area(shop, customer, areas)
    if area is None:
        return None
    first = today + timedelta(days=(area - today.toordinal()) % areas)
    days = [first + timedelta(days=areas * i) for i in range(3)]
    return {"n": area + 1, "of": areas, "next": days,
            "days": ", ".join(d.strftime("%m/%d") for d in days)}


def _detail(engine: Engine, shop: Shop, customer_id: int, areas: int = 0) -> dict[str, Any]:
    tz = ZoneInfo(shop.timezone)
    now = datetime.now(UTC)
    with Session(engine) as session:
        customer = session.get(Customer, customer_id)
        if customer is None or customer.shop_id != shop.id:
            raise HTTPException(404, "no such customer in your shop")
        household = session.exec(
            select(HouseholdChange).where(HouseholdChange.customer_id == customer_id)
            .order_by(col(HouseholdChange.effective_date).desc(),
                      col(HouseholdChange.id).desc())).first()
        tanks = [_tank(session, shop, t, now, tz) for t in
                 list_tanks(session=session, shop_id=shop.id or 0, customer_id=customer_id)]
        thread: list[dict[str, Any]] = []
        for m in session.exec(select(OutboundMessage).where(
                OutboundMessage.customer_id == customer_id)):
            thread.append({"at": (m.sent_at or m.created_at).astimezone(tz), "out": True,
                           "body": m.body, "state": m.status.value})
        for i in session.exec(select(InboundMessage).where(
                InboundMessage.customer_id == customer_id)):
            thread.append({"at": i.received_at.astimezone(tz), "out": False, "body": i.body,
                           "state": "" if i.handled else (
                               "waiting for you" if i.processed_at else "arriving")})
        thread.sort(key=lambda t: t["at"])
        courier = session.get(Courier, customer.courier_id) if customer.courier_id else None
        today = now.astimezone(tz).date()
        return {"customer": customer, "household": household, "tanks": tanks,
                "thread": thread, "courier": courier, "tz": tz, "today": today,
                "area": _area(shop, customer, areas, today)}


@router.get("/customers/{customer_id:int}", response_class=HTMLResponse)
async def customer_page(request: Request, customer_id: int, me: CurrentUser) -> HTMLResponse:
    user, shop = me
    settings: Settings = request.app.state.settings
    context = await run_in_threadpool(_detail, request.app.state.engine, shop, customer_id,
                                      settings.routing.areas)
    return TEMPLATES.TemplateResponse(request, "customer.html", context | owner_page(
        request, user, shop, "customers"))
