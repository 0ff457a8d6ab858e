from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from replenish.db import database_revision, head_revision, make_engine, upgrade_database
from replenish.db.migrate import alembic_config

TABLES = {
    "shops",
    "products",
    "couriers",
    "customers",
    "household_changes",
    "holds",
    "tanks",
    "readings",
    "drops",
}


def test_migrations_upgrade_an_empty_database_to_head(backend):
    url = backend.new_database()
    assert database_revision(url) is None

    upgrade_database(url)

    assert database_revision(url) == head_revision()
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_upgrading_a_database_already_at_head_changes_nothing(backend):
    url = backend.new_database()
    upgrade_database(url)
    upgrade_database(url)
    assert database_revision(url) == head_revision()


def test_the_migrations_create_exactly_what_the_models_describe(backend):
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_migrations_downgrade_to_an_empty_database(backend):
    url = backend.new_database()
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrading_keeps_every_row_a_shop_already_has(backend):
    from sqlalchemy import text

    url = backend.new_database()
    upgrade_database(url, revision="0001")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO shops (id, name, timezone, locale, region, currency, open_time, "
                "close_time, created_at) VALUES (1, '林記米行', 'Asia/Taipei', 'zh-TW', 'TW', "
                "'TWD', '08:00:00', '20:00:00', '2026-01-01 00:00:00')"))
            connection.execute(text(
                "INSERT INTO customers (id, shop_id, name, phone, address, notes, habits, "
                "delivery_mode, time_windows, language, opted_out, created_at) VALUES "
                "(1, 1, '王太太', '+886912345678', '台南市', '', '', 'confirm', '[]', 'zh-TW', "
                "false, '2026-01-01 00:00:00')"))
        upgrade_database(url)
        assert database_revision(url) == head_revision()
        with engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM customers")).scalars().all()
            shops = connection.execute(text("SELECT name FROM shops")).scalars().all()
        assert names == ["王太太"] and shops == ["林記米行"]
    finally:
        engine.dispose()
