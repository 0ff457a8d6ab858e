"""Texts stored by the webhook and applied just after it answered, in batches.

``apply_batch`` applies waiting texts in arrival (id) order, many to a transaction:

1. it claims them, reading them as it does (one ``UPDATE ... SET processed_at WHERE
   processed_at IS NULL RETURNING``: a text two processes try to apply is applied by one
   of them);
2. it reads what they need for all of them at once (``InboundLookup.preload``: shops,
   products, customers, open proposals with their drops, tanks with forecasts), applies
   each in turn, and leaves their changes to one flush and one commit;
3. if anything fails (a text, the flush or the commit), that transaction is rolled back
   and its texts, and those after them, are applied again one by one, each in a
   transaction of its own. A text that fails then too is kept, stored and unhandled, for
   the owner's inbox, and marked processed so that it is not tried forever; the others
   are applied as usual. (No SAVEPOINT per text: the usual way costs two statements less
   a text, and a failure, which is rare, costs a second try of its batch's texts.)

``apply_stored`` applies one text (a batch of one); ``process_pending`` applies every
stored text not applied yet, oldest first, in batches (after a restart, or from a job).
``InboundWorker`` is the app's thread: it takes everything waiting in its queue as one
batch, so the busier the webhook, the more texts share a commit.

SQLite has one write lock. ``WriteTurns`` hands it out within the process, without
SQLite's busy handler (which sleeps 1, 2, 5, 10 ... ms between tries): a webhook that
stores a text goes first. The worker, between two texts of a batch, commits what it has
applied when a store is waiting (giving back the texts it claimed but has not applied),
lets the store go, and goes on in a new transaction with what it has read (a store
waits for at most one text, not a batch).
"""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Engine, bindparam, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col, select

from replenish.conversation.inbound import InboundResult, apply_claimed
from replenish.conversation.lookup import InboundLookup
from replenish.db.models import InboundMessage
from replenish.settings import Settings

__all__ = ["BATCH_SIZE", "InboundWorker", "WriteTurns", "apply_batch", "apply_stored",
           "process_pending"]

logger = logging.getLogger(__name__)

BATCH_SIZE = 100  # texts per transaction at most
SWEEP_EVERY = 60.0  # seconds of quiet before the worker retries texts left stored
CHECKPOINT_EVERY = 0.25  # seconds between the worker's WAL checkpoints (SQLite)

Item = tuple[int, str | None]  # (inbound id, Twilio's OptOutType)


class WriteTurns:
    """Turns at SQLite's write lock for the webhook's stores and the worker, within one
    process: a store goes before the worker's next text; the worker waits while stores
    are waiting (at most ``patience`` seconds, so that it is never starved)."""

    def __init__(self, *, patience: float = 0.05) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._stores_waiting = 0
        self._patience = patience

    @contextmanager
    def store(self) -> Iterator[None]:
        with self._cond:
            self._stores_waiting += 1
            try:
                while self._busy:
                    self._cond.wait()
            finally:
                self._stores_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def apply(self) -> Iterator[None]:
        deadline = time.monotonic() + self._patience
        with self._cond:
            while self._busy or (self._stores_waiting and time.monotonic() < deadline):
                self._cond.wait(max(deadline - time.monotonic(), 0.001))
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def store_waiting(self) -> bool:
        """A webhook waits to store a text: the worker should commit and let it."""
        return self._stores_waiting > 0

    def _release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()


def apply_batch(*, engine: Engine, settings: Settings, items: Iterable[Item],
                now: datetime | None = None,
                turns: WriteTurns | None = None) -> dict[int, InboundResult | None]:
    """Apply stored texts ``(inbound id, OptOutType)`` in id order; see the module docstring.

    What each did, by id: None when it was not applied (it failed and waits in the inbox,
    it was applied before, or there is no such text). With ``turns`` (SQLite) the batch
    commits, and goes on in a new transaction, whenever a store is waiting.
    """
    answered: dict[int, str | None] = {}
    for inbound_id, provider_answered in items:
        answered[inbound_id] = answered.get(inbound_id) or provider_answered
    waiting = sorted(answered)
    results: dict[int, InboundResult | None] = dict.fromkeys(waiting)
    for start in range(0, len(waiting), BATCH_SIZE):
        chunk = waiting[start:start + BATCH_SIZE]
        done: dict[int, InboundResult | None] = {}
        try:
            _apply_together(engine, settings, chunk, answered, done, now=now, turns=turns)
        except Exception as error:
            left = chunk[len(done):]
            if len(left) > 1:  # rolled back: each text again in a transaction of its own
                logger.warning("applying %d texts together failed; applying them one by one",
                               len(left), exc_info=True)
            for inbound_id in left:
                done[inbound_id] = _apply_alone(engine, settings, inbound_id, answered,
                                                now=now, turns=turns, retry=len(left) > 1,
                                                error=error)
        results.update(done)
    return results


