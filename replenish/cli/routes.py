"""``replenish routes build|show``: the couriers' routes for a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlmodel import Session, col, select

from replenish.cli.common import (
    JsonOption,
    ShopOption,
    current_shop,
    database,
    fail,
    print_json,
    print_table,
    settings,
)
from replenish.db.models import Courier, Route, RoutePlan, Shop
from replenish.settings import Settings

routes_app = typer.Typer(help="The couriers' routes: build a day's, show them.",
                         no_args_is_help=True)

DateOption = Annotated[str | None, typer.Option("--date", help="The day (YYYY-MM-DD, the shop's time zone). Default: tomorrow for build, today for show.")]


def register(app: typer.Typer) -> None:
    app.add_typer(routes_app, name="routes")


def _day(text: str | None, shop: Shop, *, default_offset: int) -> date:
    today = datetime.now(UTC).astimezone(ZoneInfo(shop.timezone)).date()
    if text is None:
        return today + timedelta(days=default_offset)
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--date {text!r} is not a date; write it like 2026-12-01")


@routes_app.command("build")
def build(date_text: DateOption = None, shop_id: ShopOption = None,
          as_json: JsonOption = False) -> None:
    """Build the day's routes from its booked drops (what the 17:00 job does for
    tomorrow), in place of any built before, unless a courier has already recorded a
    stop that day. Stops that do not fit are listed for you, most urgent first.

    Examples:

      replenish routes build

      replenish routes build --date 2026-12-01 --json
    """
    from jobs.routes import build_day

    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        day, shop_key = _day(date_text, shop, default_offset=1), shop.id or 0
    try:
        result = build_day(database_url=cfg.database_url, shop_id=shop_key, day=day,
                           now=datetime.now(UTC), settings=cfg)
    except ValueError as error:
        fail(str(error))
    if result.problem:
        fail(result.problem)
    with database(cfg) as session:
        out = _plan_json(session, shop_key, day, cfg)
    if as_json:
        print_json(out)
        return
    _print_plan(out)


@routes_app.command("show")
def show(date_text: DateOption = None,
         courier: Annotated[int | None, typer.Option("--courier", help="Only this courier's route (id).")] = None,
         sheet: Annotated[bool, typer.Option("--sheet", help="A printable sheet per courier: every stop with address, amount, notes and boxes to fill in.")] = False,
         shop_id: ShopOption = None, as_json: JsonOption = False) -> None:
    """The day's routes: each courier's stops in order, with the totals, and the stops
    left out.

    Examples:

      replenish routes show

      replenish routes show --date 2026-12-01 --courier 2 --sheet
    """
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        day = _day(date_text, shop, default_offset=0)
        out = _plan_json(session, shop.id or 0, day, cfg, courier=courier)
    if out is None:
        fail(f"no routes for {day} yet: `replenish routes build --date {day}` makes them")
    if as_json:
        print_json(out)
    elif sheet:
        _print_sheet(out)
    else:
        _print_plan(out)


def _plan_json(session: Session, shop_id: int, day: date, cfg: Settings,
               courier: int | None = None) -> dict[str, Any] | None:
    from replenish.db.queries.routes import route_sheet

    shop = session.get(Shop, shop_id)
    assert shop is not None
    tz = ZoneInfo(shop.timezone)
    plan = session.exec(select(RoutePlan).where(RoutePlan.shop_id == shop_id,
                                                RoutePlan.day == day)).first()
    if plan is None:
        return None
    routes = []
    statement = (select(Route, Courier).join(Courier, col(Courier.id) == col(Route.courier_id))
                 .where(Route.plan_id == plan.id).order_by(col(Route.courier_id)))
    for route, who in session.exec(statement).all():
        if courier is not None and who.id != courier:
            continue
        stops = [{
            "seq": line.stop.seq, "drop_id": line.drop.id, "customer_id": line.customer.id,
            "customer": line.customer.name, "phone": line.customer.phone,
            "address": line.customer.address,
            "arrive": line.stop.arrive_at and line.stop.arrive_at.astimezone(tz).strftime("%H:%M"),
            "product": line.product.name, "quantity": line.stop.quantity,
            "unit": line.product.unit.value, "tank": line.tank.label or line.tank.shape.value,
            "notes": line.customer.notes, "free": line.loyalty_free,
            "status": line.stop.status.value,
            "expected_level": None if line.expected is None else round(line.expected, 1),
            "away_since": line.since and line.since.isoformat(),
            "missed_visits": [day.isoformat() for day in line.missed],
        } for line in route_sheet(session=session, route=route, settings=cfg)]
        routes.append({
            "courier_id": who.id, "courier": who.name, "stops": stops, "km": route.km,
            "load": route.load, "hours": round(route.duration_s / 3600, 2),
            "leaves": route.starts_at and route.starts_at.astimezone(tz).strftime("%H:%M"),
            "returns": route.ends_at and route.ends_at.astimezone(tz).strftime("%H:%M"),
        })
    return {"day": day.isoformat(), "built_at": plan.built_at.astimezone(tz).isoformat(
        timespec="minutes"), "km": plan.km, "planned": plan.planned,
        "unplanned": plan.unplanned, "warnings": plan.warnings, "routes": routes,
        "consolidation": plan.consolidation, "solver_seconds": plan.solver_seconds}


def _print_plan(out: dict[str, Any]) -> None:
    typer.echo(f"routes for {out['day']}: {out['planned']} stops, {out['km']:.1f} km "
               f"(built {out['built_at'].replace('T', ' ')})")
    for warning in out["warnings"]:
        typer.echo(f"warning: {warning}")
    offered = out.get("consolidation") or {}
    if offered.get("added") or offered.get("prompted"):
        typer.echo(f"neighbours offered this day: {len(offered['added'])} added (auto), "
                   f"{len(offered['prompted'])} asked; saves about "
                   f"{offered['trips_saved']} trips and {offered['km_saved']:.1f} km")
    for route in out["routes"]:
        typer.echo(f"\n{route['courier']}: {len(route['stops'])} stops, {route['load']:g} "
                   f"to carry, {route['km']:.1f} km, {route['leaves']}-{route['returns']}")
        print_table(["#", "ARRIVE", "CUSTOMER", "AMOUNT", "ADDRESS", "STATUS"], [
            [str(s["seq"]), s["arrive"] or "-", s["customer"] + (" (free)" if s["free"] else ""),
             f"{s['quantity']:g} {s['unit']}", s["address"] or "-", s["status"]]
            for s in route["stops"]])
    if out["unplanned"]:
        typer.echo(f"\nnot on any route ({len(out['unplanned'])}), most urgent first:")
        print_table(["DROP", "CUSTOMER", "AMOUNT", "RUN-OUT RISK", "WHY"], [
            [str(u["drop_id"]), u["customer"], f"{u['quantity']:g}",
             f"{u['urgency']:.0%}", u["reason"]] for u in out["unplanned"]])


def _print_sheet(out: dict[str, Any]) -> None:
    for route in out["routes"]:
        typer.echo(f"{'=' * 72}\n{route['courier']} · {out['day']} · {len(route['stops'])} "
                   f"stops · load {route['load']:g} · {route['km']:.1f} km\n{'=' * 72}")
        for s in route["stops"]:
            free = "  ** this drop is on the house **" if s["free"] else ""
            typer.echo(f"{s['seq']:>2}. {s['arrive'] or '--:--'}  {s['customer']}  "
                       f"{s['phone']}{free}\n    {s['address'] or '-'}\n"
                       f"    bring {s['quantity']:g} {s['unit']} {s['product']} · tank: "
                       f"{s['tank']}" + (f"\n    note: {s['notes']}" if s["notes"] else "")
                       + (f"\n    expected about {s['expected_level']:g} {s['unit']} left; "
                          f"much more: ask how many days they were away since "
                          f"{s['away_since']}" if s["expected_level"] is not None
                          and s["away_since"] else "")
                       + (f"\n    nobody was home on {', '.join(s['missed_visits'])}: ask "
                          "whether they were away" if s["missed_visits"] else "")
                       + "\n    empty the old rice, wipe the tank, pour in the new, put the "
                       "old on top\n    [ ] delivered ____  level before ____ cm  "
                       "[ ] not home  [ ] refused\n")
