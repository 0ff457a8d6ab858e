"""``replenish forecast``: who runs out when, the order-by date, and what to bring."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlmodel import Session

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
from replenish.db.models import Customer, Product, Shop, Tank
from replenish.db.queries.forecasts import forecast_as_of, list_forecasts
from replenish.db.queries.nightly import refresh_forecasts

AS_OF_TIME = time(12, 0)


def register(app: typer.Typer) -> None:
    app.command("forecast")(forecast)


def forecast(
    customer: Annotated[int | None, typer.Option("--customer", help="Only this customer id.")] = None,
    as_of: Annotated[str | None, typer.Option(help="Forecast as it stood (or will stand) at noon on this date, from what was known by then; nothing is saved.")] = None,
    shop_id: ShopOption = None,
    as_json: JsonOption = False,
) -> None:
    """Refresh and show every tank's forecast, soonest order-by date first.

    Without --as-of this is tonight's nightly refresh, run now and saved.
    Dates are in the shop's time zone; quantities in each product's unit.

    Examples:

      replenish forecast

      replenish forecast --customer 12 --json

      replenish forecast --as-of 2026-12-01
    """
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        tz = ZoneInfo(shop.timezone)
        if as_of is None:
            refresh_forecasts(session=session, shop=shop, now=datetime.now(UTC), settings=cfg)
            rows = _saved_rows(session, shop, customer)
        else:
            try:
                day = date.fromisoformat(as_of)
            except ValueError:
                fail(f"--as-of {as_of!r} is not a date; write it like 2026-12-01")
            now = datetime.combine(day, AS_OF_TIME, tzinfo=tz).astimezone(UTC)
            rows = _as_of_rows(session, shop, customer, now)
            session.rollback()
    if customer is not None and not rows:
        fail(f"--customer {customer}: no such customer with a tank in this shop")
    if as_json:
        print_json(rows)
        return
    _print_forecasts(rows, today=(as_of or datetime.now(UTC).astimezone(tz).date().isoformat()))


def _saved_rows(session: Session, shop: Shop, customer_id: int | None) -> list[dict[str, Any]]:
    rows = []
    for f, cust, tank, product in list_forecasts(session=session, shop_id=shop.id,
                                                 customer_id=customer_id):
        rows.append(_row(cust, tank, product, level_now=f.level_now, rate=f.rate,
                         rate_sd=f.rate_sd, p10=f.runout_p10, p50=f.runout_p50,
                         p90=f.runout_p90, order_by=f.order_by, drop_size=f.drop_size,
                         capacity=f.capacity))
    return rows


def _as_of_rows(session: Session, shop: Shop, customer_id: int | None,
                now: datetime) -> list[dict[str, Any]]:
    rows = []
    for tank_id, f in forecast_as_of(session=session, shop=shop, now=now, settings=settings(),
                                     customer_id=customer_id):
        tank = session.get(Tank, tank_id)
        assert tank is not None
        cust, product = session.get(Customer, tank.customer_id), session.get(Product, tank.product_id)
        assert cust is not None and product is not None
        if f is None:
            rows.append(_row(cust, tank, product))
            continue
        rows.append(_row(cust, tank, product, level_now=f.level_now, rate=f.rate.mean,
                         rate_sd=f.rate.sd, p10=f.runout.local_date("p10"),
                         p50=f.runout.local_date("p50"), p90=f.runout.local_date("p90"),
                         order_by=f.order_by, drop_size=f.drop_size, capacity=f.capacity))
    rows.sort(key=lambda r: (r["order_by"] is None, r["order_by"] or "", r["customer"]))
    return rows


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _row(cust: Customer, tank: Tank, product: Product, *, level_now: float | None = None,
         rate: float | None = None, rate_sd: float | None = None, p10: date | None = None,
         p50: date | None = None, p90: date | None = None, order_by: date | None = None,
         drop_size: float | None = None, capacity: float | None = None) -> dict[str, Any]:
    return {
        "customer_id": cust.id, "customer": cust.name, "tank_id": tank.id,
        "product": product.key, "unit": product.unit.value, "capacity": _r(capacity),
        "level_now": _r(level_now), "rate_per_day": _r(rate, 4), "rate_sd": _r(rate_sd, 4),
        "runout_p10": p10 and p10.isoformat(), "runout_p50": p50 and p50.isoformat(),
        "runout_p90": p90 and p90.isoformat(), "order_by": order_by and order_by.isoformat(),
        "drop_size": _r(drop_size),
    }


def _short(day: str, beside: str) -> str:
    """``2026-12-05`` as ``12-05`` when it is in the same year as ``beside``."""
    return day[5:] if day[:4] == beside[:4] else day


def _print_forecasts(rows: list[dict[str, Any]], today: str) -> None:
    if not rows:
        typer.echo("no tanks yet: add customers with `replenish customer add`")
        return
    header = ("id", "customer", "tank", "product", "level now", "run-out p50 (p10–p90)",
              "order by", "drop")
    lines: list[tuple[str, ...]] = []
    for r in rows:
        if r["order_by"] is None:
            lines.append((str(r["customer_id"]), r["customer"], str(r["tank_id"]), r["product"],
                          "?", "no level yet: record a reading", "", ""))
            continue
        lines.append((
            str(r["customer_id"]), r["customer"], str(r["tank_id"]), r["product"],
            f"{r['level_now']:.1f} {r['unit']}",
            f"{r['runout_p50']} ({_short(r['runout_p10'], r['runout_p50'])}–"
            f"{_short(r['runout_p90'], r['runout_p50'])})",
            r["order_by"] + (" overdue" if r["order_by"] < today else ""),
            f"{r['drop_size']:g} {r['unit']}",
        ))
    print_table(header, lines)