def _apply_together(engine: Engine, settings: Settings, ids: Sequence[int],
                    answered: dict[int, str | None], done: dict[int, InboundResult | None],
                    *, now: datetime | None, turns: WriteTurns | None = None) -> None:
    """Apply the texts ``ids`` in order and commit; ``done`` gets what each did, as each
    transaction commits. One transaction, or with ``turns`` one more each time a store
    was let in. Raises on any failure: the texts not in ``done`` were not applied."""
    turn = _Turn(turns)
    # the rows read stay valid across this batch's commits: only it changes them
    with turn, Session(engine, expire_on_commit=False) as session:
        moment = now or datetime.now(UTC)
        rows = {row.id: row for row in session.exec(  # claimed and read in one statement
            _claim_statement(), params={"ids": list(ids), "moment": moment}).scalars()}
        claimed = set(rows)  # claimed in this transaction, not applied yet
        lookup = InboundLookup(session)
        lookup.preload(rows.values())
        applied: dict[int, InboundResult | None] = {}  # in this transaction
        for inbound_id in ids:
            if applied and turn.store_waiting():  # commit what is applied, let the store go
                connection = session.connection()
                if claimed:  # the rest is not ours until the next transaction
                    connection.execute(_unclaim_statement(), {"ids": sorted(claimed)})
                session.commit()
                done.update(applied)
                applied = {}
                turn.let_store_go()
                if claimed:
                    claimed = set(session.connection().execute(_reclaim_statement(), {
                        "ids": sorted(claimed), "moment": moment}).scalars())
            if inbound_id not in claimed:
                applied[inbound_id] = None  # applied before (or elsewhere), or no such text
                continue
            claimed.discard(inbound_id)
            inbound = rows[inbound_id]
            if inbound.handled:  # handled before processed_at existed
                applied[inbound_id] = InboundResult(None, customer_id=inbound.customer_id,
                                                    already_handled=True)
                continue
            applied[inbound_id] = apply_claimed(  # its changes are flushed at the commit
                session=session, inbound=inbound, now=now or moment, settings=settings,
                provider_answered=answered.get(inbound_id) or inbound.opt_out_type,
                lookup=lookup, flush=False)
        session.commit()
        done.update(applied)


class _Turn:
    """The worker's turn at the write lock (with ``WriteTurns``), or nothing to do."""

    def __init__(self, turns: WriteTurns | None) -> None:
        self._turns = turns
        self._held: AbstractContextManager[None] | None = None

    def __enter__(self) -> _Turn:
        if self._turns is not None:
            self._held = self._turns.apply()
            self._held.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            held.__exit__(None, None, None)

    def store_waiting(self) -> bool:
        return self._turns is not None and self._turns.store_waiting()

    def let_store_go(self) -> None:
        self.__exit__()
        self.__enter__()


def _apply_alone(engine: Engine, settings: Settings, inbound_id: int,
                 answered: dict[int, str | None], *, now: datetime | None,
                 turns: WriteTurns | None, retry: bool,
                 error: BaseException | None = None) -> InboundResult | None:
    """Apply one text in a transaction of its own (``retry``: it was in a batch that
    failed); if it fails (again), keep it, unhandled and marked processed, for the owner.
    A failure of the database itself (locked too long, connection lost) parks nothing:
    the text stays stored, unclaimed, and the worker's sweep (``process_pending``) tries
    it again."""
    if retry:
        done: dict[int, InboundResult | None] = {}
        try:
            _apply_together(engine, settings, [inbound_id], answered, done, now=now,
                            turns=turns)
            return done[inbound_id]
        except Exception as again:
            error = again
    if isinstance(error, OperationalError | InterfaceError):
        logger.warning("could not apply text %s now (%s); it is tried again", inbound_id,
                       error)
        return None
    logger.error("could not apply text %s; it waits in the inbox", inbound_id,
                 exc_info=error)
    try:
        with _Turn(turns), Session(engine) as session:
            session.connection().execute(_reclaim_statement(), {
                "ids": [inbound_id], "moment": now or datetime.now(UTC)})
            session.commit()
    except Exception:  # the database itself fails: process_pending tries it again
        logger.exception("could not mark text %s; it stays stored", inbound_id)
    return None


@cache
def _claim_statement() -> Any:
    """``UPDATE inbound_messages SET processed_at = :moment WHERE id IN :ids AND
    processed_at IS NULL RETURNING *``: the texts that are ours to apply, read as they are
    claimed. Built once."""
    return (update(InboundMessage)
            .where(col(InboundMessage.id).in_(bindparam("ids", expanding=True)),
                   col(InboundMessage.processed_at).is_(None))
            .values(processed_at=bindparam("moment"))
            .returning(InboundMessage))


