"""A fresh, migrated database per test (jobs open their own connections by URL), and a
scheduler that APScheduler's own job processing drives one step at a time."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine

from replenish.db import make_engine, upgrade_database


@dataclass
class Database:
    url: str
    engine: Engine


@pytest.fixture
def database(backend):
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    yield Database(url, engine)
    engine.dispose()


class SteppedScheduler(BaseScheduler):
    """APScheduler's job processing, run when the test says (``step``) instead of by a
    timer thread; jobs run in the calling thread (``DebugExecutor``)."""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        pass

    def step(self) -> None:
        self._process_jobs()

    def _create_default_executor(self):
        return DebugExecutor()
