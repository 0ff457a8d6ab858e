"""What every command shares: settings, the database, clean errors, and plain tables."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from sqlmodel import Session, col, select

from replenish.db import database_revision, head_revision, make_engine
from replenish.db.models import Shop
from replenish.settings import Settings, SettingsError, load_settings


def fail(message: str, *, code: int = 2) -> NoReturn:
    """Print a clear error (never a traceback) and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        fail(str(error))


@contextmanager
def friendly_errors(*options: str) -> Iterator[None]:
    """Turn ValueError (our validation errors) into a message and exit code 2.

    Field names in the message that are also ``options`` (``diameter_cm``) are shown
    as the command line spells them (``--diameter-cm``).
    """
    try:
        yield
    except ValidationError as error:
        lines = []
        for item in error.errors(include_url=False):
            field = ".".join(str(part) for part in item["loc"])
            text = _plain(item)
            lines.append(f"{field}: {text}" if field else text)  # a rule across fields
        message = "; ".join(lines)
        for name in options:
            message = re.sub(rf"\b{name}\b", "--" + name.replace("_", "-"), message)
        fail(message)
    except ValueError as error:
        message = str(error)
        for name in options:
            message = re.sub(rf"\b{name}\b", "--" + name.replace("_", "-"), message)
        fail(message)


_BOUNDS = {"greater_than": "more than {gt}", "greater_than_equal": "{ge} or more",
           "less_than": "less than {lt}", "less_than_equal": "at most {le}"}


def _plain(item: Any) -> str:
    """A pydantic error in the shop's words: "must be 0 or more, got -1"."""
    kind = item["type"]
    ctx = {k: _num(v) for k, v in (item.get("ctx") or {}).items()}
    if kind in _BOUNDS:
        return f"must be {_BOUNDS[kind].format(**ctx)}, got {_num(item.get('input'))}"
    if kind in ("float_parsing", "int_parsing", "float_type", "int_type"):
        return f"{item.get('input')!r} is not a number"
    return str(item["msg"]).removeprefix("Value error, ")


def _num(value: Any) -> Any:
    return f"{value:g}" if isinstance(value, float) else value


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def display_width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """``header`` and ``rows`` in columns two spaces apart, padded to their display width."""
    widths = [max(display_width(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        cells = (cell + " " * (w - display_width(cell)) for cell, w in zip(row, widths, strict=True))
        typer.echo("  ".join(cells).rstrip())


@contextmanager
def database(cfg: Settings) -> Iterator[Session]:
    """A session on the configured database, committed when the block ends without error.

    Refuses to run on a database that ``replenish init`` has not created or upgraded.
    """
    url = cfg.database_url
    try:
        revision = database_revision(url)
    except Exception as error:  # noqa: BLE001 - any driver error is a message here
        fail(f"cannot open the database {url!r}: {error}")
    if revision != head_revision():
        fail(f"the database {url!r} is not ready (schema {revision or 'empty'}, "
             f"need {head_revision()}): run `replenish init` first")
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            yield session
            session.commit()
    finally:
        engine.dispose()


def current_shop(session: Session, shop_id: int | None = None) -> Shop:
    """The shop a command works on: ``--shop ID``, else the only (first) shop."""
    if shop_id is not None:
        shop = session.get(Shop, shop_id)
        if shop is None:
            fail(f"--shop {shop_id}: no such shop")
        return shop
    shop = session.exec(select(Shop).order_by(col(Shop.id))).first()
    if shop is None:
        fail("there is no shop yet: run `replenish init`")
    return shop


ShopOption = Annotated[
    int | None, typer.Option("--shop", help="Shop id (default: the first shop).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
