"""APScheduler 3 wiring: the timed jobs, kept in the database, run by one process.

* ``JOBS`` names every job: what it does, when it runs (``[jobs]`` settings, in the
  shop's time zone) and how late a missed run may still start (``misfire_grace_time``).
* The jobs live in the database (``SQLAlchemyJobStore``, table ``apscheduler_jobs``), so
  a restart keeps their next run times: a run missed while the server was down is run
  once (``coalesce``) when it comes back, if within the grace time.
* ``SchedulerService`` is the scheduler of ``replenish run``. It starts paused and runs
  jobs only while it holds the database's scheduler lease (``jobs.lease``); a second
  ``replenish run`` waits, and takes over within ``jobs.lease_seconds`` if the first
  dies.
* APScheduler calls ``run_scheduled(name)`` (stored by its text reference, so nothing
  secret is pickled into the table), which runs the job for the present moment through
  ``jobs.runs.run_job``: logged in ``job_runs``, a failure logged and kept, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from jobs.conversation import followups, nightly_plan, reminders, send_outbox
from jobs.lease import Lease, LeaseKeeper, new_holder
from jobs.routes import build_routes, courier_morning
from jobs.runs import JobFunction, run_job
from replenish.db.models import Shop
from replenish.settings import JobsSettings, Settings

__all__ = ["JOBS", "JobSpec", "SchedulerService", "configure", "job_moment", "run_scheduled",
           "shop_timezone", "sync_jobs"]

log = logging.getLogger("replenish.jobs")


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: JobFunction
    what: str
    trigger: Callable[[JobsSettings, str], BaseTrigger]
    grace_seconds: Callable[[JobsSettings], int]
    daily_at: Callable[[JobsSettings], time] | None = None  # None: not a daily job

    def when(self, params: JobsSettings) -> str:
        if self.daily_at is not None:
            return f"daily at {self.daily_at(params):%H:%M}"
        trigger = self.trigger(params, "UTC")
        if isinstance(trigger, IntervalTrigger):
            return f"every {int(trigger.interval.total_seconds())} s"
        minute = params.reminders_minute if self.name == "reminders" else params.followups_minute
        return f"hourly at :{minute:02d}"


def _daily(at: Callable[[JobsSettings], time]) -> Callable[[JobsSettings, str], BaseTrigger]:
    def trigger(params: JobsSettings, timezone: str) -> BaseTrigger:
        moment = at(params)
        return CronTrigger(hour=moment.hour, minute=moment.minute, timezone=timezone)
    return trigger


def _daily_grace(params: JobsSettings) -> int:
    return int(params.daily_grace_hours * 3600)


JOBS: dict[str, JobSpec] = {spec.name: spec for spec in (
    JobSpec("nightly_plan", nightly_plan,
            "refresh every forecast; prompt, book, remind or escalate; queue the texts",
            _daily(lambda p: p.nightly_plan_at), _daily_grace,
            daily_at=lambda p: p.nightly_plan_at),
    JobSpec("build_routes", build_routes,
            "build tomorrow's courier routes from the booked drops",
            _daily(lambda p: p.build_routes_at), _daily_grace,
            daily_at=lambda p: p.build_routes_at),
    JobSpec("courier_morning", courier_morning,
            "text each courier the signed link to today's route",
            _daily(lambda p: p.courier_morning_at), _daily_grace,
            daily_at=lambda p: p.courier_morning_at),
    JobSpec("reminders", reminders,
            "remind unanswered prompts; put the still silent on the call list",
            lambda p, tz: CronTrigger(minute=p.reminders_minute, timezone=tz),
            lambda p: 1800),
    JobSpec("followups", followups,
            "ask how the delivery went, once per drop recorded as done",
            lambda p, tz: CronTrigger(minute=p.followups_minute, timezone=tz),
            lambda p: 1800),
    JobSpec("dispatch_outbox", send_outbox,
            "send the texts that are due (retries, quiet hours, status checks)",
            lambda p, tz: IntervalTrigger(seconds=p.outbox_seconds, timezone=tz),
            lambda p: 60),
)}


def job_moment(spec: JobSpec, params: JobsSettings, *, day: date, timezone: str,
               now: datetime) -> datetime:
    """The moment (UTC) ``replenish jobs run NAME --as-of DAY`` runs a job for: a daily
    job's own time on that day, any other job the present time of day on that day."""
    zone = ZoneInfo(timezone)
    at = spec.daily_at(params) if spec.daily_at is not None else now.astimezone(zone).time()
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def shop_timezone(engine: Engine, settings: Settings) -> str:
    """The zone the jobs' times are in: the first shop's, else the settings' default."""
    with Session(engine) as session:
        shop = session.exec(select(Shop).order_by(col(Shop.id))).first()
    return shop.timezone if shop is not None else settings.shop.timezone


