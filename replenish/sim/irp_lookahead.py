"""The look-ahead of the IRP policy: which days each customer is visited.

A fast estimate stands in for the router while days are chosen: each day's routes are
kept as customer lists, a visit costs its cheapest insertion (within vehicle capacity,
counting each drop at its just-enough size) and a customer's holding cost follows from
its days in closed form (``irp_policy.visit_quantities``). Two moves:

* **reschedule** one customer: take it out of every day, price every feasible set of
  visit days (insertion costs plus holding), put it back in the cheapest;
* **shake**: take a customer and a random number of its nearest neighbours (or,
  sometimes, everybody visited on one day) out together and put them back one by one,
  rescheduling each once more; kept when the estimate drops. A cluster of customers, or
  a whole day, can so move to other days together, which single moves cannot do.

Deterministic for a given ``random.Random``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from replenish.sim.irp import IrpCustomer, IrpInstance

__all__ = ["DayOption", "Schedule", "Visits", "options_for", "search"]

Visits = list[list[list[int]]]  # day -> route -> customers in driving order


@dataclass(frozen=True)
class DayOption:
    """A feasible set of visit days for one customer, its just-enough drops (what the
    vehicles must carry at least) and the holding cost of the policy's drops."""

    days: tuple[int, ...]
    need: tuple[int, ...]
    holding: float


class Schedule:
    """Routes per day as customer lists, with loads, and the moves above."""

    def __init__(self, instance: IrpInstance, options: Sequence[Sequence[DayOption]],
                 visits: Visits | None = None) -> None:
        self.instance = instance
        self.options = options
        self.d: list[list[int]] = instance.distance.tolist()
        self.near: list[list[int]] = [[]] + [
            sorted(range(1, instance.n + 1), key=row.__getitem__) for row in self.d[1:]
        ]
        k = instance.vehicles
        self.visits: Visits = [[[] for _ in range(k)] for _ in range(instance.days)]
        self.load = [[0] * k for _ in range(instance.days)]
        self.chosen: dict[int, DayOption | None] = dict.fromkeys(range(1, instance.n + 1))
        if visits is not None:
            for t, day in enumerate(visits):
                for r, route in enumerate(day):
                    self.visits[t][r] = list(route)
            days_of: dict[int, list[int]] = {}
            for t, day in enumerate(self.visits):
                for route in day:
                    for i in route:
                        days_of.setdefault(i, []).append(t)
            for i, days in days_of.items():
                option = next((o for o in options[i - 1] if list(o.days) == days), None)
                if option is None:
                    raise ValueError(f"customer {i}: days {days} are no feasible option")
                self.chosen[i] = option
                for t, q in zip(option.days, option.need, strict=True):
                    self.load[t][self._route_of(i, t)] += q

    def copy(self) -> Schedule:
        other = Schedule.__new__(Schedule)
        other.instance, other.options, other.d = self.instance, self.options, self.d
        other.near = self.near
        other.visits = [[list(r) for r in day] for day in self.visits]
        other.load = [list(day) for day in self.load]
        other.chosen = dict(self.chosen)
        return other

    def _route_of(self, i: int, t: int) -> int:
        return next(k for k, route in enumerate(self.visits[t]) if i in route)

    def estimate(self) -> float:
        """Routes' length plus holding cost: what the moves minimise."""
        d = self.d
        length = 0
        for day in self.visits:
            for route in day:
                if route:
                    nodes = [0, *route, 0]
                    length += sum(d[a][b] for a, b in zip(nodes, nodes[1:], strict=False))
        return length + sum(o.holding for o in self.chosen.values() if o is not None)

    def remove(self, i: int) -> float:
        """Take customer i out of every day; the routing saved."""
        option = self.chosen[i]
        if option is None:
            return 0.0
        d = self.d
        saving = 0.0
        for t, q in zip(option.days, option.need, strict=True):
            k = self._route_of(i, t)
            route = self.visits[t][k]
            p = route.index(i)
            a = route[p - 1] if p > 0 else 0
            b = route[p + 1] if p + 1 < len(route) else 0
            saving += d[a][i] + d[i][b] - d[a][b]
            route.pop(p)
            self.load[t][k] -= q
        self.chosen[i] = None
        return saving

    def insert_best(self, i: int) -> float | None:
        """Put customer i (out of every day) on its cheapest feasible days; the cost
        (insertion plus holding), or None when no option fits the vehicles."""
        d = self.d
        cap = self.instance.capacity
        best_at: list[list[tuple[int, int]]] = []
        for day in self.visits:
            row = []
            for route in day:
                nodes = [0, *route, 0]
                row.append(min(
                    (d[nodes[p]][i] + d[i][nodes[p + 1]] - d[nodes[p]][nodes[p + 1]], p)
                    for p in range(len(nodes) - 1)
                ))
            best_at.append(row)
        choice: tuple[float, DayOption, list[tuple[int, int]]] | None = None
        for option in self.options[i - 1]:
            total = option.holding
            spots: list[tuple[int, int]] = []
            for t, q in zip(option.days, option.need, strict=True):
                fits = [(best_at[t][k][0], k) for k in range(len(self.visits[t]))
                        if self.load[t][k] + q <= cap]
                if not fits:
                    break
                cost, k = min(fits)
                total += cost
                spots.append((t, k))
                if choice is not None and total >= choice[0]:
                    break
            else:
                if choice is None or total < choice[0] - 1e-9:
                    choice = (total, option, spots)
        if choice is None:
            return None
        total, option, spots = choice
        for (t, k), q in zip(spots, option.need, strict=True):
            self.visits[t][k].insert(best_at[t][k][1], i)
            self.load[t][k] += q
        self.chosen[i] = option
        return total

    def reschedule_all(self, rng: random.Random, max_passes: int = 10) -> bool:
        """Reschedule every customer in turn until no move helps; False if some
        customer could not be put back (the schedule is then unusable)."""
        order = list(self.chosen)
        for _ in range(max_passes):
            rng.shuffle(order)
            moved = False
            for i in order:
                before = self.chosen[i]
                was = (before.holding if before is not None else float("inf")) + self.remove(i)
                now = self.insert_best(i)
                if now is None:
                    return False
                if now < was - 1e-6:
                    moved = True
            if not moved:
                break
        return True

    def reschedule(self, group: Sequence[int]) -> bool:
        """Reschedule each of ``group`` once; False if one could not be put back."""
        for i in group:
            self.remove(i)
            if self.insert_best(i) is None:
                return False
        return True

    def shake(self, rng: random.Random, size: int) -> list[int] | None:
        """Take a group out and put its customers back one by one in random order: a
        random customer and 1 to ``size - 1`` of its nearest neighbours, or (one time in
        four) everybody visited on a random day. The group, or None if one could not be
        put back."""
        n = self.instance.n
        if rng.random() < 0.25:
            t = rng.randrange(self.instance.days)
            group = sorted({i for route in self.visits[t] for i in route})
        else:
            seed = rng.randint(1, n)
            group = self.near[seed][:rng.randint(2, max(2, size))]
        for i in group:
            self.remove(i)
        rng.shuffle(group)
        if any(self.insert_best(i) is None for i in group):
            return None
        return group

