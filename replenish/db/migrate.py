"""Create or upgrade a database to the newest schema, from code (no alembic.ini needed).

Developers making a new revision use the packaged ini file::

    REPLENISH_DATABASE_URL=sqlite:///dev.db \\
        alembic -c replenish/db/alembic.ini revision --autogenerate -m "add forecasts"
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL

from replenish.db.engine import make_engine

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "database_revision",
    "head_revision",
    "upgrade_database",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def upgrade_database(url: str | URL, *, revision: str = "head") -> None:
    """Create the tables in an empty database, or upgrade an older one, to ``revision``.

    Safe to run again: an up-to-date database is left as it is.
    """
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def database_revision(url: str | URL) -> str | None:
    """The revision a database is at (None: never migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
