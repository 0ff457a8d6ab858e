"""``/routes``: a day's courier routes for the signed-in user's shop.

* ``GET /routes?day=YYYY-MM-DD`` (default: today in the shop's zone): each courier's
  ordered stops with the totals (stops, load, km, hours), the stops left out with the
  reason, the warnings, what consolidation offered the neighbours, each courier's signed
  link (to open, or to send again from the owner's phone), and a drawn sketch: the shop
  and every stop placed by latitude and longitude (equirectangular, scaled to the box),
  each courier's route a coloured line from the shop through the numbered stops and back.
* ``GET /routes/print?day=...``: one printable sheet per courier (what
  ``replenish routes show --sheet`` prints), with boxes to fill in at each door.
* ``POST /routes/build`` (``csrf``, ``day``): builds the day's routes as the 17:00 job
  does (``jobs.routes.build_day``; the solver thinks for ``routing.time_limit_seconds``)
  and shows the outcome, or why nothing was built.

``plan_view`` is the day's plan as plain data; ``/api/v1/routes`` answers the same.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from replenish.db.models import Courier, Route, RoutePlan, Shop, User
from replenish.db.queries.routes import route_sheet
from replenish.db.queries.secrets import signing_key
from replenish.settings import Settings
from replenish.web.auth import CurrentUser, check_csrf, owner_page, read_form
from replenish.web.pages import TEMPLATES

__all__ = ["parse_day", "plan_view", "router", "sketch"]

router = APIRouter(tags=["routes"])

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f")
SKETCH_W, SKETCH_H, SKETCH_PAD = 640, 420, 24


def parse_day(text: str | None, shop: Shop) -> date:
    """``text`` as a day, or today in the shop's zone; 422 naming ``day`` when it is not
    a date."""
    if not text:
        return datetime.now(UTC).astimezone(ZoneInfo(shop.timezone)).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"day: {text!r} is not a date; write it like 2026-12-01"
                            ) from None


def plan_view(session: Session, *, shop: Shop, day: date, settings: Settings,
              key: str | None = None, now: datetime | None = None) -> dict[str, Any] | None:
    """The day's plan as data (None when no plan was built): each route with its ordered
    stops (with their places), the totals, the stops left out, warnings, consolidation.
    With ``key`` (``signing_key``), each route carries its courier's signed link."""
    from jobs.routes import route_url

    tz = ZoneInfo(shop.timezone)
    plan = session.exec(select(RoutePlan).where(RoutePlan.shop_id == shop.id,
                                                RoutePlan.day == day)).first()
    if plan is None:
        return None
    routes = []
    rows = session.exec(select(Route, Courier)
                        .join(Courier, col(Courier.id) == col(Route.courier_id))
                        .where(Route.plan_id == plan.id).order_by(col(Route.courier_id))).all()
    for i, (route, courier) in enumerate(rows):
        stops = [{
            "seq": line.stop.seq, "stop_id": line.stop.id, "drop_id": line.drop.id,
            "customer_id": line.customer.id, "customer": line.customer.name,
            "phone": line.customer.phone, "address": line.customer.address,
            "lat": line.customer.lat, "lon": line.customer.lon,
            "arrive": line.stop.arrive_at and line.stop.arrive_at.astimezone(tz).strftime(
                "%H:%M"),
            "product": line.product.name, "quantity": line.stop.quantity,
            "unit": line.product.unit.value, "tank": line.tank.label or line.tank.shape.value,
            "notes": line.customer.notes, "free": line.loyalty_free,
            "status": line.stop.status.value,
            "expected": None if line.expected is None else round(line.expected, 1),
            "since": line.since and line.since.isoformat(),
            "missed": ", ".join(day.isoformat() for day in line.missed),
        } for line in route_sheet(session=session, route=route, settings=settings)]
        link = (route_url(key=key, route=route, now=now or datetime.now(UTC),
                          settings=settings) if key else None)
        routes.append({
            "route_id": route.id, "courier_id": courier.id, "courier": courier.name,
            "phone": courier.phone, "colour": COLOURS[i % len(COLOURS)], "stops": stops,
            "km": route.km, "load": route.load, "hours": round(route.duration_s / 3600, 2),
            "leaves": route.starts_at and route.starts_at.astimezone(tz).strftime("%H:%M"),
            "returns": route.ends_at and route.ends_at.astimezone(tz).strftime("%H:%M"),
            "link": link, "link_sent_at": route.link_sent_at and
            route.link_sent_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        })
    return {
        "day": day.isoformat(), "built_at": plan.built_at.astimezone(tz).strftime(
            "%Y-%m-%d %H:%M"),
        "km": plan.km, "hours": round(plan.duration_s / 3600, 2), "planned": plan.planned,
        "load": sum(r["load"] for r in routes), "unplanned": plan.unplanned,
        "warnings": plan.warnings, "consolidation": plan.consolidation or {},
        "solver_seconds": plan.solver_seconds, "routes": routes,
    }


