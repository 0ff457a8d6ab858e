"""Normal-distribution helpers for censored observations (pure math).

``mills(z)`` is the inverse Mills ratio φ(z)/Φ(z), used to moment-match a normal
posterior to a one-sided bound; ``truncated_normal`` gives the mean and variance of a
normal restricted to an interval (the level before a drop nobody measured).
"""

from __future__ import annotations

import math

__all__ = ["mills", "truncated_normal"]


def mills(z: float) -> float:
    """φ(z)/Φ(z), stable for very negative z."""
    if z < -30:
        return -z
    phi = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    cdf = 0.5 * math.erfc(-z / math.sqrt(2))
    return phi / cdf if cdf > 0 else -z


def truncated_normal(mu: float, var: float, lo: float, hi: float) -> tuple[float, float]:
    """Mean and variance of N(mu, var) restricted to [lo, hi]."""
    if hi <= lo:
        return lo, 0.0
    sd = math.sqrt(var)
    a, b = (lo - mu) / sd, (hi - mu) / sd
    pa, pb = _phi(a), _phi(b)
    ca, cb = _cdf(a), _cdf(b)
    mass = cb - ca
    if mass < 1e-12:  # all the mass is outside: clamp to the nearer end
        return (lo if mu < lo else hi), 0.0
    mean = mu + sd * (pa - pb) / mass
    var_t = var * (1 + (a * pa - b * pb) / mass - ((pa - pb) / mass) ** 2)
    return min(max(mean, lo), hi), max(var_t, 0.0)


def _phi(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) if math.isfinite(z) else 0.0


def _cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))
