"""``replenish tank-capacity``: a tape-measure calculator."""

from __future__ import annotations

from typing import Annotated

import typer

from replenish.cli.common import fail, friendly_errors, print_json, settings
from replenish.core.tank import TankGeometry
from replenish.core.types import TankShape


def register(app: typer.Typer) -> None:
    app.command("tank-capacity")(tank_capacity)


def tank_capacity(
    shape: Annotated[TankShape, typer.Option(help="cylinder, box, or capacity (entered directly).")],
    product: Annotated[str, typer.Option(help="Product key from settings.toml, e.g. rice.")] = "rice",
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
    cfg = settings()
    params = cfg.products.get(product)
    if params is None:
        fail(f"--product {product!r} is not a product in settings; "
             f"choose one of: {', '.join(sorted(cfg.products))}")
    with friendly_errors("diameter_cm", "width_cm", "depth_cm", "height_cm", "fill_cm"):
        tank = TankGeometry(shape, diameter_cm=diameter_cm, width_cm=width_cm,
                            depth_cm=depth_cm, height_cm=height_cm, capacity_units=capacity)
        cap = tank.capacity(units_per_litre=params.units_per_litre)
        amount = (tank.level_from_depth(fill_cm, units_per_litre=params.units_per_litre)
                  if fill_cm is not None else None)
    unit = params.unit.value
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
    typer.echo(f"capacity: {cap:.1f} {unit} of {params.name}")
    if amount is not None:
        typer.echo(f"{fill_cm:g} cm of {params.name} is {amount:.1f} {unit}")
