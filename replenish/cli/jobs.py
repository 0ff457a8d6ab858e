"""``replenish jobs list|run``: the timed jobs, when they run next, how they last ended."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from replenish.cli.common import JsonOption, database, fail, print_json, print_table, settings
from replenish.db.models import Shop
from replenish.settings import Settings

jobs_app = typer.Typer(help="The timed jobs: when they run next, how they last ended; run one now.",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def list_jobs(as_json: JsonOption = False) -> None:
    """Every timed job with its next run time (shop time), its last run and whether a
    scheduler is running them (the lease holder).

    Examples:

      replenish jobs list

      replenish jobs list --json
    """
    from jobs.runs import last_runs
    from jobs.scheduler import JOBS
    from replenish.db.models import APSCHEDULER_TABLE, SchedulerLease

    cfg = settings()
    now = datetime.now(UTC)
    with database(cfg) as session:
        zone = ZoneInfo(_timezone(session, cfg))
        stored = {row.id: row.next_run_time for row in session.execute(
            sa_select(APSCHEDULER_TABLE.c.id, APSCHEDULER_TABLE.c.next_run_time))}
        runs = last_runs(session)
        lease = session.get(SchedulerLease, "scheduler")
        rows: list[dict[str, Any]] = []
        for name, spec in JOBS.items():
            if name in stored:
                at = stored[name]
                next_run = None if at is None else datetime.fromtimestamp(at, UTC)
            else:  # no scheduler has run yet: when it would run
                next_run = spec.trigger(cfg.jobs, str(zone)).get_next_fire_time(None, now)
            last = runs.get(name, [None])[0]
            rows.append({
                "job": name, "when": spec.when(cfg.jobs), "what": spec.what,
                "next_run": next_run and next_run.astimezone(zone).isoformat(timespec="minutes"),
                "last_started": last and last.started_at.astimezone(zone).isoformat(timespec="seconds"),
                "last_status": last and last.status.value,
                "last_summary": last and last.summary,
            })
        active = lease is not None and lease.expires_at > now
        scheduler = {"running": active, "holder": lease.holder if active and lease else None,
                     "expires_at": lease.expires_at.astimezone(zone).isoformat(timespec="seconds")
                     if active and lease else None}
    if as_json:
        print_json({"timezone": str(zone), "scheduler": scheduler, "jobs": rows})
        return
    print_table(["JOB", "WHEN", "NEXT RUN", "LAST RUN", "RESULT"], [
        [r["job"], r["when"], (r["next_run"] or "-").replace("T", " ")[:16],
         (r["last_started"] or "never").replace("T", " ")[:16],
         r["last_status"] and f"{r['last_status']}: {r['last_summary']}"[:70] or "-"]
        for r in rows])
    typer.echo(f"times in {zone}; " + (
        f"scheduler running in {scheduler['holder']}" if active else
        "no scheduler is running: start one with `replenish run`"))


@jobs_app.command("run")
def run_now(
    name: Annotated[str, typer.Argument(help="The job: nightly_plan, build_routes, courier_morning, reminders, followups or dispatch_outbox.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Run it for this day (YYYY-MM-DD): a daily job at its own time that day, another at the present time of day. Default: now.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Run one job now, whether or not a scheduler is running, and log it like a
    scheduled run. Every job is idempotent: running it again for the same day books
    nothing twice and sends nothing twice.

    Examples:

      replenish jobs run nightly_plan

      replenish jobs run nightly_plan --as-of 2026-12-01

      replenish jobs run dispatch_outbox
    """
    from jobs.runs import run_job
    from jobs.scheduler import JOBS, job_moment
    from replenish.db import make_engine

    spec = JOBS.get(name)
    if spec is None:
        fail(f"no job {name!r}; the jobs are: {', '.join(JOBS)}")
    cfg = settings()
    now = datetime.now(UTC)
    with database(cfg) as session:
        zone = _timezone(session, cfg)
    moment = now
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of {as_of!r} is not a date; write it like 2026-12-01")
        moment = job_moment(spec, cfg.jobs, day=day, timezone=zone, now=now)
    engine = make_engine(cfg.database_url)
    try:
        run = run_job(name, spec.function, engine=engine, settings=cfg, now=moment,
                      manual=True, holder="replenish jobs run")
    finally:
        engine.dispose()
    local = moment.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")
    if as_json:
        print_json({"job": name, "as_of": local, "status": run.status.value,
                    "summary": run.summary, "error": run.error})
    else:
        typer.echo(f"{name} for {local.replace('T', ' ')}: {run.status.value}: {run.summary}")
    if run.error:
        if not as_json:
            typer.echo(run.error, err=True)
        raise typer.Exit(1)


def _timezone(session: Session, cfg: Settings) -> str:
    """The zone job times are in: the first shop's, else the settings' default."""
    shop = session.exec(select(Shop).order_by(col(Shop.id))).first()
    return shop.timezone if shop is not None else cfg.shop.timezone
