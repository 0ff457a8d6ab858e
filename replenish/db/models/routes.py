"""A day's routes: the plan for one shop and day, one route per courier, its stops.

* ``RoutePlan``: unique per shop and day. What was built, when, the totals, the drops
  that did not fit (with the reason, most urgent first) and any warning (such as OSRM
  being unreachable, so distances are straight lines times a detour factor).
* ``Route``: one courier's ordered stops for the day, with the totals.
* ``RouteStop``: one drop at one door, in order, with the planned arrival. A courier's
  submission carries a ``submission_key`` (unique) so a retried form is recorded once.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from replenish.db.columns import UTCDateTime, text_enum, utcnow

__all__ = ["Route", "RoutePlan", "RouteStop", "StopStatus"]


class StopStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    NOT_HOME = "not-home"
    REFUSED = "refused"


class RoutePlan(SQLModel, table=True):
    __tablename__ = "route_plans"
    __table_args__ = (sa.UniqueConstraint("shop_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    day: date
    built_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    km: float = 0.0
    duration_s: int = 0
    planned: int = 0
    # [{"drop_id", "customer_id", "customer", "quantity", "urgency", "reason"}]
    unplanned: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    warnings: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # {"added": [...], "prompted": [...], "km_saved": float, "trips_saved": int}
    consolidation: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    solver_seconds: float = 0.0


class Route(SQLModel, table=True):
    __tablename__ = "routes"
    __table_args__ = (sa.UniqueConstraint("plan_id", "courier_id"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    plan_id: int = Field(foreign_key="route_plans.id", ondelete="CASCADE")
    courier_id: int = Field(foreign_key="couriers.id", ondelete="CASCADE")
    day: date
    km: float = 0.0
    duration_s: int = 0
    load: float = 0.0
    starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    link_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RouteStop(SQLModel, table=True):
    __tablename__ = "route_stops"
    __table_args__ = (sa.Index(None, "route_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    route_id: int = Field(foreign_key="routes.id", ondelete="CASCADE")
    drop_id: int = Field(foreign_key="drops.id", ondelete="CASCADE", unique=True)
    customer_id: int = Field(foreign_key="customers.id", ondelete="CASCADE")
    seq: int
    arrive_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    travel_s: int = 0  # planned driving from the previous stop (or the shop)
    service_s: int = 0  # planned time at the door
    quantity: float
    status: StopStatus = Field(default=StopStatus.PENDING, sa_type=text_enum(StopStatus))
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submission_key: str | None = Field(default=None, max_length=128, unique=True)
    note: str = ""
