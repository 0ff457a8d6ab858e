"""Proposed drops: what the shop offered a customer, and where the conversation stands.

One row per offer. ``cycle_key`` is unique: the nightly plan offers one drop per tank
per cycle (the tank and the order-by date it answers), so running the plan twice never
offers twice. A booked proposal points at its planned ``Drop``.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from replenish.core.conversation import ProposalState
from replenish.core.types import DeliveryMode
from replenish.db.columns import UTCDateTime, text_enum, utcnow


class Proposal(SQLModel, table=True):
    __tablename__ = "proposals"
    __table_args__ = (sa.Index(None, "customer_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    customer_id: int = Field(foreign_key="customers.id", ondelete="CASCADE")
    tank_id: int = Field(foreign_key="tanks.id", ondelete="CASCADE", index=True)
    product_id: int = Field(foreign_key="products.id", ondelete="RESTRICT")
    mode: DeliveryMode = Field(sa_type=text_enum(DeliveryMode))
    state: ProposalState = Field(sa_type=text_enum(ProposalState), index=True)
    drop_on: date
    quantity: float = Field(gt=0)
    snoozed_until: date | None = None  # ask again (a new proposal) from this day
    told_on: date | None = None  # the drop day the last text about it named
    cycle_key: str = Field(max_length=128, unique=True)
    drop_id: int | None = Field(default=None, foreign_key="drops.id", ondelete="SET NULL")
    prompted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    on_call_list: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
