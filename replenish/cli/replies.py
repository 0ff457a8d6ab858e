"""``replenish parse-reply``: what the system understands from a customer's reply."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from replenish.cli.common import JsonOption, fail, print_json, settings
from replenish.core.replies import ProductNames, parse_reply


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("parse-reply")(parse_reply_command)


def parse_reply_command(
    text: Annotated[str, typer.Argument(help="The reply as the customer wrote it (quote it).")],
    alias: Annotated[list[str] | None, typer.Option("--alias", metavar="KEY=WORD", help="Also read WORD as the product KEY (repeatable): try an alias before adding it to the settings.")] = None,
    today: Annotated[str | None, typer.Option("--today", metavar="YYYY-MM-DD", help="Read day names such as 禮拜四 or 'tomorrow' from this date (default: today in the shop's time zone).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show what the system understood from a customer's reply: the intent (confirm,
    decline, snooze, quantity, level, product, stop, start, help or unknown) and the
    values that came with it. Products and their aliases come from the settings.

    Examples:

      replenish parse-reply "好喔 這次要15公斤"

      replenish parse-reply "先不用 下禮拜再說" --today 2025-11-24

      replenish parse-reply "yes 2 bags" --json

      replenish parse-reply "糙米" --alias rice=糙米
    """
    cfg = settings()
    names = {key: list(product.aliases) for key, product in cfg.products.items()}
    for item in alias or []:
        key, sep, word = item.partition("=")
        key, word = key.strip(), word.strip()
        if not sep or not word:
            fail(f"--alias {item!r}: write it as KEY=WORD, such as rice=糙米")
        if key not in names:
            fail(f"--alias {item!r}: no product {key!r}; the products are {', '.join(names)}")
        names[key].append(word)
    if today is None:
        on = datetime.now(ZoneInfo(cfg.shop.timezone)).date()
    else:
        try:
            on = date.fromisoformat(today)
        except ValueError:
            fail(f"--today {today!r}: not a date; write it as YYYY-MM-DD, such as 2025-11-24")
    products = [ProductNames(key, words) for key, words in names.items()]
    reply = parse_reply(text, products=products, today=on)
    if as_json:
        print_json(reply.as_dict())
    else:
        typer.echo(reply.summary())
