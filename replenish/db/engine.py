"""Engines and sessions for SQLite (embedded default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlmodel import Session

__all__ = ["database_url", "get_session", "make_engine", "shared_engine"]


def database_url(url: str | URL) -> URL:
    """Normalise a database URL: ``postgresql://`` and ``postgres://`` use psycopg 3."""
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url``; extra keyword arguments go to ``create_engine``.

    SQLite: write-ahead logging (readers do not block the writer), foreign keys on, and
    SQLAlchemy (not the sqlite3 module) emits BEGIN IMMEDIATE so that SAVEPOINTs and
    transactional DDL behave as on PostgreSQL.
    PostgreSQL: ``postgresql://`` is translated to the psycopg 3 driver; a schema can be
    chosen with ``?options=-csearch_path%3Dmyschema`` in the URL or
    ``connect_args={"options": "-csearch_path=myschema"}``.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


_SHARED: OrderedDict[str, Engine] = OrderedDict()
_SHARED_LOCK = threading.Lock()
_SHARED_MAX = 4


def shared_engine(url: str) -> Engine:
    """One engine per URL for the whole process, for jobs that run every few seconds
    (a new engine each time would open a new connection each time). The least recently
    used of more than four is disposed of."""
    with _SHARED_LOCK:
        engine = _SHARED.pop(url, None) or make_engine(url)
        _SHARED[url] = engine
        while len(_SHARED) > _SHARED_MAX:
            _, old = _SHARED.popitem(last=False)
            old.dispose()
        return engine


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Take BEGIN away from the sqlite3 module (its legacy mode skips it before SAVEPOINT
    # and DDL); _sqlite_begin emits it instead. PRAGMAs must run outside a transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
    finally:
        cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE: take the write lock at BEGIN. A deferred transaction that read first and
    # then writes fails at once with "database is locked" when another writer committed
    # in between (SQLite cannot wait there); an immediate one waits its turn (busy_timeout).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def get_session(engine: Engine) -> Iterator[Session]:
    """Yield a session bound to ``engine`` and close it afterwards.

    Query functions only flush; the caller commits, so a state change and the SMS it
    causes (outbox) land in one transaction. For FastAPI::

        def session_dep() -> Iterator[Session]:
            yield from get_session(app.state.engine)
        SessionDep = Annotated[Session, Depends(session_dep)]
    """
    with Session(engine) as session:
        yield session
