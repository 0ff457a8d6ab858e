"""``replenish reading add`` and ``replenish drop add``: what was seen and poured at a tank."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlmodel import Session, col, select

from replenish.cli.common import (
    JsonOption,
    ShopOption,
    current_shop,
    database,
    fail,
    friendly_errors,
    print_json,
    settings,
)
from replenish.core.types import DropStatus, ReadingSource
from replenish.db.models import Customer, Drop, Product, Shop, Tank
from replenish.db.queries.records import (
    add_drop,
    add_reading,
    cancel_planned_drop,
    refuse_second_planned,
)
from replenish.db.queries.tanks import find_drop_by_key

reading_app = typer.Typer(help="Record an observed level of a tank.", no_args_is_help=True)
drop_app = typer.Typer(help="Record a delivery (a drop) into a tank.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(reading_app, name="reading")
    app.add_typer(drop_app, name="drop")


def parse_moment(text: str | None, shop: Shop, *, option: str) -> datetime:
    """``2026-11-20T10:00`` (shop time) or with an offset; None means now."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date and time; write it like 2026-11-20T10:00")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(shop.timezone))
    return moment.astimezone(UTC)


def find_tank(session: Session, shop: Shop, customer_id: int,
              tank_id: int | None) -> tuple[Tank, Product]:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.shop_id != shop.id:
        fail(f"--customer {customer_id}: no such customer in this shop")
    tanks = session.exec(select(Tank).where(Tank.customer_id == customer_id)
                         .order_by(col(Tank.id))).all()
    if not tanks:
        fail(f"customer {customer_id} ({customer.name}) has no tank yet; add one first")
    if tank_id is None:
        if len(tanks) > 1:
            fail(f"customer {customer_id} has {len(tanks)} tanks "
                 f"({', '.join(str(t.id) for t in tanks)}): pick one with --tank")
        tank = tanks[0]
    else:
        matches = [t for t in tanks if t.id == tank_id]
        if not matches:
            fail(f"--tank {tank_id} is not one of customer {customer_id}'s tanks")
        tank = matches[0]
    product = session.get(Product, tank.product_id)
    assert product is not None
    return tank, product


CustomerOption = Annotated[int, typer.Option("--customer", help="Customer id.")]
TankOption = Annotated[int | None, typer.Option("--tank", help="Tank id, when the customer has several.")]


