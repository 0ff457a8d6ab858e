"""The courier's page: ``/courier/{token}`` opens one route for one day, by a signed link
that expires (``replenish.web.links``); nothing else of the shop is reachable from it.

Each stop has a form: delivered (the amount poured and the level found, as a depth in
cm read with the tape or as an amount), nobody at home, or refused, and a note. Saving
records the drop and the level, teaches the forecast, and queues the follow-up text. The
form carries a submission key made when the page was drawn, so a form sent twice (the
network dropped and the phone retried) is recorded once.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from replenish.conversation.followups import follow_up
from replenish.db.history import geometry_of
from replenish.db.models import Courier, Route, RouteStop, Shop, StopStatus
from replenish.db.queries.routes import complete_stop, route_sheet
from replenish.db.queries.secrets import signing_key
from replenish.settings import Settings
from replenish.web.links import LinkError, RouteLink, read_link

__all__ = ["router"]

from replenish.web.pages import TEMPLATES

router = APIRouter(tags=["courier"])


def _open(session: Session, key: str, token: str, now: datetime) -> tuple[
        RouteLink, Route, Courier, Shop]:
    try:
        link = read_link(token, key=key, now=now)
    except LinkError as error:
        raise HTTPException(403, str(error)) from None
    route = session.get(Route, link.route_id)
    courier = session.get(Courier, link.courier_id)
    if route is None or courier is None or route.courier_id != courier.id:
        raise HTTPException(404, "this route was rebuilt: ask the shop for the new link")
    shop = session.get(Shop, route.shop_id)
    assert shop is not None
    return link, route, courier, shop


def _page(engine: Engine, settings: Settings, token: str, now: datetime,
          errors: dict[int, str] | None = None) -> dict[str, Any]:
    key = signing_key(engine=engine, settings=settings)
    with Session(engine) as session:
        _, route, courier, shop = _open(session, key, token, now)
        tz = ZoneInfo(shop.timezone)
        lines = route_sheet(session=session, route=route, settings=settings)
        stops = []
        for line in lines:
            geometry = geometry_of(line.tank)
            per_litre = line.product.units_per_litre
            capacity = geometry.capacity(units_per_litre=per_litre)
            expected = None
            if line.expected is not None:
                level = min(line.expected, capacity)
                expected = (f"{geometry.depth_from_level(level, units_per_litre=per_litre):.0f} cm"
                            if line.tank.height_cm is not None
                            else f"{level:.0f} {line.product.unit.value}")
            stops.append({
                "line": line, "key": secrets.token_urlsafe(12),
                "arrive": line.stop.arrive_at and line.stop.arrive_at.astimezone(tz),
                "done_at": line.stop.completed_at and line.stop.completed_at.astimezone(tz),
                "map": (f"https://www.google.com/maps/search/?api=1&query="
                        f"{line.customer.lat},{line.customer.lon}")
                if line.customer.lat is not None else None,
                "capacity": capacity, "measurable": line.tank.height_cm is not None,
                "expected": expected,
                "missed": ", ".join(day.isoformat() for day in line.missed),
                "error": (errors or {}).get(line.stop.id or 0),
            })
        done = sum(1 for s in lines if s.stop.status is not StopStatus.PENDING)
        return {"shop": shop, "courier": courier, "route": route, "stops": stops,
                "done": done, "token": token, "statuses": StopStatus,
                "locale": shop.locale.value}


@router.get("/courier/{token}", response_class=HTMLResponse)
async def courier_route(request: Request, token: str) -> HTMLResponse:
    context = await run_in_threadpool(_page, request.app.state.engine,
                                      request.app.state.settings, token, datetime.now(UTC))
    return TEMPLATES.TemplateResponse(request, "courier.html", context)


def _number(form: dict[str, str], name: str) -> float | None:
    text = (form.get(name) or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name.replace('_', ' ')}: {text!r} is not a number") from None
    if value < 0:
        raise ValueError(f"{name.replace('_', ' ')} must be 0 or more")
    return value


def _days(form: dict[str, str], name: str) -> int | None:
    text = (form.get(name) or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{name.replace('_', ' ')}: {text!r} is not a whole number of days; "
                         "leave it empty if they were home")
    return int(text)


def _record(engine: Engine, settings: Settings, token: str, stop_id: int,
            form: dict[str, str], now: datetime) -> str | None:
    """Record the form; an error message for the courier, or None when saved."""
    key = signing_key(engine=engine, settings=settings)
    with Session(engine) as session:
        _, route, _, shop = _open(session, key, token, now)
        stop = session.get(RouteStop, stop_id)
        if stop is None or stop.route_id != route.id:
            raise HTTPException(404, "this stop is not on your route")
        try:
            status = StopStatus(form.get("status", ""))
            level = _number(form, "level")
            unit = form.get("level_unit", "cm")
            complete_stop(
                session=session, stop=stop, status=status, now=now, settings=settings,
                submission_key=form.get("key") or None,
                quantity=_number(form, "quantity") if status is StopStatus.DELIVERED else None,
                depth_before_cm=level if unit == "cm" else None,
                level_before=level if unit != "cm" else None,
                note=(form.get("note") or "").strip()[:500],
                away_days=_days(form, "away_days") if status is not StopStatus.NOT_HOME
                else None)
        except ValueError as error:
            session.rollback()
            return str(error).replace("depth_before_cm", "level (cm)").replace(
                "level_before", "level")
        if status is StopStatus.DELIVERED:
            follow_up(session=session, shop=shop, now=now, settings=settings)
        try:
            session.commit()
        except IntegrityError:
            # the same submission, sent twice at once, was recorded by the other request
            session.rollback()
            done = session.exec(select(RouteStop).where(
                RouteStop.submission_key == form.get("key"))).first()
            if done is None or done.id != stop_id:
                raise
        return None


@router.post("/courier/{token}/stops/{stop_id}", response_model=None)
async def courier_stop(request: Request, token: str, stop_id: int) -> Response:
    body = (await request.body()).decode("utf-8", errors="replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    engine, settings = request.app.state.engine, request.app.state.settings
    now = datetime.now(UTC)
    error = await run_in_threadpool(_record, engine, settings, token, stop_id, form, now)
    if error is None:
        return RedirectResponse(f"/courier/{token}#stop-{stop_id}", status_code=303)
    context = await run_in_threadpool(_page, engine, settings, token, now, {stop_id: error})
    return TEMPLATES.TemplateResponse(request, "courier.html", context, status_code=400)
