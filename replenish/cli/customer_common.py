"""What the customer commands share: their options, and the helpers they all lean on.

The ``Annotated`` aliases are the options of ``replenish customer add``, ``edit`` and
``list`` (spelled as the registration's fields, with ``-``), each with its help text, so
the commands describe a field the same way. The helpers report a registration's problems
under the option that caused them, find a customer of the shop (or fail with how to find
one), and show a household as words or as JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from sqlmodel import Session

from replenish.cli.common import fail
from replenish.core.types import DeliveryMode, Locale, TankShape
from replenish.db.models import Customer, HouseholdChange, Shop
from replenish.db.queries.registration import COLUMNS

# The options the commands share, each with its help text.
CustomerId = Annotated[int, typer.Argument(help="Customer id (see `replenish customer list`).", metavar="ID", show_default=False)]
Name = Annotated[str | None, typer.Option(help="The household's name as the shop calls it, e.g. 王太太.")]
Phone = Annotated[str | None, typer.Option(help="Phone for text messages: local (0912 345 678) or international (+886 912 345 678); stored in E.164.")]
Address = Annotated[str | None, typer.Option(help="Delivery address, as the courier reads it.")]
Lat = Annotated[float | None, typer.Option(help="Latitude of the door (with --lon), e.g. 22.9908.")]
Lon = Annotated[float | None, typer.Option(help="Longitude of the door (with --lat), e.g. 120.2133.")]
Language = Annotated[Locale | None, typer.Option(case_sensitive=False, help="Language of the customer's messages (default: the shop's).")]
Notes = Annotated[str | None, typer.Option(help="Notes for the courier (the bell is broken, knock).")]
Habits = Annotated[str | None, typer.Option(help="What the household is like (buys 10 kg bags, cooks for the grandchildren on Sundays).")]
ProductKey = Annotated[str | None, typer.Option(help="Product key or alias, e.g. rice or 米 (default: the shop's first product).")]
Mode = Annotated[DeliveryMode | None, typer.Option(case_sensitive=False, help="confirm (ask before each drop), auto (heads-up only) or will-call.")]
CourierName = Annotated[str | None, typer.Option(help="Courier name or id who usually delivers here.")]
Windows = Annotated[str | None, typer.Option(help="When a drop can be received, shop time: 'mon-fri 17:00-21:00; sat 09:00-12:00'; 'prefer' before a window makes it a wish, not a must.")]
Adults = Annotated[int | None, typer.Option(help="Adults living there.")]
Children = Annotated[int | None, typer.Option(help="Children living there.")]
Elders = Annotated[int | None, typer.Option(help="Elders living there.")]
EatsAtHome = Annotated[float | None, typer.Option(help="Share of meals eaten at home, more than 0, at most 1 (default 1).")]
Shape = Annotated[TankShape | None, typer.Option(case_sensitive=False, help="Tank shape: cylinder, box, or capacity (entered directly).")]
Diameter = Annotated[float | None, typer.Option(help="Inside diameter in cm (cylinder).")]
Width = Annotated[float | None, typer.Option(help="Inside width in cm (box).")]
Depth = Annotated[float | None, typer.Option(help="Inside depth in cm, front to back (box).")]
Height = Annotated[float | None, typer.Option(help="Inside height in cm (cylinder, box).")]
Capacity = Annotated[float | None, typer.Option(help="What the tank holds, in the product's unit (shape capacity).")]


def option_name(field: str) -> str:
    """A field as an option: ``fill_cm`` -> ``--fill-cm``."""
    return "--" + field.replace("_", "-")


_SPELLED = re.compile(r"\b(" + "|".join(n for n in COLUMNS if "_" in n) + r")\b")


def _as_options(message: str) -> str:
    """Column names inside a message as the command line spells them (fill_cm -> --fill-cm)."""
    return _SPELLED.sub(lambda m: option_name(m[1]), message)


def fail_problems(problems: Sequence[tuple[str, str]]) -> NoReturn:
    """Every problem on its own line, named by its option, then exit 2."""
    for field, message in problems:
        where = f"{option_name(field)}: " if field in COLUMNS or field in ("effective", "tank") else ""
        typer.echo(f"error: {where}{_as_options(message)}", err=True)
    raise typer.Exit(2)


def shop_customer(session: Session, shop: Shop, customer_id: int) -> Customer:
    """The shop's customer ``customer_id``, or fail saying how to find the id."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.shop_id != shop.id:
        fail(f"there is no customer {customer_id} in this shop; find the id with "
             "`replenish customer list --search NAME`")
    return customer


def shop_today(shop: Shop) -> date:
    """Today in the shop's time zone."""
    return datetime.now(UTC).astimezone(ZoneInfo(shop.timezone)).date()


def people_text(h: Mapping[str, Any]) -> str:
    """``{"adults": 2, "children": 1, ...}`` -> ``2 adults, 1 child``."""
    parts = [f"{h[key]} {word}{'' if h[key] == 1 else plural}" for key, word, plural in (
        ("adults", "adult", "s"), ("children", "child", "ren"), ("elders", "elder", "s"))
        if h[key]]
    share = "" if h["eats_at_home"] == 1 else f", eats {h['eats_at_home']:.0%} of meals at home"
    return ", ".join(parts) + share


def household_json(row: HouseholdChange) -> dict[str, Any]:
    """One household row as JSON, with its size."""
    return {"effective_date": row.effective_date.isoformat(), "adults": row.adults,
            "children": row.children, "elders": row.elders, "eats_at_home": row.eats_at_home,
            "size": row.adults + row.children + row.elders}

