"""``replenish run``: the web app and the scheduler in one process."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
import uvicorn

from replenish.cli.common import database, settings


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Serve the web app only (for extra web replicas).")] = False,
) -> None:
    """Serve the web app on http://127.0.0.1:8000 with its scheduler (the nightly plan at
    21:00 shop time, reminders and follow-ups hourly, the outbox every few seconds; see
    `replenish jobs list`).

    One scheduler runs per database: a second `replenish run` serves the web app and
    waits, and takes the jobs over within jobs.lease_seconds (30 s) if the first stops.

    Examples:

      replenish run

      replenish run --port 8080 --no-scheduler
    """
    from jobs.scheduler import SchedulerService, shop_timezone
    from replenish.db import make_engine
    from replenish.web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = settings()
    with database(cfg):
        pass  # refuses a database that `replenish init` has not made ready
    engine = make_engine(cfg.database_url)
    service = None
    if not no_scheduler:
        service = SchedulerService(cfg, engine=engine, timezone=shop_timezone(engine, cfg))
        service.start()
        state = "running the jobs" if service.active else (
            "waiting: another replenish runs the jobs for this database")
        typer.echo(f"scheduler: {state} (replenish jobs list shows them)")
    typer.echo(f"serving http://{host}:{port}")
    try:
        uvicorn.run(create_app(cfg, engine=engine), host=host, port=port, log_level="info")
    finally:
        if service is not None:
            service.shutdown()
        engine.dispose()
