"""``replenish init``: create or upgrade the database, and the shop."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session, select

from replenish.cli.common import fail, settings
from replenish.db import make_engine, upgrade_database
from replenish.db.models import Shop, ShopCreate
from replenish.db.queries import create_shop


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    demo: Annotated[bool, typer.Option("--demo", help="Also seed a demo town of about 60 households with half a year of history.")] = False,
    activity: Annotated[bool, typer.Option("--activity/--no-activity", help="With --demo: also past conversations, tonight's prompts, a few yeses and the first routes (default), or the history only.")] = True,
) -> None:
    """Create the database, or upgrade it to the newest schema, and the shop from settings.toml.

    Safe to run again: an up-to-date database and an existing shop are left as they are.
    The database is REPLENISH_DATABASE_URL (default sqlite:///replenish.db).

    Examples:

      replenish init

      REPLENISH_DATABASE_URL=postgresql://postgres@127.0.0.1/test replenish init --demo

      replenish init --demo --no-activity
    """
    cfg = settings()
    try:
        upgrade_database(cfg.database_url)
    except Exception as error:  # noqa: BLE001 - any driver or URL error is a message here
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        fail(f"cannot create or upgrade the database {cfg.database_url!r}: {reason}. "
             "Check REPLENISH_DATABASE_URL (e.g. sqlite:///replenish.db or "
             "postgresql://user@host:5432/dbname)")
    engine = make_engine(cfg.database_url)
    try:
        with Session(engine) as session:
            shop = session.exec(select(Shop)).first()
            if shop is None:
                shop = create_shop(session=session, shop_in=ShopCreate.from_params(cfg.shop),
                                   products=cfg.products)
                typer.echo(f"created shop #{shop.id} {shop.name!r} ({shop.timezone})")
            else:
                typer.echo(f"shop #{shop.id} {shop.name!r} is already there")
            if demo:
                from replenish.demo import demo_login, seed_demo, seed_demo_activity

                seeded = seed_demo(session=session, shop=shop, settings=cfg)
                typer.echo(f"{seeded} (shop #{shop.id} is now {shop.name!r})")
                if activity and not seeded.startswith("demo: the shop already"):
                    session.commit()
                    typer.echo(seed_demo_activity(session=session, shop=shop, settings=cfg))
                login = demo_login(session=session, shop=shop)
                typer.echo(f"demo sign-in at {cfg.web.base_url}/login: {login[0]} / {login[1]}")
            session.commit()
    finally:
        engine.dispose()
    typer.echo(f"database ready: {cfg.database_url}")
