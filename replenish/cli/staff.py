"""``replenish shop show|edit`` and ``replenish courier add|list|edit``: where the shop
is (routes start there) and who drives."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

import typer

from replenish.cli.common import (
    JsonOption,
    ShopOption,
    current_shop,
    database,
    fail,
    friendly_errors,
    print_json,
    print_table,
    settings,
)
from replenish.db.errors import NotFoundError
from replenish.db.models import Courier, CourierCreate, CourierUpdate, Shop, ShopUpdate
from replenish.db.queries import create_courier, get_courier, list_couriers, update_shop
from replenish.db.queries.shops import update_courier

shop_app = typer.Typer(help="The shop: name, hours and where it is.", no_args_is_help=True)
courier_app = typer.Typer(help="Couriers: who drives, what they carry, their hours.",
                          no_args_is_help=True)

CourierId = Annotated[int, typer.Argument(help="The courier's id (see `replenish courier list`).", show_default=False)]


def register(app: typer.Typer) -> None:
    app.add_typer(shop_app, name="shop")
    app.add_typer(courier_app, name="courier")


def _shop_json(shop: Shop) -> dict[str, Any]:
    return {"id": shop.id, "name": shop.name, "timezone": shop.timezone,
            "locale": shop.locale.value, "open": f"{shop.open_time:%H:%M}",
            "close": f"{shop.close_time:%H:%M}", "address": shop.address, "lat": shop.lat,
            "lon": shop.lon}


@shop_app.command("show")
def shop_show(shop_id: ShopOption = None, as_json: JsonOption = False) -> None:
    """The shop's name, hours and location.

    Examples:

      replenish shop show --json
    """
    cfg = settings()
    with database(cfg) as session:
        row = _shop_json(current_shop(session, shop_id))
    if as_json:
        print_json(row)
        return
    for key, value in row.items():
        typer.echo(f"{key:>9}: {'-' if value in (None, '') else value}")


@shop_app.command("edit")
def shop_edit(
    name: Annotated[str | None, typer.Option(help="The shop's name, as texts sign it.")] = None,
    address: Annotated[str | None, typer.Option(help="The shop's address.")] = None,
    lat: Annotated[float | None, typer.Option(help="Latitude in degrees, such as 22.9917 (routes start and end at the shop).")] = None,
    lon: Annotated[float | None, typer.Option(help="Longitude in degrees, such as 120.2148.")] = None,
    open_time: Annotated[str | None, typer.Option("--open", help="Opening time, 24-hour, such as 08:00.")] = None,
    close_time: Annotated[str | None, typer.Option("--close", help="Closing time, such as 20:00.")] = None,
    shop_id: ShopOption = None,
) -> None:
    """Change the shop's name, hours or location; what is not given stays.

    Examples:

      replenish shop edit --lat 22.9917 --lon 120.2148 --address "台南市中西區民權路二段"

      replenish shop edit --open 07:30 --close 19:00
    """
    changes: dict[str, Any] = {k: v for k, v in {
        "name": name, "address": address, "lat": lat, "lon": lon, "open_time": open_time,
        "close_time": close_time}.items() if v is not None}
    if not changes:
        fail("nothing to change: give at least one option (see --help)")
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        with friendly_errors("lat", "lon"):
            shop_in = ShopUpdate.model_validate(changes)
            _check_hours(shop_in.open_time or shop.open_time,
                         shop_in.close_time or shop.close_time, "open", "close")
            update_shop(session=session, shop=shop, shop_in=shop_in)
        row = _shop_json(shop)
    shown = {"open_time": "open", "close_time": "close"}
    typer.echo(f"shop {row['id']} updated: " + ", ".join(
        f"{shown.get(k, k)} {row[shown.get(k, k)]}" for k in changes))


def _check_hours(start: time, end: time, first: str, second: str) -> None:
    if start >= end:
        raise ValueError(f"--{first} {start:%H:%M} must be earlier than --{second} {end:%H:%M}")


def _courier_json(c: Courier) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "phone": c.phone, "capacity": c.capacity,
            "shift_start": f"{c.shift_start:%H:%M}", "shift_end": f"{c.shift_end:%H:%M}",
            "max_reloads": c.max_reloads, "active": c.active}


@courier_app.command("add")
def courier_add(
    name: Annotated[str, typer.Option(help="The courier's name.", show_default=False)],
    phone: Annotated[str, typer.Option(help="Mobile number; the morning route link goes there.", show_default=False)],
    capacity: Annotated[float, typer.Option(help="What one trip carries, in the product's unit (kg of rice).")] = 300.0,
    shift_start: Annotated[str, typer.Option(help="Start of the working day, such as 08:00.")] = "08:00",
    shift_end: Annotated[str, typer.Option(help="End of the working day, such as 18:00.")] = "18:00",
    max_reloads: Annotated[int, typer.Option(help="How often the courier may come back to the shop to load again (0: one trip a day).")] = 2,
    shop_id: ShopOption = None,
) -> None:
    """Add a courier.

    Examples:

      replenish courier add --name 阿輝 --phone "0911 222 301" --capacity 250
    """
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        with friendly_errors("capacity", "shift_start", "shift_end", "phone"):
            courier = create_courier(session=session, shop=shop, courier_in=CourierCreate(
                name=name, phone=phone, capacity=capacity, shift_start=shift_start,
                shift_end=shift_end, max_reloads=max_reloads))
        typer.echo(f"courier {courier.id} added: {courier.name} ({courier.phone})")


@courier_app.command("list")
def courier_list(shop_id: ShopOption = None, as_json: JsonOption = False) -> None:
    """The shop's couriers.

    Examples:

      replenish courier list --json
    """
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        rows = [_courier_json(c) for c in list_couriers(session=session, shop_id=shop.id or 0)]
    if as_json:
        print_json(rows)
        return
    print_table(["ID", "NAME", "PHONE", "CAPACITY", "SHIFT", "ACTIVE"], [
        [str(r["id"]), r["name"], r["phone"], f"{r['capacity']:g}",
         f"{r['shift_start']}-{r['shift_end']}", "yes" if r["active"] else "no"] for r in rows])


@courier_app.command("edit")
def courier_edit(
    courier_id: CourierId,
    name: Annotated[str | None, typer.Option(help="The courier's name.")] = None,
    phone: Annotated[str | None, typer.Option(help="Mobile number.")] = None,
    capacity: Annotated[float | None, typer.Option(help="What one trip carries.")] = None,
    shift_start: Annotated[str | None, typer.Option(help="Start of the working day.")] = None,
    shift_end: Annotated[str | None, typer.Option(help="End of the working day.")] = None,
    max_reloads: Annotated[int | None, typer.Option(help="Trips back to the shop to load again.")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="Whether the courier gets routes.")] = None,
    shop_id: ShopOption = None,
) -> None:
    """Change a courier; what is not given stays.

    Examples:

      replenish courier edit 2 --capacity 400 --shift-end 17:00

      replenish courier edit 2 --inactive
    """
    changes = {k: v for k, v in {"name": name, "phone": phone, "capacity": capacity,
                                 "shift_start": shift_start, "shift_end": shift_end,
                                 "max_reloads": max_reloads, "active": active}.items() if v is not None}
    if not changes:
        fail("nothing to change: give at least one option (see --help)")
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        try:
            courier = get_courier(session=session, shop_id=shop.id or 0, courier_id=courier_id)
        except NotFoundError:
            fail(f"no courier {courier_id} in this shop (see `replenish courier list`)")
        with friendly_errors("capacity", "shift_start", "shift_end", "phone"):
            courier_in = CourierUpdate.model_validate(changes)
            _check_hours(courier_in.shift_start or courier.shift_start,
                         courier_in.shift_end or courier.shift_end, "shift-start", "shift-end")
            update_courier(session=session, shop=shop, courier=courier, courier_in=courier_in)
        typer.echo(f"courier {courier_id} updated")
