"""``replenish run``: the web app and the scheduler in one process."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
import uvicorn
from sqlmodel import Session, col, select

from replenish.cli.common import database, settings
from replenish.db.models import Shop


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Serve the web app only (for extra web replicas).")] = False,
) -> None:
    """Serve the web app on http://127.0.0.1:8000 with its scheduler (the nightly plan at
    21:00 shop time, reminders and follow-ups hourly, the outbox every few seconds).

    Examples:

      replenish run

      replenish run --port 8080 --no-scheduler
    """
    from jobs.scheduler import build_scheduler
    from replenish.web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = settings()
    with database(cfg) as session:
        timezone = _shop_timezone(session) or cfg.shop.timezone
    scheduler = None if no_scheduler else build_scheduler(cfg, timezone=timezone)
    if scheduler is not None:
        scheduler.start()
        for job in scheduler.get_jobs():
            typer.echo(f"scheduler: {job.id} next at {job.next_run_time:%Y-%m-%d %H:%M:%S %Z}")
    typer.echo(f"serving http://{host}:{port}")
    try:
        uvicorn.run(create_app(cfg), host=host, port=port, log_level="info")
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def _shop_timezone(session: Session) -> str | None:
    shop = session.exec(select(Shop).order_by(col(Shop.id))).first()
    return shop.timezone if shop else None
