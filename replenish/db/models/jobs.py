"""The scheduler's tables: its persistent jobs, its lease and the log of job runs.

* ``apscheduler_jobs`` is APScheduler 3's ``SQLAlchemyJobStore`` table, declared here with
  exactly the store's columns so that Alembic owns it (the store then finds it made).
* ``scheduler_leases``: one row per lease name. The process whose ``holder`` is written
  there, with ``expires_at`` still ahead, is the one scheduler of this database; it
  renews the row every few seconds. Another process takes the row over only once it has
  expired (the holder died or hung).
* ``job_runs``: one row per job run (quiet outbox runs that sent nothing are not kept):
  when it ran, for which moment (``as_of``), how it ended, a one-line summary and, for a
  failure, the traceback. What ``replenish jobs list`` and the owner's Jobs page show.

These rows belong to the whole installation, not to one shop: a job runs every shop.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from replenish.db.columns import UTCDateTime, text_enum, utcnow

__all__ = ["APSCHEDULER_TABLE", "JobRun", "JobStatus", "SchedulerLease"]

# The same definition as apscheduler.jobstores.sqlalchemy.SQLAlchemyJobStore's.
APSCHEDULER_TABLE = sa.Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary, nullable=False),
)


class SchedulerLease(SQLModel, table=True):
    __tablename__ = "scheduler_leases"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)  # host:pid:random of the holding process
    acquired_at: datetime = Field(sa_type=UTCDateTime)
    renewed_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class JobStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


class JobRun(SQLModel, table=True):
    __tablename__ = "job_runs"
    __table_args__ = (sa.Index(None, "job", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    manual: bool = False  # started by `replenish jobs run`, not by the schedule
    as_of: datetime = Field(sa_type=UTCDateTime)  # the moment the job ran for
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: JobStatus = Field(sa_type=text_enum(JobStatus), index=True)
    summary: str = Field(default="", max_length=2000)
    error: str | None = Field(default=None, sa_type=sa.Text)
    holder: str = Field(default="", max_length=200)
