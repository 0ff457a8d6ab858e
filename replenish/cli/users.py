"""``replenish user add|token``: who may sign in to the web app, and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import select

from replenish.cli.common import ShopOption, current_shop, database, fail, friendly_errors, settings
from replenish.core.types import Locale
from replenish.db.errors import DuplicateError
from replenish.db.models import User
from replenish.db.queries.users import create_user, new_api_token

user_app = typer.Typer(help="Who may sign in to the web app, and their API tokens.",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Option(help="The email to sign in with.", show_default=False)],
    name: Annotated[str, typer.Option(help="The person's name.")] = "",
    locale: Annotated[Locale | None, typer.Option(help="Language of the pages: en, zh-TW or zh-CN (default: the shop's).")] = None,
    password: Annotated[str | None, typer.Option(help="The password (at least 8 characters). Leave it out to be asked without echo.")] = None,
    shop_id: ShopOption = None,
) -> None:
    """Add a person who may sign in to the shop's web app (and sees only that shop).

    Examples:

      replenish user add --email owner@wangs-rice.tw --name 王老闆

      replenish user add --email staff@wangs-rice.tw --locale en --shop 2
    """
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        with friendly_errors("email", "password"):
            try:
                user = create_user(session=session, shop=shop, email=email, password=password,
                                   name=name, locale=locale)
            except DuplicateError as error:
                fail(str(error))
        typer.echo(f"user {user.email} can sign in to {shop.name!r} at {cfg.web.base_url}/login")


@user_app.command("token")
def user_token(
    email: Annotated[str, typer.Option(help="Whose token.", show_default=False)],
) -> None:
    """Make a new API token for a user (the old one stops working). It is shown once:
    send it as `Authorization: Bearer <token>` to /api/v1.

    Examples:

      replenish user token --email owner@wangs-rice.tw
    """
    cfg = settings()
    with database(cfg) as session:
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            fail(f"no user {email!r}: add one with `replenish user add --email {email}`")
        token = new_api_token(session=session, user=user)
    typer.echo(token)
