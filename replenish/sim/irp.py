"""The Inventory Routing Problem (IRP) yardstick: instances, plans, their cost, their faults.

Pure: no clock, no randomness. The instances are Archetti et al.'s (2007, 2012) as the
DIMACS IRP track publishes them (see docs/irp.md and ``bench/irp.py``):

    instance = read_instance(path)       # or parse_instance(text, name=...)
    plan = IrpPlan(days=(...))           # per day, one route per vehicle: (customer, quantity)
    cost = plan_cost(instance, plan)     # routing + holding, the published convention
    faults = check_plan(instance, plan)  # stock-outs, overfills, overloads, ...

The policy that makes plans is in ``replenish.sim.irp_policy``; the optimal quantities for
fixed routes in ``replenish.sim.irp_flow``.

**Cost convention** (Archetti, Bertazzi, Laporte, Speranza 2007, which the DIMACS
best-known values follow; checked by hand on ``S_abs1n5_2_H3`` in docs/irp.md):

* routing: Euclidean distance between nodes rounded to the nearest integer, summed
  along each route (depot, customers, depot);
* holding: ``h0 · B_t + Σ_i h_i · I_it`` summed over the days t = 1 .. H, where
  ``I_it``, ``B_t`` are the levels at the end of day t, after that day's deliveries,
  consumption and (supplier) production. The starting stock is not charged. (Charging
  it too adds a constant, 237.46 on ``S_abs1n5_2_H3``, and puts the exact optimum above
  the published value; without it the optimum equals the published 2027.75.)

**Day order and feasibility.** On day t (0-based) the vehicles leave with what the
supplier had at the end of day t - 1 (production of day t is not yet available: the
stricter of the two readings of the original model); each customer receives at most
one drop a day, before the day's consumption; the level after the drop must not exceed
``U`` (maximum level policy) and the level after consumption must not fall below ``L``.

Errors: a malformed instance file raises ``ValueError`` naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "Fault",
    "FaultKind",
    "IrpCost",
    "IrpCustomer",
    "IrpInstance",
    "IrpPlan",
    "Route",
    "check_plan",
    "levels",
    "parse_instance",
    "plan_cost",
    "read_bounds",
    "read_instance",
    "route_length",
    "stock_outs",
]

IntMatrix = npt.NDArray[np.int64]
Route = tuple[tuple[int, float], ...]  # (customer index 1..n, quantity) in driving order


@dataclass(frozen=True)
class IrpCustomer:
    """A customer: where it is, its tank (``start``, ``max_level`` U, ``min_level`` L),
    its constant use per day and its holding cost per unit per day."""

    x: float
    y: float
    start: int
    max_level: int
    min_level: int
    use: int
    holding: float

    def __post_init__(self) -> None:
        if not 0 <= self.min_level <= self.start <= self.max_level:
            raise ValueError(f"levels must satisfy 0 <= L <= start <= U, got L={self.min_level} "
                             f"start={self.start} U={self.max_level}")
        if self.use < 0 or self.holding < 0:
            raise ValueError("use and holding cost must not be negative")


@dataclass(frozen=True, eq=False)
class IrpInstance:
    """Supplier (node 0) and customers 1..n, ``vehicles`` each carrying ``capacity``,
    over ``days`` days. ``distance`` is the rounded Euclidean matrix over nodes 0..n."""

    name: str
    days: int
    capacity: int
    vehicles: int
    depot_xy: tuple[float, float]
    supplier_start: int
    production: int
    supplier_holding: float
    customers: tuple[IrpCustomer, ...]
    distance: IntMatrix = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.days < 1 or self.capacity < 1 or self.vehicles < 1:
            raise ValueError("days, capacity and vehicles must be at least 1")
        xy = np.array([self.depot_xy, *((c.x, c.y) for c in self.customers)], dtype=np.float64)
        exact = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
        rounded = np.floor(exact + 0.5).astype(np.int64)
        rounded.flags.writeable = False
        object.__setattr__(self, "distance", rounded)

    @property
    def n(self) -> int:
        return len(self.customers)

    def customer(self, i: int) -> IrpCustomer:
        """Customer ``i`` (1-based, as in the file)."""
        return self.customers[i - 1]


def parse_instance(text: str, *, name: str) -> IrpInstance:
    """An instance from the DIMACS/Archetti text format (see docs/irp.md)."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    try:
        nodes, days, capacity, vehicles = (int(v) for v in lines[0])
        _, sx, sy, sstart, production, sholding = lines[1]
        customers = []
        for k, row in enumerate(lines[2:nodes + 1], start=3):
            if len(row) != 8:
                raise ValueError(f"line {k}: expected 8 fields, got {len(row)}")
            _, x, y, start, upper, lower, use, holding = row
            customers.append(IrpCustomer(float(x), float(y), int(start), int(upper), int(lower),
                                         int(use), float(holding)))
    except (IndexError, ValueError) as error:
        raise ValueError(f"{name}: not an IRP instance ({error})") from error
    if len(customers) != nodes - 1:
        raise ValueError(f"{name}: expected {nodes - 1} customers, got {len(customers)}")
    return IrpInstance(name, days, capacity, vehicles, (float(sx), float(sy)), int(sstart),
                       int(production), float(sholding), tuple(customers))


def read_instance(path: Path) -> IrpInstance:
    return parse_instance(path.read_text(), name=path.stem)


