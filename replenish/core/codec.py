"""A ``RateState`` as flat fields (what a database row keeps per tank) and back.

Times are timezone-aware UTC datetimes; the lists of flagged moments are ISO strings
joined by spaces, so the row stays one flat record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from replenish.core.consumption import Pending, Prior, RateState

__all__ = ["state_to_fields", "state_from_fields", "FIELDS"]

FIELDS = (
    "capacity", "prior_mean", "prior_sd", "eta", "lam", "t_ref", "level", "level_var",
    "level_at", "pending_at", "pending_y", "pending_var", "pending_z", "intervals",
    "outliers", "changes", "notes", "maybe_away",
)


def _stamps(values: tuple[datetime, ...]) -> str:
    return " ".join(v.astimezone(UTC).isoformat() for v in values)


def _unstamp(text: str | None) -> tuple[datetime, ...]:
    return tuple(datetime.fromisoformat(v) for v in (text or "").split())


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def state_to_fields(state: RateState) -> dict[str, Any]:
    pend = state.pending
    return {
        "capacity": state.capacity,
        "prior_mean": state.prior.mean,
        "prior_sd": state.prior.sd,
        "eta": state.eta,
        "lam": state.lam,
        "t_ref": state.t_ref,
        "level": state.level,
        "level_var": state.level_var,
        "level_at": state.level_at,
        "pending_at": pend.at if pend else None,
        "pending_y": pend.y if pend else None,
        "pending_var": pend.var if pend else None,
        "pending_z": pend.z if pend else None,
        "intervals": state.intervals,
        "outliers": _stamps(state.outliers),
        "changes": _stamps(state.changes),
        "notes": "\n".join(state.notes),
        "maybe_away": state.maybe_away,
    }


def state_from_fields(f: dict[str, Any]) -> RateState:
    pending = None
    if f.get("pending_at") is not None:
        at = _utc(f["pending_at"])
        assert at is not None
        pending = Pending(at=at, y=f["pending_y"], var=f["pending_var"], z=f["pending_z"])
    return RateState(
        capacity=f["capacity"],
        prior=Prior(f["prior_mean"], f["prior_sd"]),
        eta=f["eta"],
        lam=f["lam"],
        t_ref=_utc(f.get("t_ref")),
        level=f.get("level"),
        level_var=f.get("level_var") or 0.0,
        level_at=_utc(f.get("level_at")),
        pending=pending,
        intervals=f.get("intervals") or 0,
        outliers=_unstamp(f.get("outliers")),
        changes=_unstamp(f.get("changes")),
        notes=tuple(n for n in (f.get("notes") or "").split("\n") if n),
        maybe_away=bool(f.get("maybe_away")),
    )
