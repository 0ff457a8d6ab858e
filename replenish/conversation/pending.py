"""Texts stored by the webhook and applied just after it answered.

``apply_stored`` applies one text in its own transaction; ``process_pending`` applies
every stored text not applied yet, oldest first (after a restart, or from a job). A text
that cannot be applied is kept, unhandled, for the owner's inbox, and marked processed so
that it is not tried forever.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from replenish.conversation.inbound import InboundResult, handle_inbound
from replenish.db.models import InboundMessage
from replenish.settings import Settings

__all__ = ["InboundWorker", "apply_stored", "process_pending"]

logger = logging.getLogger(__name__)


def apply_stored(*, engine: Engine, settings: Settings, inbound_id: int,
                 provider_answered: str | None = None,
                 now: datetime | None = None) -> InboundResult | None:
    """Apply one stored text (a second call does nothing); None if it failed."""
    with Session(engine) as session:
        inbound = session.get(InboundMessage, inbound_id)
        if inbound is None or inbound.processed_at is not None:
            return None
        moment = now or datetime.now(UTC)
        try:
            with session.begin_nested():
                result = handle_inbound(session=session, inbound=inbound, now=moment,
                                        settings=settings, provider_answered=provider_answered)
        except Exception:  # the text is kept, unhandled, for the owner to read
            logger.exception("could not apply text %s; it waits in the inbox",
                             inbound.provider_sid)
            inbound = session.get(InboundMessage, inbound_id)
            assert inbound is not None
            inbound.processed_at = moment
            session.add(inbound)
            session.commit()
            return None
        session.commit()
        return result


def process_pending(*, engine: Engine, settings: Settings, limit: int = 1000) -> int:
    """Apply stored texts not applied yet, oldest first; how many were applied."""
    with Session(engine) as session:
        ids = session.exec(select(InboundMessage.id)
                           .where(col(InboundMessage.processed_at).is_(None))
                           .order_by(col(InboundMessage.id)).limit(limit)).all()
    done = 0
    for inbound_id in ids:
        if inbound_id is not None and apply_stored(engine=engine, settings=settings,
                                                   inbound_id=inbound_id) is not None:
            done += 1
    return done


class InboundWorker:
    """One thread that applies stored texts in arrival order, so that the webhook only
    stores and answers. ``drain()`` waits until everything submitted is applied."""

    def __init__(self, *, engine: Engine, settings: Settings) -> None:
        self._engine, self._settings = engine, settings
        self._queue: queue.Queue[tuple[int, str | None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="inbound", daemon=True)
            self._thread.start()

    def submit(self, inbound_id: int, provider_answered: str | None = None) -> None:
        self._queue.put((inbound_id, provider_answered))

    def drain(self) -> None:
        self._queue.join()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                inbound_id, provider_answered = item
                apply_stored(engine=self._engine, settings=self._settings,
                             inbound_id=inbound_id, provider_answered=provider_answered)
            except Exception:  # never let one text stop the worker
                logger.exception("applying a stored text failed")
            finally:
                self._queue.task_done()