def read_bounds(path: Path) -> dict[str, float]:
    """``name -> best-known upper bound`` from DIMACS' ``bounds.txt`` (name, LB, UB)."""
    bounds: dict[str, float] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            bounds[parts[0]] = float(parts[2])
    return bounds


@dataclass(frozen=True)
class IrpPlan:
    """Per day (``days[t]``), the vehicles' routes; an idle vehicle has an empty route."""

    days: tuple[tuple[Route, ...], ...]

    def drops(self, t: int) -> dict[int, float]:
        """Customer -> quantity dropped on day t (summed if visited twice, a fault)."""
        out: dict[int, float] = {}
        for route in self.days[t]:
            for i, q in route:
                out[i] = out.get(i, 0.0) + q
        return out


@dataclass(frozen=True)
class IrpCost:
    routing: int
    holding_supplier: float
    holding_customers: float

    @property
    def holding(self) -> float:
        return self.holding_supplier + self.holding_customers

    @property
    def total(self) -> float:
        return self.routing + self.holding


def route_length(instance: IrpInstance, route: Route) -> int:
    nodes = [0, *(i for i, _ in route), 0]
    d = instance.distance
    return sum(int(d[a, b]) for a, b in zip(nodes, nodes[1:], strict=False)) if route else 0


def levels(instance: IrpInstance, plan: IrpPlan) -> tuple[list[float], list[list[float]]]:
    """End-of-day levels for t = 0..H (index 0: the start): supplier, then per customer."""
    supplier = [float(instance.supplier_start)]
    customers = [[float(c.start)] for c in instance.customers]
    for t in range(instance.days):
        drops = plan.drops(t)
        supplier.append(supplier[-1] + instance.production - sum(drops.values()))
        for i, c in enumerate(instance.customers, start=1):
            customers[i - 1].append(customers[i - 1][-1] + drops.get(i, 0.0) - c.use)
    return supplier, customers


def plan_cost(instance: IrpInstance, plan: IrpPlan) -> IrpCost:
    """Routing plus holding cost, recomputed from the plan alone (convention above)."""
    if len(plan.days) != instance.days:
        raise ValueError(f"the plan has {len(plan.days)} days, the instance {instance.days}")
    routing = sum(route_length(instance, r) for day in plan.days for r in day)
    supplier, customers = levels(instance, plan)
    held = sum(c.holding * sum(level[1:]) for c, level in zip(instance.customers, customers,
                                                                strict=True))
    return IrpCost(routing, instance.supplier_holding * sum(supplier[1:]), held)


class FaultKind(StrEnum):
    STOCK_OUT = "stock-out"  # a customer's level falls below L after a day's use
    OVERFILL = "overfill"  # a drop takes the level above U
    SUPPLIER_SHORT = "supplier short"  # the day's drops exceed the supplier's stock
    OVERLOAD = "overload"  # a route carries more than a vehicle holds
    TOO_MANY_ROUTES = "too many routes"  # more non-empty routes than vehicles
    TWICE = "visited twice"  # a customer on two routes of one day, or twice on one
    BAD_DROP = "bad drop"  # an unknown customer or a quantity that is not positive


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    day: int
    customer: int | None = None
    amount: float = 0.0


def check_plan(instance: IrpInstance, plan: IrpPlan, *, tolerance: float = 1e-6) -> list[Fault]:
    """Every broken rule, found by simulating the levels day by day (empty: feasible)."""
    faults: list[Fault] = []
    if len(plan.days) != instance.days:
        raise ValueError(f"the plan has {len(plan.days)} days, the instance {instance.days}")
    supplier = float(instance.supplier_start)
    level = [float(c.start) for c in instance.customers]
    for t, day in enumerate(plan.days):
        if sum(1 for r in day if r) > instance.vehicles:
            faults.append(Fault(FaultKind.TOO_MANY_ROUTES, t))
        seen: set[int] = set()
        for route in day:
            load = 0.0
            for i, q in route:
                if not 1 <= i <= instance.n or q <= 0:
                    faults.append(Fault(FaultKind.BAD_DROP, t, i, q))
                    continue
                if i in seen:
                    faults.append(Fault(FaultKind.TWICE, t, i))
                seen.add(i)
                load += q
            if load > instance.capacity + tolerance:
                faults.append(Fault(FaultKind.OVERLOAD, t, None, load - instance.capacity))
        drops = {i: q for i, q in plan.drops(t).items() if 1 <= i <= instance.n}
        shipped = sum(drops.values())
        if shipped > supplier + tolerance:
            faults.append(Fault(FaultKind.SUPPLIER_SHORT, t, None, shipped - supplier))
        supplier += instance.production - shipped
        for i, c in enumerate(instance.customers, start=1):
            after_drop = level[i - 1] + drops.get(i, 0.0)
            if after_drop > c.max_level + tolerance:
                faults.append(Fault(FaultKind.OVERFILL, t, i, after_drop - c.max_level))
            level[i - 1] = after_drop - c.use
            if level[i - 1] < c.min_level - tolerance:
                faults.append(Fault(FaultKind.STOCK_OUT, t, i, c.min_level - level[i - 1]))
    return faults


def stock_outs(faults: list[Fault]) -> int:
    """Customer-days that ran out."""
    return sum(1 for f in faults if f.kind is FaultKind.STOCK_OUT)
