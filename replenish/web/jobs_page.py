"""``/jobs``: the timed jobs, when they run next, how their last runs ended.

* ``GET /jobs``: every job of ``jobs.scheduler.JOBS`` with when it runs, its next run
  time (from the scheduler's table, else from its trigger when no scheduler has run
  yet), its last five runs with their status and summary (a failure highlighted, its
  traceback in a fold), and which process holds the scheduler lease, if any.
* ``POST /jobs/run`` (``csrf``, ``name``): runs one job now, logged as a manual run like
  ``replenish jobs run`` does, then back to the page.

Known limit: jobs and their runs belong to the whole installation, not to one shop (a
job runs every shop), so any signed-in user of any shop sees them and can run one now.
The summaries count per shop id, never a customer's name or number.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine
from sqlalchemy import select as sa_select
from sqlmodel import Session

from replenish.db.models import APSCHEDULER_TABLE, SchedulerLease, Shop
from replenish.settings import Settings
from replenish.web.auth import CurrentUser, check_csrf, owner_page, read_form
from replenish.web.pages import TEMPLATES

__all__ = ["router"]

router = APIRouter(tags=["jobs"])


def _when(spec: Any, settings: Settings) -> dict[str, str]:
    """When a job runs, as a kind and a value the page words in its language."""
    text = spec.when(settings.jobs)
    if text.startswith("daily at "):
        return {"kind": "daily", "value": text.removeprefix("daily at ")}
    if text.startswith("every "):
        return {"kind": "every", "value": text.removeprefix("every ").removesuffix(" s")}
    if text.startswith("hourly at "):
        return {"kind": "hourly", "value": text.removeprefix("hourly at ")}
    return {"kind": "", "value": text}


def _jobs(engine: Engine, settings: Settings, shop: Shop) -> dict[str, Any]:
    from jobs.runs import last_runs
    from jobs.scheduler import JOBS, shop_timezone

    zone = ZoneInfo(shop.timezone)
    trigger_zone = shop_timezone(engine, settings)  # where the scheduler keeps its times
    now = datetime.now(UTC)
    with Session(engine) as session:
        stored = {row.id: row.next_run_time for row in session.execute(
            sa_select(APSCHEDULER_TABLE.c.id, APSCHEDULER_TABLE.c.next_run_time))}
        runs = last_runs(session, limit_per_job=5)
        lease = session.get(SchedulerLease, "scheduler")
        rows = []
        for name, spec in JOBS.items():
            if name in stored:
                at = stored[name]
                next_run = None if at is None else datetime.fromtimestamp(at, UTC)
                paused = at is None
            else:  # no scheduler has run yet: when it would run
                next_run = spec.trigger(settings.jobs, trigger_zone).get_next_fire_time(
                    None, now)
                paused = False
            rows.append({
                "name": name, "what": spec.what, "when": _when(spec, settings),
                "next_run": next_run and next_run.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                "scheduled": name in stored, "paused": paused,
                "runs": [{
                    "started": r.started_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                    "as_of": r.as_of.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    "seconds": round((r.finished_at - r.started_at).total_seconds(), 1)
                    if r.finished_at else None,
                    "status": r.status.value, "manual": r.manual, "summary": r.summary,
                    "error": r.error, "holder": r.holder,
                } for r in runs.get(name, [])],
            })
        active = lease is not None and lease.expires_at > now
        scheduler = {"running": active, "holder": lease.holder if lease and active else None,
                     "since": lease.acquired_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                     if lease and active else None}
    return {"jobs": rows, "scheduler": scheduler, "timezone": str(zone)}


@router.get("/jobs", response_class=HTMLResponse)
async def jobs_page(request: Request, me: CurrentUser, ran: str | None = None
                    ) -> HTMLResponse:
    user, shop = me
    context = await run_in_threadpool(_jobs, request.app.state.engine,
                                      request.app.state.settings, shop)
    last = None
    if ran:
        found = next((j for j in context["jobs"] if j["name"] == ran), None)
        last = found and found["runs"] and found["runs"][0]
    return TEMPLATES.TemplateResponse(request, "jobs.html", context | owner_page(
        request, user, shop, "jobs") | {"ran": ran if last else None, "ran_run": last})


@router.post("/jobs/run", response_model=None)
async def run_now(request: Request, me: CurrentUser) -> Response:
    """Run one job now and log it as a manual run (as ``replenish jobs run`` does)."""
    from jobs.runs import run_job
    from jobs.scheduler import JOBS

    user, _ = me
    form = await read_form(request)
    check_csrf(request, form)
    name = form.get("name", "")
    spec = JOBS.get(name)
    if spec is None:
        raise HTTPException(400, f"name: no job {name!r}; the jobs are: {', '.join(JOBS)}")
    await run_in_threadpool(
        run_job, name, spec.function, engine=request.app.state.engine,
        settings=request.app.state.settings, now=datetime.now(UTC), manual=True,
        holder=f"web: {user.email}")
    return RedirectResponse(f"/jobs?ran={name}#job-{name}", status_code=303)
