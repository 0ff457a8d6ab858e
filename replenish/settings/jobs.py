"""The ``[jobs]`` section: when the scheduler's jobs run, and how its lease works."""

from __future__ import annotations

from datetime import time

from pydantic import Field, model_validator

from replenish.settings.base import Positive, _Frozen

__all__ = ["JobsSettings"]


class JobsSettings(_Frozen):
    """Times are in the shop's time zone (the first shop's, when there are several)."""

    nightly_plan_at: time = time(21, 0)
    build_routes_at: time = time(17, 0)
    courier_morning_at: time = time(7, 0)
    reminders_minute: int = Field(default=5, ge=0, le=59)
    followups_minute: int = Field(default=35, ge=0, le=59)
    outbox_seconds: int = Field(default=5, ge=1, le=3600)
    daily_grace_hours: Positive = 6.0
    lease_seconds: int = Field(default=30, ge=3, le=3600)
    keep_runs_days: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _whole_minutes(self) -> JobsSettings:
        for name in ("nightly_plan_at", "build_routes_at", "courier_morning_at"):
            value: time = getattr(self, name)
            if value.second or value.microsecond:
                raise ValueError(f"{name} must be a whole minute such as '21:00'")
        return self
