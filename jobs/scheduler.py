"""APScheduler wiring: the nightly plan at 21:00 in the shop's zone, reminders and
follow-ups hourly, the outbox every few seconds.

The scheduler issue replaces this with persistent jobs (SQLAlchemyJobStore), a lease so
that one scheduler runs per database, and `replenish jobs list|run`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs.conversation import followups, nightly_plan, reminders, send_outbox
from replenish.settings import Settings
from replenish.sms.outbox import DispatchResult

log = logging.getLogger("replenish.jobs")

OUTBOX_SECONDS = 5
NIGHTLY_AT = time(21, 0)  # when the nightly plan runs, in the shop's zone


def _run(job: Callable[..., Any], database_url: str, settings: Settings) -> None:
    """Run one job now; a failure is logged with its traceback and stops nothing else."""
    try:
        result = job(database_url=database_url, now=datetime.now(UTC), settings=settings)
    except Exception:
        log.exception("job %s failed", job.__name__)
        return
    quiet = isinstance(result, DispatchResult) and not (
        result.sent or result.retried or result.failed or result.review or result.problems)
    (log.debug if quiet else log.info)("job %s: %s", job.__name__, result)


def build_scheduler(settings: Settings, *, timezone: str) -> BackgroundScheduler:
    """A scheduler (not started) with the conversation's jobs, times in ``timezone``."""
    scheduler = BackgroundScheduler(timezone=timezone)
    url = settings.database_url
    common: dict[str, Any] = {"coalesce": True, "max_instances": 1, "replace_existing": True}
    nightly = CronTrigger(hour=NIGHTLY_AT.hour, minute=NIGHTLY_AT.minute, timezone=timezone)
    scheduler.add_job(_run, nightly, args=(nightly_plan, url, settings), id="nightly_plan",
                      misfire_grace_time=6 * 3600, **common)
    scheduler.add_job(_run, CronTrigger(minute=5, timezone=timezone),
                      args=(reminders, url, settings), id="reminders",
                      misfire_grace_time=1800, **common)
    scheduler.add_job(_run, CronTrigger(minute=35, timezone=timezone),
                      args=(followups, url, settings), id="followups",
                      misfire_grace_time=1800, **common)
    scheduler.add_job(_run, IntervalTrigger(seconds=OUTBOX_SECONDS),
                      args=(send_outbox, url, settings), id="send_outbox",
                      misfire_grace_time=60, **common)
    return scheduler