def sketch(plan: dict[str, Any], shop: Shop) -> dict[str, Any] | None:
    """The plan drawn: points placed by longitude (scaled by the cosine of the middle
    latitude) and latitude, fitted into the box keeping the proportions."""
    points = [(s["lat"], s["lon"]) for r in plan["routes"] for s in r["stops"]
              if s["lat"] is not None and s["lon"] is not None]
    if shop.lat is not None and shop.lon is not None:
        points.append((shop.lat, shop.lon))
    if not points:
        return None
    mid = math.radians(sum(p[0] for p in points) / len(points))
    xs = [p[1] * math.cos(mid) for p in points]
    ys = [p[0] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
    scale = min((SKETCH_W - 2 * SKETCH_PAD) / max(max(xs) - min(xs), span / 10),
                (SKETCH_H - 2 * SKETCH_PAD) / max(max(ys) - min(ys), span / 10))
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def place(lat: float, lon: float) -> tuple[float, float]:
        return (round(SKETCH_W / 2 + (lon * math.cos(mid) - cx) * scale, 1),
                round(SKETCH_H / 2 - (lat - cy) * scale, 1))

    home = place(shop.lat, shop.lon) if shop.lat is not None and shop.lon is not None else None
    lines = []
    for route in plan["routes"]:
        dots = [{"seq": s["seq"], "customer": s["customer"], "xy": place(s["lat"], s["lon"])}
                for s in route["stops"] if s["lat"] is not None and s["lon"] is not None]
        path = [d["xy"] for d in dots]
        if home is not None:
            path = [home, *path, home]
        lines.append({"courier": route["courier"], "colour": route["colour"], "dots": dots,
                      "points": " ".join(f"{x},{y}" for x, y in path)})
    return {"width": SKETCH_W, "height": SKETCH_H, "shop": home, "routes": lines}


def _page_data(engine: Engine, settings: Settings, shop: Shop, day: date) -> dict[str, Any]:
    key = signing_key(engine=engine, settings=settings)  # before our own session (SQLite)
    with Session(engine) as session:
        fresh = session.get(Shop, shop.id) or shop
        plan = plan_view(session, shop=fresh, day=day, settings=settings, key=key)
        drawn = sketch(plan, fresh) if plan else None
        return {"plan": plan, "sketch": drawn, "shop": fresh}


def _sms_link(route: dict[str, Any], shop: Shop, day: date) -> str:
    body = f"{shop.name} {day.isoformat()}: {route['link']}"
    return f"sms:{route['phone']}?body={quote(body)}"


async def _render(request: Request, user: User, shop: Shop, day: date, *,
                  template_extra: dict[str, Any] | None = None, print_view: bool = False,
                  status_code: int = 200) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    data = await run_in_threadpool(_page_data, request.app.state.engine, settings, shop, day)
    if data["plan"]:
        for route in data["plan"]["routes"]:
            route["sms"] = _sms_link(route, data["shop"], day)
    return TEMPLATES.TemplateResponse(request, "routes.html", data | owner_page(
        request, user, data["shop"], "routes") | {
        "day": day.isoformat(), "print_view": print_view,
        "outcome": None, "error": None} | (template_extra or {}), status_code=status_code)


@router.get("/routes", response_class=HTMLResponse)
async def routes_page(request: Request, me: CurrentUser, day: str | None = None
                      ) -> HTMLResponse:
    user, shop = me
    return await _render(request, user, shop, parse_day(day, shop))


@router.get("/routes/print", response_class=HTMLResponse)
async def routes_print(request: Request, me: CurrentUser, day: str | None = None
                       ) -> HTMLResponse:
    """One sheet per courier, to print."""
    user, shop = me
    return await _render(request, user, shop, parse_day(day, shop), print_view=True)


@router.post("/routes/build", response_model=None)
async def build_routes_now(request: Request, me: CurrentUser) -> Response:
    """Build the day's routes now (in place of any built before, unless under way)."""
    from jobs.routes import build_day

    user, shop = me
    form = await read_form(request)
    check_csrf(request, form)
    day = parse_day(form.get("day", "").strip() or None, shop)
    settings: Settings = request.app.state.settings
    try:
        result = await run_in_threadpool(
            build_day, database_url=settings.database_url, shop_id=shop.id or 0, day=day,
            now=datetime.now(UTC), settings=settings)
    except ValueError as error:
        return await _render(request, user, shop, day, template_extra={"error": str(error)},
                             status_code=409)
    if result.problem:
        return await _render(request, user, shop, day,
                             template_extra={"error": result.problem}, status_code=409)
    return await _render(request, user, shop, day, template_extra={"outcome": {
        "routes": result.routes, "planned": result.planned, "unplanned": result.unplanned,
        "km": f"{result.km:.1f}", "added": result.added, "prompted": result.prompted}})
