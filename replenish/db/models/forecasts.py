"""Each tank's forecast: the learning state the core keeps, and tonight's answer.

One row per tank. The state columns mirror ``replenish.core.codec.FIELDS``; its
moments are stored as epoch seconds (UTC) so that the nightly job can read a
million of them straight into arrays. ``stale`` asks the next run to refold the
tank's whole history (a back-dated reading, an edited household or hold).
"""

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from replenish.db.columns import UTCDateTime


class TankForecast(SQLModel, table=True):
    __tablename__ = "tank_forecasts"

    tank_id: int = Field(foreign_key="tanks.id", ondelete="CASCADE", primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    customer_id: int = Field(foreign_key="customers.id", ondelete="CASCADE", index=True)
    product_id: int = Field(foreign_key="products.id", ondelete="CASCADE")
    stale: bool = Field(default=True, index=True)

    # --- learning state (see replenish.core.consumption.RateState) ---
    capacity: float
    prior_mean: float
    prior_sd: float
    eta: float = 0.0
    lam: float = 0.0
    t_ref: float | None = None  # epoch seconds
    level: float | None = None
    level_var: float = 0.0
    level_at: float | None = None  # epoch seconds
    pending_at: float | None = None  # epoch seconds
    pending_y: float | None = None
    pending_var: float | None = None
    pending_z: float | None = None
    intervals: int = 0
    outliers: str = ""
    changes: str = ""
    notes: str = ""
    maybe_away: bool = False  # a visit since the last level found nobody home

    # --- the answer, as of ``as_of`` (dates in the shop's zone) ---
    as_of: date | None = None
    computed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rate: float | None = None
    rate_sd: float | None = None
    level_now: float | None = None
    runout_p10: date | None = None
    runout_p50: date | None = Field(default=None, index=True)
    runout_p90: date | None = None
    order_by: date | None = Field(default=None, index=True)
    drop_size: float | None = None
    drop_fits: bool | None = None