@dataclass(frozen=True)
class _Context:
    engine: Engine
    settings: Settings
    holder: str


_context: _Context | None = None


def run_scheduled(name: str) -> None:
    """What APScheduler runs: job ``name`` for the present moment, logged."""
    context = _context
    spec = JOBS.get(name)
    if context is None or spec is None:
        log.error("job %s: %s", name, "no scheduler context" if spec else "unknown job")
        return
    run_job(name, spec.function, engine=context.engine, settings=context.settings,
            now=datetime.now(UTC), holder=context.holder)


def configure(scheduler: BaseScheduler, *, engine: Engine, timezone: str) -> None:
    """Point a (not started) scheduler at the database's job store."""
    scheduler.configure(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=timezone,
    )


def _same_trigger(a: BaseTrigger, b: BaseTrigger) -> bool:
    if isinstance(a, CronTrigger) and isinstance(b, CronTrigger):
        return str(a) == str(b) and str(a.timezone) == str(b.timezone)
    if isinstance(a, IntervalTrigger) and isinstance(b, IntervalTrigger):
        return a.interval == b.interval and str(a.timezone) == str(b.timezone)
    return False


def sync_jobs(scheduler: BaseScheduler, settings: Settings, *, timezone: str) -> list[str]:
    """Make the stored jobs match ``JOBS`` and the settings; what changed.

    A job already stored with the same trigger keeps its next run time, so a run missed
    while no scheduler was running is still run (once) when this one resumes.
    """
    changes: list[str] = []
    for spec in JOBS.values():
        trigger = spec.trigger(settings.jobs, timezone)
        grace = spec.grace_seconds(settings.jobs)
        existing = scheduler.get_job(spec.name)
        if existing is None:
            scheduler.add_job(run_scheduled, trigger, args=(spec.name,), id=spec.name,
                              name=spec.name, misfire_grace_time=grace, coalesce=True,
                              max_instances=1)
            changes.append(f"added {spec.name}")
        elif not _same_trigger(existing.trigger, trigger) or (
                existing.misfire_grace_time != grace):
            scheduler.modify_job(spec.name, misfire_grace_time=grace)
            scheduler.reschedule_job(spec.name, trigger=trigger)
            changes.append(f"rescheduled {spec.name}")
    for job in scheduler.get_jobs():
        if job.id not in JOBS:
            scheduler.remove_job(job.id)
            changes.append(f"removed {job.id}")
    return changes


class SchedulerService:
    """The scheduler of ``replenish run``: paused until it holds the lease."""

    def __init__(self, settings: Settings, *, engine: Engine, timezone: str,
                 scheduler: BaseScheduler | None = None, holder: str | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings, self.engine, self.timezone = settings, engine, timezone
        self.scheduler = scheduler if scheduler is not None else BackgroundScheduler()
        configure(self.scheduler, engine=engine, timezone=timezone)
        self.holder = holder or new_holder()
        self.lease = Lease(engine, holder=self.holder, seconds=settings.jobs.lease_seconds)
        self.keeper = LeaseKeeper(self.lease, on_gain=self._gain, on_loss=self._lose,
                                  clock=clock)

    @property
    def active(self) -> bool:
        return self.keeper.held

    def start(self, *, keeper_thread: bool = True) -> None:
        """Start paused, look at the lease once (``active`` tells the outcome), then,
        with ``keeper_thread``, every third of ``jobs.lease_seconds`` (else call
        ``keeper.step()`` yourself)."""
        self.scheduler.start(paused=True)
        self.keeper.step()
        if keeper_thread:
            self.keeper.start()

    def _gain(self) -> None:
        global _context
        _context = _Context(self.engine, self.settings, self.holder)
        for change in sync_jobs(self.scheduler, self.settings, timezone=self.timezone):
            log.info("scheduler: %s", change)
        self.scheduler.resume()

    def _lose(self) -> None:
        global _context
        if self.scheduler.running:
            self.scheduler.pause()
        if _context is not None and _context.holder == self.holder:
            _context = None

    def shutdown(self) -> None:
        """Stop: let a running job finish, then give the lease back at once."""
        self.keeper.halt()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.keeper.stop()