@reading_app.command("add")
def reading_add(
    customer: CustomerOption,
    tank: TankOption = None,
    depth_cm: Annotated[float | None, typer.Option(help="Depth of product standing in the tank, in cm (the tape measure).")] = None,
    level: Annotated[float | None, typer.Option(help="The amount in the tank, in the product's unit.")] = None,
    source: Annotated[ReadingSource, typer.Option(help="Who saw it: courier, customer or owner.")] = ReadingSource.OWNER,
    at: Annotated[str | None, typer.Option(help="When, in shop time (2026-11-20T10:00); default now.")] = None,
    note: Annotated[str, typer.Option(help="A note kept with the reading.")] = "",
    shop_id: ShopOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record the level of a customer's tank, as a depth (cm) or as an amount.

    The forecast learns from it at once.

    Examples:

      replenish reading add --customer 12 --depth-cm 20 --source courier

      replenish reading add --customer 12 --level 8.5 --at 2026-11-20T10:00
    """
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        tank_row, product = find_tank(session, shop, customer, tank)
        with friendly_errors("depth_cm", "level"):
            reading = add_reading(session=session, tank=tank_row, product=product,
                                  at=parse_moment(at, shop, option="--at"), source=source,
                                  settings=cfg, level=level, depth_cm=depth_cm, note=note)
        out = {"reading_id": reading.id, "tank_id": tank_row.id, "level": round(reading.level, 3),
               "unit": product.unit.value, "at": reading.at.isoformat()}
    if as_json:
        print_json(out)
    else:
        typer.echo(f"reading #{out['reading_id']}: {out['level']:.1f} {out['unit']} "
                   f"in tank {out['tank_id']}")


@drop_app.command("add")
def drop_add(
    customer: CustomerOption,
    quantity: Annotated[float, typer.Option(help="How much was delivered, in the product's unit.")],
    tank: TankOption = None,
    on: Annotated[str | None, typer.Option("--date", help="Delivery date (shop's zone), default today.")] = None,
    at: Annotated[str | None, typer.Option(help="When it was poured, in shop time (2026-11-20T10:00).")] = None,
    level_before: Annotated[float | None, typer.Option(help="Amount left before the drop, if measured.")] = None,
    depth_before_cm: Annotated[float | None, typer.Option(help="Depth left before the drop, in cm, if measured.")] = None,
    level_after: Annotated[float | None, typer.Option(help="Amount in the tank after the drop, if measured.")] = None,
    status: Annotated[DropStatus, typer.Option(help="delivered, planned, not-home, refused or cancelled.")] = DropStatus.DELIVERED,
    key: Annotated[str | None, typer.Option(help="Idempotency key: the same key twice records one drop.")] = None,
    note: Annotated[str, typer.Option(help="A note kept with the drop.")] = "",
    shop_id: ShopOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a delivery into a customer's tank, with the level measured before it if known.

    Examples:

      replenish drop add --customer 12 --quantity 10 --depth-before-cm 6

      replenish drop add --customer 12 --quantity 10 --date 2026-11-27 --key route-42-stop-3
    """
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        tank_row, product = find_tank(session, shop, customer, tank)
        tz = ZoneInfo(shop.timezone)
        moment = parse_moment(at, shop, option="--at") if at else None
        if on is not None:
            try:
                day = date.fromisoformat(on)
            except ValueError:
                fail(f"--date {on!r} is not a date; write it like 2026-11-27")
        else:
            day = (moment or datetime.now(UTC)).astimezone(tz).date()
        if moment is None and status is DropStatus.DELIVERED and on is None:
            moment = datetime.now(UTC)
        with friendly_errors("quantity", "level_before", "depth_before_cm", "level_after"):
            if quantity <= 0:
                raise ValueError("quantity must be more than 0")
            if status is DropStatus.PLANNED and (
                    key is None or find_drop_by_key(session=session, idempotency_key=key) is None):
                refuse_second_planned(session=session, tank=tank_row,
                                      today=datetime.now(UTC).astimezone(tz).date())
            drop = add_drop(session=session, tank=tank_row, product=product, delivered_on=day,
                            quantity=quantity, settings=cfg, at=moment,
                            level_before=level_before, depth_before_cm=depth_before_cm,
                            level_after=level_after, status=status, idempotency_key=key,
                            note=note)
        out = {"drop_id": drop.id, "tank_id": tank_row.id, "delivered_on": drop.delivered_on,
               "quantity": drop.quantity, "unit": product.unit.value,
               "level_before": drop.level_before, "status": drop.status.value}
    if as_json:
        print_json(out)
    else:
        before = ("unknown" if out["level_before"] is None
                  else f"{out['level_before']:.1f} {out['unit']}")
        typer.echo(f"drop #{out['drop_id']}: {out['quantity']:g} {out['unit']} on "
                   f"{out['delivered_on']} ({out['status']}; level before: {before})")


@drop_app.command("cancel")
def drop_cancel(
    drop_id: Annotated[int, typer.Argument(help="The planned drop (its number, as `drop add` and `routes show --json` print it).")],
    note: Annotated[str, typer.Option(help="Why, kept with the drop.")] = "",
    shop_id: ShopOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a planned drop (the customer phoned: not this time). A booking's offer is
    closed with it, and its stop comes off a route not under way yet.

    Examples:

      replenish drop cancel 42 --note "phoned: away until the 20th"
    """
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        drop = session.get(Drop, drop_id)
        if drop is None or drop.shop_id != shop.id:
            fail(f"drop {drop_id}: no such drop in this shop; `replenish customer show` "
                 "lists a customer's drops")
        with friendly_errors():
            day = cancel_planned_drop(session=session, drop=drop,
                                      now=datetime.now(UTC), note=note)
        out = {"drop_id": drop_id, "status": "cancelled", "off_route_on": day}
    if as_json:
        print_json(out)
    else:
        typer.echo(f"drop #{drop_id} cancelled")
        if day is not None:
            typer.echo(f"it was on the routes for {day}: its stop is off; to re-plan that "
                       f"day: replenish routes build --date {day}")
