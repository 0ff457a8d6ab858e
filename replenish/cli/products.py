"""``replenish product list|edit`` and ``replenish tank add``: what the shop sells, and
a customer's further tanks."""

from __future__ import annotations

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
from replenish.core.types import TankShape
from replenish.db.models import Customer, Product, ProductUpdate, TankCreate
from replenish.db.queries import add_tank, list_products, update_product
from replenish.db.queries.forecasts import mark_customer_stale, mark_product_stale
from replenish.db.queries.shop_values import find_product

product_app = typer.Typer(help="The products the shop sells: units, bags, per-person priors.",
                          no_args_is_help=True)
tank_app = typer.Typer(help="A customer's tanks (the first comes with `customer add`).",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(product_app, name="product")
    app.add_typer(tank_app, name="tank")


def _product_json(p: Product) -> dict[str, Any]:
    return {"key": p.key, "name": p.name, "unit": p.unit.value,
            "units_per_litre": p.units_per_litre, "bag_sizes": p.bag_sizes,
            "min_drop": p.min_drop, "prior_adult": p.prior_adult, "prior_child": p.prior_child,
            "prior_elder": p.prior_elder, "aliases": p.aliases}


@product_app.command("list")
def product_list(shop_id: ShopOption = None, as_json: JsonOption = False) -> None:
    """List the shop's products with their bag sizes and daily use per person.

    Examples:

      replenish product list

      replenish product list --json
    """
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        rows = [_product_json(p) for p in list_products(session=session, shop_id=shop.id)]
    if as_json:
        print_json(rows)
        return
    print_table(("key", "name", "unit", "bags", "min drop", "per day: adult/child/elder"), [
        (r["key"], r["name"], r["unit"], " ".join(f"{b:g}" for b in r["bag_sizes"]),
         f"{r['min_drop']:g}", f"{r['prior_adult']:g} / {r['prior_child']:g} / "
                               f"{r['prior_elder']:g}")
        for r in rows])


@product_app.command("edit")
def product_edit(
    key: Annotated[str, typer.Argument(help="Product key or alias (rice, 米).", show_default=False)],
    name: Annotated[str | None, typer.Option(help="Name shown to the owner and in messages.")] = None,
    bag_sizes: Annotated[str | None, typer.Option(help="Bag or drop sizes, space- or comma-separated: '5 10'.")] = None,
    min_drop: Annotated[float | None, typer.Option(help="Smallest drop worth a trip, in the product's unit.")] = None,
    units_per_litre: Annotated[float | None, typer.Option(help="Product units that fill one litre of tank (rice: 0.8 kg/L).")] = None,
    prior_adult: Annotated[float | None, typer.Option(help="Daily use of one adult before anything is learned.")] = None,
    prior_child: Annotated[float | None, typer.Option(help="Daily use of one child before anything is learned.")] = None,
    prior_elder: Annotated[float | None, typer.Option(help="Daily use of one elder before anything is learned.")] = None,
    shop_id: ShopOption = None,
) -> None:
    """Change a product for this shop (other shops keep theirs). Forecasts of every
    customer with this product are recomputed at the next refresh.

    Examples:

      replenish product edit rice --bag-sizes "1.5 3 10" --min-drop 3

      replenish product edit rice --prior-adult 0.12
    """
    cfg = settings()
    changes: dict[str, Any] = {name_: value for name_, value in (
        ("name", name), ("min_drop", min_drop), ("units_per_litre", units_per_litre),
        ("prior_adult", prior_adult), ("prior_child", prior_child),
        ("prior_elder", prior_elder)) if value is not None}
    if bag_sizes is not None:
        try:
            changes["bag_sizes"] = [float(b) for b in bag_sizes.replace(",", " ").split()]
        except ValueError:
            fail(f"--bag-sizes {bag_sizes!r}: write the sizes as numbers, like '5 10'")
    if not changes:
        fail("nothing to change: give at least one option (see --help)")
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        with friendly_errors("bag_sizes", "min_drop", "units_per_litre", "prior_adult",
                             "prior_child", "prior_elder", "name"):
            product = find_product(list_products(session=session, shop_id=shop.id), key)
            update_product(session=session, product=product,
                           product_in=ProductUpdate.model_validate(changes))
        assert product.id is not None
        mark_product_stale(session=session, product_id=product.id)
        typer.echo(f"product {product.key}: changed {', '.join(sorted(changes))}")


@tank_app.command("add")
def tank_add(
    customer: Annotated[int, typer.Option("--customer", help="Customer id.")],
    shape: Annotated[TankShape, typer.Option(case_sensitive=False, help="cylinder, box, or capacity (entered directly).")],
    product: Annotated[str | None, typer.Option(help="Product key or alias (default: the shop's first product).")] = None,
    label: Annotated[str, typer.Option(help="Which tank this is, for the courier (kitchen, storeroom).")] = "",
    diameter_cm: Annotated[float | None, typer.Option(help="Inside diameter in cm (cylinder).")] = None,
    width_cm: Annotated[float | None, typer.Option(help="Inside width in cm (box).")] = None,
    depth_cm: Annotated[float | None, typer.Option(help="Inside depth in cm, front to back (box).")] = None,
    height_cm: Annotated[float | None, typer.Option(help="Inside height in cm.")] = None,
    capacity: Annotated[float | None, typer.Option(help="What the tank holds, in the product's unit (shape capacity).")] = None,
    shop_id: ShopOption = None,
) -> None:
    """Add another tank to a customer (a second rice bin, a water dispenser).

    Two tanks of one product share the household's use between them.

    Examples:

      replenish tank add --customer 12 --product water --shape capacity --capacity 3

      replenish tank add --customer 12 --shape box --width-cm 30 --depth-cm 30 --height-cm 40 --label storeroom
    """
    from replenish.cli.customers import tank_json, tank_text

    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        owner = session.get(Customer, customer)
        if owner is None or owner.shop_id != shop.id:
            fail(f"--customer {customer}: no such customer in this shop")
        with friendly_errors("diameter_cm", "width_cm", "depth_cm", "height_cm", "product"):
            chosen = find_product(list_products(session=session, shop_id=shop.id), product)
            tank = add_tank(session=session, customer=owner, tank_in=TankCreate(
                product_id=chosen.id, label=label, shape=shape, diameter_cm=diameter_cm,
                width_cm=width_cm, depth_cm=depth_cm, height_cm=height_cm, capacity=capacity))
        mark_customer_stale(session=session, customer_id=owner.id)
        typer.echo(tank_text(tank_json(tank, chosen)))
