"""The ``[routing]`` and ``[web]`` sections: how routes are built, and courier links."""

from __future__ import annotations

from pydantic import Field

from replenish.settings.base import Positive, _Frozen

__all__ = ["RoutingSettings", "WebSettings"]


class RoutingSettings(_Frozen):
    time_limit_seconds: Positive = 10.0
    max_iterations: int = Field(default=0, ge=0)  # 0: stop on the time limit only
    seed: int = Field(default=1, ge=0)
    default_service_seconds: int = Field(default=300, ge=0, le=7200)
    detour_factor: float = Field(default=1.3, ge=1, le=5)
    speed_kmh: Positive = 25.0
    osrm_url: str = ""
    osrm_timeout_seconds: Positive = 10.0
    preferred_courier_penalty_m: int = Field(default=500, ge=0)
    soft_window_penalty_m_per_hour: int = Field(default=3000, ge=0)
    must_serve_risk: float = Field(default=0.5, gt=0, le=1)
    consolidate_days: int = Field(default=3, ge=0, le=14)
    consolidate_km: float = Field(default=0.5, ge=0, le=20)
    areas: int = Field(default=0, ge=0, le=14)  # area days: 0 or 1 off (core/areas.py)


class WebSettings(_Frozen):
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    courier_link_hours: int = Field(default=24, ge=1, le=168)