def search(start: Schedule, rng: random.Random, *, shakes: int, size: int,
           budget: Callable[[], bool] | None = None) -> Schedule:
    """Local search, then up to ``shakes`` rounds of shake + rescheduling the shaken
    group, keeping the best estimate; a last local search (``budget()`` False stops
    the shakes early)."""
    best = start.copy()
    if not best.reschedule_all(rng):
        return start
    best_cost = best.estimate()
    for _ in range(shakes):
        if budget is not None and not budget():
            break
        trial = best.copy()
        group = trial.shake(rng, size)
        if group is None or not trial.reschedule(group):
            continue
        cost = trial.estimate()
        if cost < best_cost - 1e-6:
            best, best_cost = trial, cost
    final = best.copy()
    return final if final.reschedule_all(rng) else best


def options_for(
    c: IrpCustomer, horizon: int, supplier_holding: float, capacity: int,
    quantities: Callable[[IrpCustomer, Sequence[int], int, float, int | None], list[int] | None],
    holding: Callable[[IrpCustomer, Sequence[int], Sequence[int], int, float], float],
) -> list[DayOption]:
    """Every set of days that keeps customer c supplied with drops a vehicle can
    carry, with its needs and holding cost."""
    out = []
    for mask in range(1 << horizon):
        days = tuple(t for t in range(horizon) if mask >> t & 1)
        drops = quantities(c, days, horizon, supplier_holding, capacity)
        need = quantities(c, days, horizon, -1.0, capacity)  # a negative h0: never fill up
        if drops is None or need is None or any(q <= 0 for q in drops):
            continue  # a visit that drops nothing is no visit
        out.append(DayOption(days, tuple(max(q, 1) for q in need),
                             holding(c, days, drops, horizon, supplier_holding)))
    return out
