"""Shared fixtures: the same database tests run on SQLite and on PostgreSQL.

* ``backend``  (session, parametrized ``sqlite`` / ``postgresql``): hands out fresh, empty
  databases: a temp file for SQLite, a new schema ``replenish_test_<random>`` for
  PostgreSQL (dropped at the end), so parallel runs never collide. When PostgreSQL
  cannot be reached its half is skipped with the reason, and the terminal summary
  says so. Set ``REPLENISH_TEST_POSTGRES_URL`` to use another server.
* ``engine``   (session): one database per run and backend, migrated with Alembic.
* ``session``  each test runs inside a transaction that is rolled back at the end; the
  code under test may commit (it commits a SAVEPOINT).
* ``settings`` the built-in defaults; ``shop`` a shop with the default products.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from replenish.db import database_url, make_engine, upgrade_database
from replenish.db.models import Shop, ShopCreate
from replenish.db.queries import create_shop
from replenish.settings import Settings, load_settings

POSTGRES_URL = os.environ.get(
    "REPLENISH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
_postgres_skipped = pytest.StashKey[str]()


@pytest.fixture(autouse=True)
def _no_replenish_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings from the developer's shell must not leak into tests."""
    for name in list(os.environ):
        if name.startswith("REPLENISH_") and not name.startswith("REPLENISH_TEST_"):
            monkeypatch.delenv(name)


class Backend:
    """Makes fresh, empty databases of one kind and cleans them up."""

    def __init__(self, name: str, tmp_dir: Path) -> None:
        self.name = name
        self._tmp_dir = tmp_dir
        self._schemas: list[str] = []
        self._admin: Engine | None = None

    def connect_admin(self) -> None:
        admin = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        try:
            with admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            admin.dispose()
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise ConnectionError(f"PostgreSQL not reachable at {POSTGRES_URL}: {reason}") from None
        self._admin = admin

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        if self.name == "sqlite":
            path = self._tmp_dir / f"replenish-{secrets.token_hex(4)}.db"
            return f"sqlite:///{path}"
        assert self._admin is not None
        schema = f"replenish_test_{secrets.token_hex(6)}"
        with self._admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        self._schemas.append(schema)
        url = database_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def close(self) -> None:
        if self._admin is None:
            return
        for schema in self._schemas:  # one transaction each: a lock per table dropped
            with self._admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self._admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    backend = Backend(request.param, tmp_path_factory.mktemp("databases"))
    if backend.name == "postgresql":
        try:
            backend.connect_admin()
        except ConnectionError as error:
            request.config.stash[_postgres_skipped] = str(error)
            pytest.skip(str(error))
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="session")
def engine(backend: Backend) -> Iterator[Engine]:
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            yield session
        transaction.rollback()


@pytest.fixture
def settings() -> Settings:
    return load_settings(Path(__file__).resolve().parents[1] / "settings.toml")


@pytest.fixture
def shop(session: Session, settings: Settings) -> Shop:
    return create_shop(
        session=session,
        shop_in=ShopCreate.from_params(settings.shop, name="Wang's Rice"),
        products=settings.products,
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reason = terminalreporter.config.stash.get(_postgres_skipped, None)
    if reason:
        terminalreporter.write_sep("=", "PostgreSQL", yellow=True)
        terminalreporter.write_line(
            f"The PostgreSQL half of the database tests was SKIPPED. {reason}. "
            "Start it (make test does) or set REPLENISH_TEST_POSTGRES_URL."
        )
