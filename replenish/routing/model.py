"""A day's problem in PyVRP's terms (``ProblemData``), and the maps back.

* Time is integer seconds from ``origin`` (the earliest of the shop's opening and the
  shifts' starts); distance is integer metres; quantities integers of
  1/``quantity_scale`` units.
* Location 0 is the shop; location ``i + 1`` is stop ``i`` (the matrix's rows).
* Every stop is optional for the solver (``required=False``) with a prize; see
  ``RouteParams`` for the sizes. A stop with a soft window becomes a mutually
  exclusive group of copies at the same location: the window itself, then windows
  widened by one, two, ... steps, then the whole day, each copy with a smaller prize.
  The solver serves at most one copy; the prize it gives up is the lateness penalty.
* Couriers become vehicle types. Couriers who are interchangeable (same capacity,
  hours, stop limit and routing profile) share one type with ``num_available`` > 1.
* Preferred couriers: a routing profile per courier who is someone's usual courier
  (and one for everybody else), whose distances into stops of another courier's
  customers are longer by ``preferred_courier_penalty_m``.
* Stops that cannot be served by anybody (too large, unreachable within any shift or
  within their hard window) are screened out before the solve, with their reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from pyvrp import Client, ClientGroup, Depot, Location, ProblemData, VehicleType

from replenish.routing.distances import Matrix
from replenish.routing.plan import UnplannedReason
from replenish.routing.problem import DayProblem, RouteParams, Stop

__all__ = ["Encoded", "encode"]


@dataclass(frozen=True, eq=False)
class Encoded:
    """The PyVRP data (None when there is nothing to solve) and what its indices mean."""

    data: ProblemData | None
    origin: datetime
    client_stop: tuple[int, ...]  # client index -> stop index
    widest_client: dict[int, int]  # stop index -> the client with the widest window
    type_couriers: tuple[tuple[int, ...], ...]  # vehicle type -> courier indices
    courier_type: dict[int, int]  # courier index -> vehicle type (usable couriers)
    hours: tuple[tuple[int, int] | None, ...]  # courier -> usable [start, end] seconds
    demand: tuple[int, ...]  # per stop, scaled
    capacity: tuple[int, ...]  # per courier, scaled
    service: tuple[int, ...]  # per stop, seconds
    screened: dict[int, UnplannedReason]  # stop index -> why it was not modelled
    warnings: tuple[str, ...]

    def seconds(self, when: datetime) -> int:
        return round((when - self.origin).total_seconds())


def encode(problem: DayProblem, matrix: Matrix, params: RouteParams) -> Encoded:
    n = len(problem.stops)
    if matrix.size != n + 1:
        raise ValueError(f"the matrix has {matrix.size} rows, the problem needs {n + 1} "
                         "(the depot, then each stop)")
    depot = problem.depot
    origin = min([depot.opens, *(c.shift_start for c in problem.couriers)])

    def sec(when: datetime) -> int:
        return round((when - origin).total_seconds())

    horizon = max([sec(depot.closes), *(sec(c.shift_end) for c in problem.couriers)])
    warnings: list[str] = []
    hours: list[tuple[int, int] | None] = []
    for courier in problem.couriers:
        start = max(sec(courier.shift_start), sec(depot.opens))
        end = min(sec(courier.shift_end), sec(depot.closes))
        hours.append((start, end) if end > start else None)
        if end <= start:
            warnings.append(f"courier {courier.name} works outside the shop's hours: no route")

    scale = params.quantity_scale
    demand = tuple(round(stop.quantity * scale) for stop in problem.stops)
    capacity = tuple(int(c.capacity * scale + 1e-9) for c in problem.couriers)
    service = tuple(
        params.default_service_s if s.service_s is None else s.service_s for s in problem.stops
    )
    duration = matrix.duration_s
    screened = {
        i: reason
        for i, stop in enumerate(problem.stops)
        if (reason := _screen(i, stop, demand[i], service[i], duration, hours, capacity, sec,
                              params.loading_s)) is not None
    }
    modelled = [i for i in range(n) if i not in screened]
    usable = [k for k, h in enumerate(hours) if h is not None]
    if not modelled or not usable:
        return Encoded(None, origin, (), {}, (), {}, tuple(hours), demand, capacity, service,
                       screened, tuple(warnings))

    courier_ids = {problem.couriers[k].id for k in usable}
    preferred = [
        s.preferred_courier_id if s.preferred_courier_id in courier_ids else None
        for s in problem.stops
    ]
    rows = [0, *(i + 1 for i in modelled)]  # a far stop screened out does not count
    longest = int(matrix.distance_m[np.ix_(rows, rows)].max())
    base = 2 * longest + params.preferred_courier_penalty_m + 1
    with_stop_limit = any(c.max_stops is not None for c in problem.couriers)

    clients: list[Client] = []
    groups: list[ClientGroup] = []
    client_stop: list[int] = []
    widest: dict[int, int] = {}
    for i in modelled:
        stop = problem.stops[i]
        load = [demand[i], 1] if with_stop_limit else [demand[i]]
        prize = _prize(stop, base, params)
        copies = _copies(stop, sec, horizon, params)
        for early, late, bonus in copies:
            group = len(groups) if bonus is not None else None
            clients.append(Client(
                location=i + 1, delivery=load, service_duration=service[i], tw_early=early,
                tw_late=late, prize=prize + (bonus or 0), required=False, group=group,
                name=str(stop.id),
            ))
            client_stop.append(i)
            widest[i] = len(clients) - 1  # the last copy is the widest
        if copies[0][2] is not None:  # a soft window: the copies form a group
            first = widest[i] - len(copies) + 1
            groups.append(ClientGroup(list(range(first, widest[i] + 1)), required=False,
                                      name=str(stop.id)))

    # routing profiles: one per courier somebody prefers, one for everybody else
    keys = sorted({p for p in preferred if p is not None})
    profile_of: dict[int, int] = {}
    distances: list[npt.NDArray[np.int64]] = []
    if keys:
        for key in [*keys, None]:
            penalised = [i + 1 for i in modelled if preferred[i] not in (None, key)]
            longer = np.array(matrix.distance_m, dtype=np.int64)
            longer[:, penalised] += params.preferred_courier_penalty_m
            np.fill_diagonal(longer, 0)
            distances.append(longer)
        for k in usable:
            cid = problem.couriers[k].id
            profile_of[k] = keys.index(cid) if cid in keys else len(keys)
    else:
        distances.append(np.array(matrix.distance_m, dtype=np.int64))
        profile_of = dict.fromkeys(usable, 0)

    # vehicle types: interchangeable couriers share one
    by_key: dict[tuple[int, int, int, int, int, int], list[int]] = {}
    for k in usable:
        courier = problem.couriers[k]
        start, end = hours[k] or (0, 0)
        same = (capacity[k], courier.max_stops or n, courier.max_reloads, start, end,
                profile_of[k])
        by_key.setdefault(same, []).append(k)
    vehicle_types: list[VehicleType] = []
    type_couriers: list[tuple[int, ...]] = []
    courier_type: dict[int, int] = {}
    for (cap, limit, reloads, start, end, profile), members in by_key.items():
        courier_type.update(dict.fromkeys(members, len(vehicle_types)))
        type_couriers.append(tuple(members))
        vehicle_types.append(VehicleType(
            num_available=len(members), capacity=[cap, limit] if with_stop_limit else [cap],
            start_depot=0, end_depot=0, tw_early=start, tw_late=end, profile=profile,
            reload_depots=[0] if reloads else [], max_reloads=reloads,
            name=",".join(problem.couriers[k].name for k in members),
        ))

    locations = [Location(x=p.lon, y=p.lat) for p in problem.points()]
    depots = [Depot(location=0, tw_early=max(sec(depot.opens), 0), tw_late=sec(depot.closes),
                    service_duration=params.loading_s)]
    durations = [np.array(duration, dtype=np.int64)] * len(distances)
    # (PyVRP's stubs spell the matrices ``ndarray[int]``)
    data = ProblemData(locations, clients, depots, vehicle_types, cast(Any, distances),
                       cast(Any, durations), groups)
    return Encoded(data, origin, tuple(client_stop), widest, tuple(type_couriers), courier_type,
                   tuple(hours), demand, capacity, service, screened, tuple(warnings))


def _prize(stop: Stop, base: int, params: RouteParams) -> int:
    if stop.mandatory:
        return round(base * (1 + params.urgency_weight)) * params.mandatory_factor
    return round(base * (1 + params.urgency_weight * stop.urgency))


def _copies(
    stop: Stop, sec: Callable[[datetime], int], horizon: int, params: RouteParams
) -> list[tuple[int, int, int | None]]:
    """(tw_early, tw_late, prize bonus or None when not in a group) for each copy."""
    window = stop.window
    if window is None:
        return [(0, horizon, None)]
    early = min(max(sec(window.start), 0), horizon)
    late = min(max(sec(window.end), 0), horizon)
    if window.hard:
        return [(early, late, None)]
    step = params.soft_window_step_s
    per_hour = params.soft_window_penalty_m_per_hour
    bands: list[tuple[int, int, int]] = []
    for k in range(params.soft_window_steps + 1):
        lo, hi = max(early - k * step, 0), min(late + k * step, horizon)
        bands.append((lo, hi, round(per_hour * k * step / 3600)))
        if (lo, hi) == (0, horizon):
            break
    else:
        bands.append((0, horizon, round(per_hour * (params.soft_window_steps + 1) * step / 3600)))
    cap = bands[-1][2]
    return [(lo, hi, cap - penalty) for lo, hi, penalty in bands]


def _screen(
    i: int, stop: Stop, demand: int, service: int, duration: npt.NDArray[np.int64],
    hours: list[tuple[int, int] | None], capacity: tuple[int, ...],
    sec: Callable[[datetime], int], loading: int,
) -> UnplannedReason | None:
    """Why nobody at all could serve this stop, or None when someone might."""
    usable = [k for k, h in enumerate(hours) if h is not None]
    if not usable:
        return UnplannedReason.NO_COURIER
    if demand > max(capacity[k] for k in usable):
        return UnplannedReason.TOO_LARGE
    hard = stop.window if stop.window is not None and stop.window.hard else None
    there, back = int(duration[0, i + 1]), int(duration[i + 1, 0])
    reachable = in_window = False
    for k in usable:
        start, end = hours[k] or (0, 0)
        arrive = start + loading + there
        reachable |= arrive + service + back <= end
        if hard is not None:
            begin = max(arrive, sec(hard.start))
            in_window |= begin <= sec(hard.end) and begin + service + back <= end
        else:
            in_window = reachable
    if in_window:
        return None
    return UnplannedReason.OUTSIDE_TIME_WINDOW if reachable else UnplannedReason.UNREACHABLE
