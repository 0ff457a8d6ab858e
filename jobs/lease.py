"""One scheduler per database: a lease row that the active process keeps renewing.

``Lease.hold(now)`` takes the row when it is free or expired, or renews it when this
process already holds it, in one conditional UPDATE (on SQLite inside ``BEGIN
IMMEDIATE``; on PostgreSQL the row lock makes a second UPDATE re-check the condition), so
two processes can never both hold it. ``LeaseKeeper`` is the thread that calls it every
third of the lease and tells the scheduler when it gained or lost the lease. A process
that stops cleanly gives the lease back at once; one that dies loses it when it expires.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, case, delete, literal, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col

from replenish.db.columns import UTCDateTime
from replenish.db.models import SchedulerLease

__all__ = ["Lease", "LeaseKeeper", "new_holder"]

log = logging.getLogger("replenish.jobs")

SCHEDULER_LEASE = "scheduler"


def new_holder() -> str:
    """A name for this process: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    def __init__(self, engine: Engine, *, holder: str, seconds: float,
                 name: str = SCHEDULER_LEASE) -> None:
        self.engine, self.holder, self.name = engine, holder, name
        self.ttl = timedelta(seconds=seconds)

    def hold(self, now: datetime) -> bool:
        """Take or renew the lease at ``now``; whether this process holds it now."""
        expires = now + self.ttl
        mine = col(SchedulerLease.holder) == self.holder
        with Session(self.engine) as session:
            taken = session.exec(
                update(SchedulerLease)
                .where(col(SchedulerLease.name) == self.name,
                       mine | (col(SchedulerLease.expires_at) < now))
                .values(holder=self.holder, renewed_at=now, expires_at=expires,
                        acquired_at=case((mine, col(SchedulerLease.acquired_at)),
                                         else_=literal(now, UTCDateTime()))))
            if taken.rowcount == 1:
                session.commit()
                return True
            if session.get(SchedulerLease, self.name) is not None:
                return False  # someone else's, still valid
            session.add(SchedulerLease(name=self.name, holder=self.holder, acquired_at=now,
                                       renewed_at=now, expires_at=expires))
            try:
                session.commit()
            except IntegrityError:  # another process made the row first
                return False
            return True

    def release(self) -> None:
        """Give the lease back (a clean stop), so that another process takes over now."""
        with Session(self.engine) as session:
            session.exec(delete(SchedulerLease).where(
                col(SchedulerLease.name) == self.name,
                col(SchedulerLease.holder) == self.holder))
            session.commit()

    def current(self) -> SchedulerLease | None:
        with Session(self.engine) as session:
            return session.get(SchedulerLease, self.name)


class LeaseKeeper(threading.Thread):
    """Holds the lease while the process runs: ``on_gain`` when it becomes the active
    scheduler, ``on_loss`` when it can no longer be sure it is (the row was taken over,
    or the database could not be reached for longer than the lease)."""

    def __init__(self, lease: Lease, *, on_gain: Callable[[], None],
                 on_loss: Callable[[], None],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(name="replenish-lease", daemon=True)
        self.lease, self.on_gain, self.on_loss, self.clock = lease, on_gain, on_loss, clock
        self.held = False
        self._held_until: datetime | None = None
        self._stop_event = threading.Event()

    def step(self) -> bool:
        """One look at the lease; whether it is held afterwards."""
        now = self.clock()
        try:
            held = self.lease.hold(now)
        except OperationalError as error:
            log.warning("scheduler lease: database unavailable: %s", error)
            held = self.held and self._held_until is not None and now < self._held_until
        if held:
            self._held_until = now + self.lease.ttl
        if held and not self.held:
            self.held = True
            log.info("scheduler lease taken by %s: this process runs the jobs",
                     self.lease.holder)
            self.on_gain()
        elif not held and self.held:
            self.held = False
            log.warning("scheduler lease lost by %s: jobs paused", self.lease.holder)
            self.on_loss()
        return held

    def run(self) -> None:
        """Look at the lease every third of its length (call ``step`` once first)."""
        interval = self.lease.ttl.total_seconds() / 3
        while not self._stop_event.wait(interval):
            try:
                self.step()
            except Exception:  # never let the keeper die: log, and look again
                log.exception("scheduler lease check failed")

    def halt(self) -> None:
        """Stop looking at the lease (keep it, if held, until ``stop``)."""
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=10)

    def stop(self) -> None:
        """Stop looking; give the lease back if held."""
        self.halt()
        if self.held:
            self.held = False
            self.on_loss()
            try:
                self.lease.release()
                log.info("scheduler lease given back by %s", self.lease.holder)
            except OperationalError as error:
                log.warning("scheduler lease not given back: %s", error)
