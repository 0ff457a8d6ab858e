"""APScheduler wiring. For now one job: the nightly forecast at 21:00 in each shop's zone.

The scheduler issue replaces this with persistent jobs (SQLAlchemyJobStore), a lease so
that one scheduler runs per database, and the rest of the timed jobs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from jobs.forecast import nightly_forecast
from replenish.settings import Settings

log = logging.getLogger("replenish.jobs")


def _run_nightly(database_url: str, settings: Settings) -> None:
    results = nightly_forecast(database_url=database_url, now=datetime.now(UTC),
                               settings=settings)
    for shop_id, result in results.items():
        log.info("nightly forecast for shop %s: %s", shop_id, result)


def build_scheduler(settings: Settings, *, timezone: str) -> BackgroundScheduler:
    """A scheduler (not started) with the nightly forecast at 21:00 in ``timezone``."""
    scheduler = BackgroundScheduler(timezone=timezone)
    scheduler.add_job(
        _run_nightly,
        CronTrigger(hour=21, minute=0, timezone=timezone),
        args=(settings.database_url, settings),
        id="nightly_forecast",
        coalesce=True,
        misfire_grace_time=6 * 3600,
        max_instances=1,
        replace_existing=True,
    )
    return scheduler
