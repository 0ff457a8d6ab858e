"""``replenish tank-capacity``: a tape-measure calculator."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session, col, select

from replenish.cli.common import fail, friendly_errors, print_json, settings
from replenish.core.tank import TankGeometry
from replenish.core.types import TankShape
from replenish.db import database_revision, head_revision, make_engine
from replenish.db.models import Product, Shop


def register(app: typer.Typer) -> None:
    app.command("tank-capacity")(tank_capacity)


def tank_capacity(
    shape: Annotated[TankShape, typer.Option(help="cylinder, box, or capacity (entered directly).")],
    product: Annotated[str, typer.Option(help="Product key or alias, e.g. rice or 米 (the shop's products once `replenish init` ran, else settings.toml).")] = "rice",
    diameter_cm: Annotated[float | None, typer.Option(help="Inside diameter (cylinder).")] = None,
    width_cm: Annotated[float | None, typer.Option(help="Inside width (box).")] = None,
    depth_cm: Annotated[float | None, typer.Option(help="Inside depth, front to back (box).")] = None,
    height_cm: Annotated[float | None, typer.Option(help="Inside height.")] = None,
    capacity: Annotated[float | None, typer.Option(help="Capacity in the product's unit (shape capacity).")] = None,
    fill_cm: Annotated[float | None, typer.Option(help="Depth of product standing in the tank: prints the amount it is.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Turn tape-measure numbers into litres and capacity in the product's unit.

    Examples:

      replenish tank-capacity --shape cylinder --diameter-cm 40 --height-cm 60 --product rice

      replenish tank-capacity --shape box --width-cm 30 --depth-cm 40 --height-cm 50 --fill-cm 20

      replenish tank-capacity --shape capacity --capacity 20 --product water --json
    """
    name, unit, units_per_litre = _product(product)
    with friendly_errors("diameter_cm", "width_cm", "depth_cm", "height_cm", "fill_cm"):
        tank = TankGeometry(shape, diameter_cm=diameter_cm, width_cm=width_cm,
                            depth_cm=depth_cm, height_cm=height_cm, capacity_units=capacity)
        cap = tank.capacity(units_per_litre=units_per_litre)
        amount = (tank.level_from_depth(fill_cm, units_per_litre=units_per_litre)
                  if fill_cm is not None else None)
    if as_json:
        print_json({
            "shape": tank.shape.value,
            "litres": None if tank.litres is None else round(tank.litres, 3),
            "capacity": round(cap, 3),
            "unit": unit,
            "product": product,
            "fill_cm": fill_cm,
            "amount_at_fill": None if amount is None else round(amount, 3),
        })
        return
    if tank.litres is not None:
        typer.echo(f"{tank.litres:.1f} L")
    typer.echo(f"capacity: {cap:.1f} {unit} of {name}")
    if amount is not None:
        typer.echo(f"{fill_cm:g} cm of {name} is {amount:.1f} {unit}")


def _product(text: str) -> tuple[str, str, float]:
    """Name, unit and units per litre of a product: the shop's own (as edited with
    `replenish product edit`) when a database is ready, else the settings' defaults."""
    cfg = settings()
    wanted = text.strip().casefold()
    try:
        ready = database_revision(cfg.database_url) == head_revision()
    except Exception:  # noqa: BLE001 - no usable database: fall back to settings
        ready = False
    if ready:
        engine = make_engine(cfg.database_url)
        try:
            with Session(engine) as session:
                shop = session.exec(select(Shop).order_by(col(Shop.id))).first()
                products = [] if shop is None else list(
                    session.exec(select(Product).where(Product.shop_id == shop.id)))
        finally:
            engine.dispose()
        for p in products:
            if wanted == p.key or wanted in (a.casefold() for a in p.aliases):
                return p.name, p.unit.value, p.units_per_litre
        if products:
            fail(f"--product {text!r} is not a product of this shop; choose one of: "
                 f"{', '.join(p.key for p in products)}")
    for key, params in cfg.products.items():
        if wanted == key or wanted in (a.casefold() for a in params.aliases):
            return params.name, params.unit.value, params.units_per_litre
    fail(f"--product {text!r} is not a product in settings; "
         f"choose one of: {', '.join(sorted(cfg.products))}")
