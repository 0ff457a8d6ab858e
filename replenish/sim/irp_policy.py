"""The replenish policy on an IRP instance: who gets a drop on which day, how much, in
what route, with nobody running out.

    result = plan_irp(instance, IrpParams(lookahead_seconds=10.0, rounds=4, seed=0))
    result.plan, result.cost, result.router_calls

The planner's ideas (``replenish.core.depletion``), with known constant use:

1. **Run-out day.** Each customer's first run-out day follows from its level and
   rate; a drop is due on that day at the latest (a drop arrives before the day's use).
   The first schedule takes the customers in order of run-out and gives each its
   cheapest set of visit days (step 3) in turn. (``latest_visits`` is the plain
   planner's schedule: a drop on each run-out day, filling the tank.)
2. **How much.** Per customer, with its visit days fixed, the cheapest drops are known
   in closed form: a unit dropped on day d is held at the customer instead of the
   supplier for the days d..H-1, so it costs ``(h_i - h0) · (H - d)``. A customer whose
   holding cost is below the supplier's is filled up at every visit; the others get
   just enough to reach the next visit (or the end). Shared limits (vehicle capacity,
   the supplier's stock) are then settled exactly for the routes the router built, by a
   min-cost flow (``replenish.sim.irp_flow``).
3. **Which days (look-ahead).** One customer at a time, every set of visit days that
   keeps it from running out is priced: the cheapest insertion into each day's routes
   (respecting vehicle capacity) plus its holding cost; the customer moves to the
   cheapest set when that beats where it is. Serving a customer early, while a vehicle
   passes nearby anyway, can save a later visit: this is the optional stop with a prize
   of the issue, priced per visit pattern rather than per day.
4. **Routes.** Each day's stops go to replenish's router (``replenish.routing.solve_day``)
   as mandatory stops with the vehicles and capacity given; the router's routes replace
   the insertion estimates and the look-ahead runs again. Every round's plan is priced
   by ``plan_cost`` and checked by ``check_plan``; the cheapest feasible plan is kept.

The router's prizes for optional stops always exceed the detour (docs/routing.md), so
it serves every optional stop that fits; the choice of who is visited when is therefore
made here, and the router gets mandatory stops only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from replenish.routing import Courier, DayProblem, Depot, Matrix, RouteParams, Stop, solve_day
from replenish.sim.irp import (
    IrpCost,
    IrpCustomer,
    IrpInstance,
    IrpPlan,
    check_plan,
    plan_cost,
)
from replenish.sim.irp_flow import quantities
from replenish.sim.irp_lookahead import Schedule, Visits, options_for, search

__all__ = ["IrpParams", "IrpResult", "latest_visits", "plan_irp", "visit_quantities"]

ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)
LONG_DAY_S = 10**8  # the instances have no time limits: a shift nobody reaches the end of


@dataclass(frozen=True)
class IrpParams:
    """``route_seconds`` / ``route_iterations``: the router's budget per day solve.
    ``rounds``: look-ahead then route, at most this many times (stops early when a
    round brings nothing, and starts no round after ``round_seconds``).
    ``shakes`` per round, of up to ``shake_size`` customers, within
    ``lookahead_seconds`` in all. ``seed``: the router's and the look-ahead's order.

    The look-ahead's clock makes runs on a busy machine differ from runs on an idle
    one; with enough budget, they are the same for the same seed."""

    route_seconds: float = 2.0
    route_iterations: int | None = 1000
    rounds: int = 4
    shakes: int = 300
    shake_size: int = 30
    lookahead_seconds: float = 10.0
    round_seconds: float = 40.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.route_seconds <= 0 or self.rounds < 1:
            raise ValueError("route_seconds must be positive and rounds at least 1")
        if self.shakes < 0 or self.shake_size < 1 or self.lookahead_seconds <= 0:
            raise ValueError("shakes must not be negative, shake_size and "
                             "lookahead_seconds must be positive")


@dataclass(frozen=True)
class IrpResult:
    plan: IrpPlan
    cost: IrpCost
    router_calls: int
    rounds: int
    history: tuple[float, ...] = field(default=())  # each round's routed plan cost (inf: none)


# --- one customer ---


def latest_visits(c: IrpCustomer, days: int) -> list[int]:
    """The planner's schedule: a drop on each run-out day, filling the tank."""
    visits: list[int] = []
    level = c.start
    for t in range(days):
        if level - c.use < c.min_level:
            visits.append(t)
            level = c.max_level
        level -= c.use
    return visits


def visit_quantities(c: IrpCustomer, visits: Sequence[int], days: int,
                     supplier_holding: float, capacity: int | None = None) -> list[int] | None:
    """Each visit's drop (closed form, see the module docstring), none above
    ``capacity`` (one vehicle's load), or None when these visits cannot keep the
    customer from running out.

    Filling customers get ``min(room, capacity)`` at each visit. The others get the
    latest drops that suffice: working backwards, the level needed after each visit's
    drop is what lasts until the next visit, plus what the next visit cannot bring
    within the capacity.
    """
    cap = capacity if capacity is not None else c.max_level
    ends = [*visits[1:], days] if visits else []
    fill = c.holding < supplier_holding
    needed = [0] * len(visits)  # level needed right after each drop
    after = c.min_level
    for k in range(len(visits) - 1, -1, -1):
        needed[k] = c.use * (ends[k] - visits[k]) + max(after - cap, c.min_level)
        after = needed[k]
    level = c.start
    previous = 0
    drops: list[int] = []
    for k, day in enumerate(visits):
        level -= c.use * (day - previous)
        if level < c.min_level:
            return None
        room = min(c.max_level - level, cap)
        q = room if fill else max(needed[k] - level, 0)
        if q > room:
            return None
        drops.append(q)
        level += q
        previous = day
    return drops if level - c.use * (days - previous) >= c.min_level else None


