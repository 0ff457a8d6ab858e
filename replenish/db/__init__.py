"""The database layer: SQLModel tables, engine and session, migrations, query functions.

    from replenish.db import make_engine, get_session, upgrade_database
    from replenish.db.models import Customer, CustomerCreate
    from replenish.db.queries import create_customer

Query functions take keyword arguments only, add and flush, and leave the commit to
the caller. Errors: see ``replenish.db.errors``.
"""

from replenish.db.engine import database_url, get_session, make_engine, shared_engine
from replenish.db.errors import DuplicateError, NotFoundError
from replenish.db.migrate import database_revision, head_revision, upgrade_database

__all__ = [
    "DuplicateError",
    "NotFoundError",
    "database_revision",
    "database_url",
    "get_session",
    "head_revision",
    "make_engine",
    "shared_engine",
    "upgrade_database",
]
