"""Initial tables: shops, products, couriers, customers, household changes, holds,
tanks, readings, drops.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 08:30:09.527406
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shops",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("open_time", sa.Time(), nullable=False),
        sa.Column("close_time", sa.Time(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shops")),
    )
    op.create_table(
        "couriers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_couriers_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_couriers")),
    )
    op.create_index(op.f("ix_couriers_shop_id"), "couriers", ["shop_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("units_per_litre", sa.Float(), nullable=False),
        sa.Column("bag_sizes", sa.JSON(), nullable=False),
        sa.Column("min_drop", sa.Float(), nullable=False),
        sa.Column("prior_adult", sa.Float(), nullable=False),
        sa.Column("prior_child", sa.Float(), nullable=False),
        sa.Column("prior_elder", sa.Float(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_products_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("shop_id", "key", name=op.f("uq_products_shop_id_key")),
    )
    op.create_index(op.f("ix_products_shop_id"), "products", ["shop_id"], unique=False)

    op.create_table(
        "customers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("notes", sa.String(), nullable=False),
        sa.Column("habits", sa.String(), nullable=False),
        sa.Column("preferred_product_id", sa.Integer(), nullable=True),
        sa.Column("delivery_mode", sa.String(length=32), nullable=False),
        sa.Column("time_windows", sa.JSON(), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["courier_id"],
            ["couriers.id"],
            name=op.f("fk_customers_courier_id_couriers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["preferred_product_id"],
            ["products.id"],
            name=op.f("fk_customers_preferred_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_customers_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("shop_id", "phone", name=op.f("uq_customers_shop_id_phone")),
    )
    op.create_index(op.f("ix_customers_courier_id"), "customers", ["courier_id"], unique=False)
    op.create_index(op.f("ix_customers_shop_id"), "customers", ["shop_id"], unique=False)

    op.create_table(
        "holds",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_holds_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_holds_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    op.create_index(
        op.f("ix_holds_customer_id"), "holds", ["customer_id", "start_date"], unique=False
    )
    op.create_index(op.f("ix_holds_shop_id"), "holds", ["shop_id"], unique=False)

    op.create_table(
        "household_changes",
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("adults", sa.Integer(), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.Column("elders", sa.Integer(), nullable=False),
        sa.Column("eats_at_home", sa.Float(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_household_changes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_household_changes_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_changes")),
    )
    op.create_index(
        op.f("ix_household_changes_customer_id"),
        "household_changes",
        ["customer_id", "effective_date"],
        unique=False,
    )
    op.create_index(
        op.f("ix_household_changes_shop_id"), "household_changes", ["shop_id"], unique=False
    )

    op.create_table(
        "tanks",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("shape", sa.String(length=32), nullable=False),
        sa.Column("diameter_cm", sa.Float(), nullable=True),
        sa.Column("width_cm", sa.Float(), nullable=True),
        sa.Column("depth_cm", sa.Float(), nullable=True),
        sa.Column("height_cm", sa.Float(), nullable=True),
        sa.Column("capacity", sa.Float(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_tanks_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_tanks_product_id_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_tanks_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tanks")),
    )
    op.create_index(op.f("ix_tanks_customer_id"), "tanks", ["customer_id"], unique=False)
    op.create_index(op.f("ix_tanks_product_id"), "tanks", ["product_id"], unique=False)
    op.create_index(op.f("ix_tanks_shop_id"), "tanks", ["shop_id"], unique=False)

    op.create_table(
        "drops",
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("level_before", sa.Float(), nullable=True),
        sa.Column("level_after", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("tank_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["courier_id"],
            ["couriers.id"],
            name=op.f("fk_drops_courier_id_couriers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_drops_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tank_id"], ["tanks.id"], name=op.f("fk_drops_tank_id_tanks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drops")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_drops_idempotency_key")),
    )
    op.create_index(op.f("ix_drops_courier_id"), "drops", ["courier_id"], unique=False)
    op.create_index(op.f("ix_drops_shop_id"), "drops", ["shop_id"], unique=False)
    op.create_index(op.f("ix_drops_tank_id"), "drops", ["tank_id", "delivered_on"], unique=False)

    op.create_table(
        "readings",
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("depth_cm", sa.Float(), nullable=True),
        sa.Column("level", sa.Float(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("tank_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_readings_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tank_id"], ["tanks.id"], name=op.f("fk_readings_tank_id_tanks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readings")),
    )
    op.create_index(op.f("ix_readings_shop_id"), "readings", ["shop_id"], unique=False)
    op.create_index(op.f("ix_readings_tank_id"), "readings", ["tank_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_readings_tank_id"), table_name="readings")
    op.drop_index(op.f("ix_readings_shop_id"), table_name="readings")

    op.drop_table("readings")
    op.drop_index(op.f("ix_drops_tank_id"), table_name="drops")
    op.drop_index(op.f("ix_drops_shop_id"), table_name="drops")
    op.drop_index(op.f("ix_drops_courier_id"), table_name="drops")

    op.drop_table("drops")
    op.drop_index(op.f("ix_tanks_shop_id"), table_name="tanks")
    op.drop_index(op.f("ix_tanks_product_id"), table_name="tanks")
    op.drop_index(op.f("ix_tanks_customer_id"), table_name="tanks")

    op.drop_table("tanks")
    op.drop_index(op.f("ix_household_changes_shop_id"), table_name="household_changes")
    op.drop_index(op.f("ix_household_changes_customer_id"), table_name="household_changes")

    op.drop_table("household_changes")
    op.drop_index(op.f("ix_holds_shop_id"), table_name="holds")
    op.drop_index(op.f("ix_holds_customer_id"), table_name="holds")

    op.drop_table("holds")
    op.drop_index(op.f("ix_customers_shop_id"), table_name="customers")
    op.drop_index(op.f("ix_customers_courier_id"), table_name="customers")

    op.drop_table("customers")
    op.drop_index(op.f("ix_products_shop_id"), table_name="products")

    op.drop_table("products")
    op.drop_index(op.f("ix_couriers_shop_id"), table_name="couriers")

    op.drop_table("couriers")
    op.drop_table("shops")