@cache
def _unclaim_statement() -> Any:
    """Texts claimed but not applied, given back before a commit that lets a store go."""
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    return (table.update().where(table.c.id.in_(bindparam("ids", expanding=True)))
            .values(processed_at=None))


@cache
def _reclaim_statement() -> Any:
    """The same texts claimed again in the next transaction (``RETURNING id``)."""
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    return (table.update()
            .where(table.c.id.in_(bindparam("ids", expanding=True)),
                   table.c.processed_at.is_(None))
            .values(processed_at=bindparam("moment"))
            .returning(table.c.id))


def apply_stored(*, engine: Engine, settings: Settings, inbound_id: int,
                 provider_answered: str | None = None,
                 now: datetime | None = None) -> InboundResult | None:
    """Apply one stored text (a second call does nothing); None if it failed."""
    return apply_batch(engine=engine, settings=settings, items=[(inbound_id, provider_answered)],
                       now=now)[inbound_id]


def process_pending(*, engine: Engine, settings: Settings, limit: int = 1000) -> int:
    """Apply stored texts not applied yet, oldest first, in batches; how many were applied."""
    with Session(engine) as session:
        ids = session.exec(select(InboundMessage.id)
                           .where(col(InboundMessage.processed_at).is_(None))
                           .order_by(col(InboundMessage.id)).limit(limit)).all()
    results = apply_batch(engine=engine, settings=settings,
                          items=[(i, None) for i in ids if i is not None])
    return sum(result is not None for result in results.values())


class InboundWorker:
    """One thread that applies stored texts in arrival order, so that the webhook only
    stores and answers. ``drain()`` waits until everything submitted is applied.

    It applies texts in batches (``apply_batch``): after the first text it waits up to
    ``linger`` seconds for more (or for ``BATCH_SIZE``), so that under load many texts
    share a transaction and its fixed cost (claim, reads, commit), and the worker takes
    the interpreter in fewer, shorter turns. The answer to a text is queued that much
    later; nobody waits for it (the webhook has answered already).

    On SQLite ``turns`` (a ``WriteTurns``) is shared with the webhook's stores, and the
    worker checkpoints the write-ahead log between batches (``_checkpoint``)."""

    def __init__(self, *, engine: Engine, settings: Settings, linger: float = 0.02) -> None:
        self._engine, self._settings, self._linger = engine, settings, linger
        self._queue: queue.Queue[Item | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.turns = WriteTurns() if engine.dialect.name == "sqlite" else None
        self._next_checkpoint = 0.0

    def start(self) -> None:
        """Start the thread. The app has loaded by now (the worker starts last): what is
        loaded is moved out of the garbage collector's way (``gc.freeze``), so that a full
        collection walks only what was made since, not every module, class and function
        of the app: under load that walk stopped every thread, the webhook's too, for
        about 100 ms every few seconds."""
        if self._thread is None:
            gc.collect()
            gc.freeze()
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
        stopping = False
        while not stopping:
            try:
                taken = [self._queue.get(timeout=SWEEP_EVERY)]
            except queue.Empty:  # idle: texts left stored (a database hiccup) get a retry
                self._sweep()
                continue
            deadline = time.monotonic() + self._linger
            while len(taken) < BATCH_SIZE and taken[-1] is not None:
                try:
                    taken.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0)))
                except queue.Empty:
                    break
            items = [item for item in taken if item is not None]
            stopping = len(items) < len(taken)
            try:
                if items:
                    apply_batch(engine=self._engine, settings=self._settings, items=items,
                                turns=self.turns)
                    self._checkpoint()
            except Exception:  # never let one batch stop the worker
                logger.exception("applying stored texts failed")
            finally:
                for _ in taken:
                    self._queue.task_done()

    def _sweep(self) -> None:
        try:
            process_pending(engine=self._engine, settings=self._settings)
        except Exception:  # never let the sweep stop the worker
            logger.exception("retrying stored texts failed")

    def _checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database now and then, here, outside
        any turn (PASSIVE: it waits for nobody, and nobody waits for it). Left to itself,
        SQLite does it in whichever commit makes the log pass 1,000 pages, with two fsyncs
        that a busy disk can stretch to 100 ms or more; when that commit was a store's,
        or the worker's under its turn, every webhook waited as long. Kept short, the log
        never gets there."""
        if self._engine.dialect.name != "sqlite" or time.monotonic() < self._next_checkpoint:
            return
        self._next_checkpoint = time.monotonic() + CHECKPOINT_EVERY
        raw = self._engine.raw_connection()  # no BEGIN: a checkpoint runs outside one
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            cursor.fetchall()
            cursor.close()
        finally:
            raw.close()