def _holding(c: IrpCustomer, visits: Sequence[int], drops: Sequence[int], days: int,
             supplier_holding: float) -> float:
    """The holding cost this customer's drops cause, counted against the supplier's."""
    at = dict(zip(visits, drops, strict=True))
    level, cost = c.start, 0.0
    for t in range(days):
        level += at.get(t, 0) - c.use
        cost += c.holding * level
    return cost - supplier_holding * sum(q * (days - d) for d, q in zip(visits, drops,
                                                                         strict=True))


# --- routing with replenish's router ---


def _route_day(instance: IrpInstance, stops: Sequence[tuple[int, int]], params: IrpParams,
               seed: int) -> tuple[list[list[int]], int]:
    """replenish's router on one day's (customer, drop) stops: routes, and how many
    stops it left out."""
    if not stops:
        return [], 0
    x0, y0 = instance.depot_xy
    depot = Depot(lat=y0 / 1000, lon=x0 / 1000, opens=ORIGIN,
                  closes=ORIGIN + timedelta(seconds=LONG_DAY_S))
    couriers = tuple(
        Courier(id=k, name=f"vehicle {k}", capacity=instance.capacity, shift_start=depot.opens,
                shift_end=depot.closes)
        for k in range(1, instance.vehicles + 1)
    )
    day_stops = tuple(
        Stop(id=i, customer_id=i, lat=instance.customer(i).y / 1000,
             lon=instance.customer(i).x / 1000, quantity=q, service_s=0, urgency=1.0,
             mandatory=True)
        for i, q in stops
    )
    rows = [0, *(i for i, _ in stops)]
    d = instance.distance[rows][:, rows]
    plan = solve_day(DayProblem(depot, couriers, day_stops), Matrix(d, d),
                     params=RouteParams(quantity_scale=1, default_service_s=0),
                     time_limit_s=params.route_seconds, seed=seed,
                     max_iterations=params.route_iterations)
    routes = [[s.stop_id for s in r.stops] for r in plan.routes if r.stops]
    return routes, len(plan.unplanned)


RouteCache = dict[tuple[int, tuple[tuple[int, int], ...]], tuple[list[list[int]], int]]


def _route_all(instance: IrpInstance, schedule: Schedule, params: IrpParams,
               cache: RouteCache) -> tuple[Visits | None, int]:
    """Route every day of a schedule with the router (a day whose stops are unchanged
    since an earlier round keeps its routes); None if a stop was left out."""
    per_day: list[list[tuple[int, int]]] = [[] for _ in range(instance.days)]
    for i, option in schedule.chosen.items():
        if option is not None:
            for t, q in zip(option.days, option.need, strict=True):
                per_day[t].append((i, q))
    visits: Visits = []
    calls = 0
    for t in range(instance.days):
        key = (t, tuple(sorted(per_day[t])))
        if key not in cache:
            cache[key] = _route_day(instance, key[1], params, params.seed + t)
            calls += 1 if per_day[t] else 0
        routes, left_out = cache[key]
        if left_out:
            return None, calls
        visits.append(routes)
    return visits, calls


def _realise(instance: IrpInstance, visits: Visits) -> tuple[IrpPlan, IrpCost] | None:
    plan = quantities(instance, visits)
    if plan is None or check_plan(instance, plan):
        return None
    return plan, plan_cost(instance, plan)


def plan_irp(instance: IrpInstance, params: IrpParams | None = None) -> IrpResult:
    """The cheapest feasible plan the rounds found (see the module docstring).

    Raises ``ValueError`` when no round gave a plan the router could route and the
    supplier could supply without a stock-out.
    """
    params = params or IrpParams()
    started = time.perf_counter()

    def budget() -> bool:
        return time.perf_counter() - started < params.lookahead_seconds

    rng = random.Random(params.seed)
    h0 = instance.supplier_holding
    options = [options_for(c, instance.days, h0, instance.capacity, visit_quantities, _holding)
               for c in instance.customers]
    schedule = Schedule(instance, options)
    # the planner's order: earliest run-out first
    order = sorted(range(1, instance.n + 1),
                   key=lambda i: (latest_visits(instance.customer(i), instance.days) or
                                  [instance.days])[0])
    for i in order:
        if schedule.insert_best(i) is None:
            raise ValueError(f"{instance.name}: customer {i} fits no vehicle on any day")
    size = max(2, min(params.shake_size, instance.n))
    best: tuple[IrpPlan, IrpCost] | None = None
    history: list[float] = []
    calls = rounds = 0
    cache: RouteCache = {}
    for rounds in range(1, params.rounds + 1):  # noqa: B007 (reported)
        if best is not None and time.perf_counter() - started > params.round_seconds:
            break
        schedule = search(schedule, rng, shakes=params.shakes, size=size, budget=budget)
        routed, more = _route_all(instance, schedule, params, cache)
        calls += more
        found = _realise(instance, routed) if routed is not None else None
        history.append(found[1].total if found else float("inf"))
        if found is None:
            continue
        if best is not None and found[1].total >= best[1].total - 1e-6:
            break
        best = found
        assert routed is not None
        schedule = Schedule(instance, options, _visits_of(found[0], instance))
    if best is None:
        raise ValueError(f"{instance.name}: no round gave a routable plan without stock-outs")
    return IrpResult(best[0], best[1], calls, rounds, tuple(history))


def _visits_of(plan: IrpPlan, instance: IrpInstance) -> Visits:
    visits: Visits = []
    for day in plan.days:
        routes = [[i for i, _ in route] for route in day if route]
        visits.append(routes + [[] for _ in range(instance.vehicles - len(routes))])
    return visits
