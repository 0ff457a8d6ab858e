"""Running one job and keeping its log (``job_runs``): started, finished, ok or failed.

``run_job`` is what both the scheduler and ``replenish jobs run`` call. A job that fails
is logged with its traceback, its run row keeps the traceback for the owner, and the
exception goes no further: one job's failure stops neither the scheduler nor the others.
"""

from __future__ import annotations

import dataclasses
import logging
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from replenish.conversation.decisions import Decision
from replenish.db.columns import utcnow
from replenish.db.models import JobRun, JobStatus
from replenish.settings import Settings
from replenish.sms.outbox import DispatchResult

__all__ = ["JobFunction", "last_runs", "run_job", "summarize"]

log = logging.getLogger("replenish.jobs")

JobFunction = Callable[..., Any]  # (*, database_url, now, settings) -> a result


def run_job(
    name: str, function: JobFunction, *, engine: Engine, settings: Settings, now: datetime,
    manual: bool = False, holder: str = "",
) -> JobRun:
    """Run ``function`` for the moment ``now`` and log it; the finished run row.

    A run of the outbox that found nothing to do is not logged (it runs every few
    seconds); every other run is, a failure always.
    """
    quiet_capable = name == "dispatch_outbox" and not manual
    run = JobRun(job=name, manual=manual, as_of=now, status=JobStatus.RUNNING, holder=holder)
    if not quiet_capable:
        run = _save(engine, run, prune_before=None)
    try:
        result = function(database_url=settings.database_url, now=now, settings=settings)
    except Exception as error:
        log.exception("job %s failed", name)
        run.status = JobStatus.FAILED
        run.summary = _clip(f"{type(error).__name__}: {error}")
        run.error = traceback.format_exc()
    else:
        run.status = JobStatus.OK
        run.summary = _clip(summarize(result))
        if quiet_capable and _quiet(result):
            log.debug("job %s: %s", name, run.summary)
            run.finished_at = utcnow()
            return run
        log.info("job %s: %s", name, run.summary)
    run.finished_at = utcnow()
    cutoff = run.finished_at - timedelta(days=settings.jobs.keep_runs_days)
    return _save(engine, run, prune_before=cutoff)


def last_runs(session: Session, *, limit_per_job: int = 1) -> dict[str, list[JobRun]]:
    """The latest runs of every job that ran, newest first."""
    runs: dict[str, list[JobRun]] = {}
    for run in session.exec(select(JobRun).order_by(col(JobRun.started_at).desc(),
                                                     col(JobRun.id).desc())):
        kept = runs.setdefault(run.job, [])
        if len(kept) < limit_per_job:
            kept.append(run)
    return runs


def summarize(result: Any) -> str:
    """One line for a job's result: per shop, the non-zero counts."""
    if isinstance(result, dict):
        parts = [f"shop {key}: {summarize(value)}" for key, value in result.items()]
        return "; ".join(parts) or "no shops"
    if isinstance(result, tuple):
        return ", ".join(s for s in (summarize(item) for item in result) if s != "nothing")
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        counts: list[str] = []
        for field in dataclasses.fields(result):
            value = getattr(result, field.name)
            if field.name == "decisions":
                actions = Counter(d.action.value for d in value if isinstance(d, Decision))
                counts += [f"{action} {n}" for action, n in sorted(actions.items())]
            elif isinstance(value, bool | int | float) and value:
                counts.append(f"{field.name.replace('_', ' ')} {value}")
            elif isinstance(value, str) and value:
                counts.append(f"{field.name.replace('_', ' ')}: {value}")
            elif isinstance(value, list) and value:
                counts.append(f"{field.name.replace('_', ' ')}: {'; '.join(map(str, value))}")
        return ", ".join(counts) or "nothing"
    return str(result)


def _quiet(result: Any) -> bool:
    return isinstance(result, DispatchResult) and not (
        result.sent or result.retried or result.failed or result.review or result.problems
        or result.reconciled or result.stopped)


def _clip(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _save(engine: Engine, run: JobRun, *, prune_before: datetime | None) -> JobRun:
    with Session(engine, expire_on_commit=False) as session:
        run = session.merge(run)
        if prune_before is not None:
            session.exec(delete(JobRun).where(col(JobRun.started_at) < prune_before))
        session.commit()
        return run
