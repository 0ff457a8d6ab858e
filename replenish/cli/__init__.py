"""The ``replenish`` command. Each group of commands lives in its own module."""

from __future__ import annotations

import typer

from replenish.cli import (
    customers,
    forecast,
    jobs,
    messages,
    plan,
    products,
    records,
    replies,
    routes,
    serve,
    setup,
    simulate,
    staff,
    tank,
    users,
)

app = typer.Typer(
    name="replenish",
    help="Proactive replenishment: know when each customer runs out, and knock first.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)



@app.callback()
def main() -> None:
    """replenish: the shop's notebook and its nightly plan.

    Start with `replenish init --demo`, then `replenish forecast`.
    """


setup.register(app)
tank.register(app)
customers.register(app)
records.register(app)
forecast.register(app)
plan.register(app)
jobs.register(app)
products.register(app)
replies.register(app)
messages.register(app)
routes.register(app)
staff.register(app)
users.register(app)
serve.register(app)
simulate.register(app)

__all__ = ["app"]
