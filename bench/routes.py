"""Routing quality against published best-known solutions, and a realistic day.

    .venv/bin/python bench/routes.py --seconds 60 --instances C101,R101
    .venv/bin/python bench/routes.py --seconds 5                 # all 56 Solomon instances
    .venv/bin/python bench/routes.py --no-solomon --daily        # the 300-stop day only

**Solomon** (../shared/benchdata/vrptw_solomon_cvrplib/, 100 customers, 25 vehicles of
capacity 200): each instance goes through the same code path as a shop's day
(``DayProblem`` -> ``solve_day`` -> ``DayPlan``): the depot, one courier per vehicle
(capacity 200, the depot's hours as the shift), each customer a mandatory stop with a
hard window. The matrix is the DIMACS convention: Euclidean distance truncated to one
decimal, times ten, as integers (so one "metre" here is 0.1 distance units, and travel
time equals distance). The objective is total distance (no fleet minimisation), which
is the convention of the best-known values in the ``.sol`` files. Every plan is
checked here, independently of PyVRP: every customer served once, capacity, windows,
back at the depot in time.

**Daily**: 300 stops within ~10 km of central Tainan, drawn from ``--seed``: 5-30 kg
each, 30% with a two-hour window (half hard, half soft), half the customers with a usual
courier, urgency spread over 0..1; 6 couriers with 300 kg, 08:00-18:00, haversine × 1.3
at 25 km/h, 5 minutes a door. Run once as given (one trip each: the day cannot fit,
and the least urgent stops are left out) and once letting each courier reload at the
shop up to 3 times (10 minutes loading).

Bounded: at most 56 instances × --seconds, plus two daily solves of --daily-seconds.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from replenish.routing import (  # noqa: E402
    Courier,
    DayPlan,
    DayProblem,
    Depot,
    HaversineSource,
    Matrix,
    RouteParams,
    Stop,
    TimeWindow,
    solve_day,
)

SOLOMON = ROOT.parent / "shared" / "benchdata" / "vrptw_solomon_cvrplib"
ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)
FAMILIES = ("C1", "C2", "R1", "R2", "RC1", "RC2")


# --- Solomon ---


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    # no, x, y, demand, ready, due, service
    rows: list[tuple[int, float, float, int, int, int, int]]


def family_of(name: str) -> str:
    letters = name.rstrip("0123456789")
    return letters + name[len(letters)]


def read_instance(path: Path) -> Instance:
    lines = path.read_text().splitlines()
    vehicles, capacity = (int(v) for v in lines[4].split())
    rows = []
    for line in lines[9:]:
        parts = line.split()
        if len(parts) == 7:
            no, x, y, demand, ready, due, service = (float(p) for p in parts)
            rows.append((int(no), x, y, int(demand), int(ready), int(due), int(service)))
    return Instance(lines[0].strip(), vehicles, capacity, rows)


def read_bks(name: str) -> tuple[float, int]:
    text = (SOLOMON / f"{name}.sol").read_text()
    routes = sum(line.startswith("Route #") for line in text.splitlines())
    cost = float(text.split("Cost")[-1].split()[0])
    return cost, routes


def dimacs_matrix(instance: Instance) -> np.ndarray:
    xy = np.array([(r[1], r[2]) for r in instance.rows])
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    return np.floor(d * 10 + 1e-7).astype(np.int64)  # truncated to 0.1, in tenths


def solomon_problem(instance: Instance) -> DayProblem:
    def at(value: int) -> datetime:
        return ORIGIN + timedelta(seconds=10 * value)

    depot_row = instance.rows[0]
    depot = Depot(lat=depot_row[2] / 1000, lon=depot_row[1] / 1000, opens=at(depot_row[4]),
                  closes=at(depot_row[5]))
    couriers = tuple(
        Courier(id=k, name=f"vehicle {k}", capacity=instance.capacity,
                shift_start=depot.opens, shift_end=depot.closes)
        for k in range(1, instance.vehicles + 1)
    )
    stops = tuple(
        Stop(id=no, customer_id=no, lat=y / 1000, lon=x / 1000, quantity=demand,
             service_s=10 * service, window=TimeWindow(at(ready), at(due), hard=True),
             urgency=1.0, mandatory=True)
        for no, x, y, demand, ready, due, service in instance.rows[1:]
    )
    return DayProblem(depot, couriers, stops)


def check_solomon(instance: Instance, plan: DayPlan, d: np.ndarray) -> tuple[int, list[str]]:
    """Total distance in tenths, and every broken rule (recomputed from the data)."""
    problems: list[str] = []
    seen: Counter[int] = Counter()
    total = 0
    rows = instance.rows
    for route in plan.routes:
        if not route.stops:
            continue
        time, here, load = rows[0][4], 0, 0
        for stop in route.stops:
            no = stop.stop_id
            seen[no] += 1
            load += rows[no][3]
            total += int(d[here, no])
            time = max(time + d[here, no] / 10, rows[no][4])
            if time > rows[no][5] + 1e-9:
                problems.append(f"{instance.name} customer {no} served late")
            time += rows[no][6]
            here = no
        total += int(d[here, 0])
        if time + d[here, 0] / 10 > rows[0][5] + 1e-9:
            problems.append(f"{instance.name} {route.courier_name} back late")
        if load > instance.capacity:
            problems.append(f"{instance.name} {route.courier_name} overloaded ({load})")
    missing = [r[0] for r in rows[1:] if seen[r[0]] != 1]
    if missing:
        problems.append(f"{instance.name} customers not served exactly once: {missing[:5]}")
    return total, problems


def run_solomon(names: list[str], seconds: float, seed: int) -> list[dict[str, object]]:
    results = []
    for name in names:
        instance = read_instance(SOLOMON / f"{name}.txt")
        d = dimacs_matrix(instance)
        problem = solomon_problem(instance)
        plan = solve_day(problem, Matrix(d, d), params=RouteParams(quantity_scale=1),
                         time_limit_s=seconds, seed=seed)
        total, problems = check_solomon(instance, plan, d)
        bks, bks_routes = read_bks(name)
        ours = total / 10
        row: dict[str, object] = {
            "instance": name, "family": family_of(name), "distance": round(ours, 1),
            "bks": bks, "gap_pct": round(100 * (ours - bks) / bks, 2),
            "vehicles": sum(1 for r in plan.routes if r.stops), "bks_vehicles": bks_routes,
            "runtime_s": round(plan.runtime_s, 2), "iterations": plan.iterations,
            "unplanned": len(plan.unplanned), "problems": problems,
        }
        results.append(row)
        print(f"{name:6} {ours:8.1f} bks {bks:8.1f} gap {row['gap_pct']:6.2f}% "
              f"vehicles {row['vehicles']:2}/{bks_routes:2} {plan.runtime_s:5.1f}s "
              f"{plan.iterations:7} it" + (f"  PROBLEMS: {problems}" if problems else ""),
              flush=True)
    return results


def summarise(results: list[dict[str, object]]) -> dict[str, object]:
    def gaps(rows: list[dict[str, object]]) -> list[float]:
        return [float(str(r["gap_pct"])) for r in rows]

    summary: dict[str, object] = {
        "instances": len(results),
        "mean_gap_pct": round(statistics.fmean(gaps(results)), 2) if results else None,
        "median_gap_pct": round(statistics.median(gaps(results)), 2) if results else None,
        "max_gap_pct": round(max(gaps(results)), 2) if results else None,
        "feasible": sum(1 for r in results if not r["problems"] and not r["unplanned"]),
    }
    for family in FAMILIES:
        rows = [r for r in results if r["family"] == family]
        if rows:
            extra = sum(int(str(r["vehicles"])) - int(str(r["bks_vehicles"])) for r in rows)
            mean = round(statistics.fmean(gaps(rows)), 2)
            summary[family] = {"n": len(rows), "mean_gap_pct": mean, "vehicles_over_bks": extra}
    return summary


# --- a realistic day in Tainan ---

TAINAN = ZoneInfo("Asia/Taipei")
CENTRE = (22.99, 120.21)


def daily_problem(seed: int, *, reloads: int = 0) -> DayProblem:
    rng = random.Random(seed)
    day = datetime(2026, 11, 25, tzinfo=TAINAN)

    def clock(hours: float) -> datetime:
        return day + timedelta(hours=hours)

    depot = Depot(lat=CENTRE[0], lon=CENTRE[1], opens=clock(7.5), closes=clock(18.5))
    couriers = tuple(
        Courier(id=k, name=f"courier {k}", capacity=300, shift_start=clock(8),
                shift_end=clock(18), max_reloads=reloads)
        for k in range(1, 7)
    )
    stops = []
    for i in range(1, 301):
        radius = 10_000 * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        lat = CENTRE[0] + radius * math.cos(angle) / 111_195
        lon = CENTRE[1] + radius * math.sin(angle) / (111_195 * math.cos(math.radians(CENTRE[0])))
        window = None
        if rng.random() < 0.3:
            start = rng.choice([8, 9, 10, 11, 13, 14, 15, 16])
            window = TimeWindow(clock(start), clock(start + 2), hard=rng.random() < 0.5)
        # the usual courier serves a slice of town (by bearing), as shops assign them
        preferred = 1 + int(angle / (2 * math.pi) * 6) % 6 if rng.random() < 0.5 else None
        stops.append(Stop(id=i, customer_id=1000 + i, lat=lat, lon=lon,
                          quantity=rng.randint(5, 30), service_s=300, window=window,
                          preferred_courier_id=preferred, urgency=round(rng.random(), 2)))
    return DayProblem(depot, couriers, tuple(stops))


def run_daily(seconds: float, seed: int, reloads: int) -> dict[str, object]:
    problem = daily_problem(seed, reloads=reloads)
    started = time.perf_counter()
    matrix = HaversineSource().matrix(problem.points())
    params = RouteParams(loading_s=600 if reloads else 0)
    plan = solve_day(problem, matrix, params=params, time_limit_s=seconds, seed=seed)
    wall = time.perf_counter() - started  # matrix, model, solve, reasons
    planned = [s for r in plan.routes for s in r.stops]
    by_id = {s.id: s for s in problem.stops}
    unplanned_urgency = [u.urgency for u in plan.unplanned]
    planned_urgency = [by_id[s.stop_id].urgency for s in planned]
    hard_broken = sum(
        1 for s in planned
        if (w := by_id[s.stop_id].window) is not None and w.hard
        and not w.start <= s.service_start <= w.end
    )
    soft = [s for s in planned if (w := by_id[s.stop_id].window) is not None and not w.hard]
    preferred = [s for r in plan.routes for s in r.stops
                 if by_id[s.stop_id].preferred_courier_id is not None]
    on_preferred = sum(1 for r in plan.routes for s in r.stops
                       if by_id[s.stop_id].preferred_courier_id == r.courier_id)
    row: dict[str, object] = {
        "reloads": reloads, "stops": len(problem.stops), "planned": len(planned),
        "unplanned": len(plan.unplanned),
        "reasons": dict(Counter(str(u.reason) for u in plan.unplanned)),
        "km": round(plan.km, 1),
        "kg": sum(r.load for r in plan.routes),
        "trips": sum(r.trips for r in plan.routes),
        "runtime_s": round(plan.runtime_s, 2), "wall_s": round(wall, 2),
        "iterations": plan.iterations,
        "mean_urgency_planned": round(statistics.fmean(planned_urgency), 3) if planned else None,
        "mean_urgency_unplanned": (round(statistics.fmean(unplanned_urgency), 3)
                                   if unplanned_urgency else None),
        "hard_windows_broken": hard_broken,
        "soft_windows_missed": sum(1 for s in soft if s.window_miss_s > 0),
        "soft_windows_planned": len(soft),
        "preferred_kept": f"{on_preferred}/{len(preferred)}",
        "latest_return": max((r.returns for r in plan.routes if r.returns), default=None),
        "warnings": list(plan.warnings),
    }
    row["latest_return"] = str(row["latest_return"])
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget per instance")
    parser.add_argument("--instances", default="*",
                        help="comma-separated names or globs (C1*, R101); default all 56")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-solomon", action="store_true", help="skip the Solomon set")
    parser.add_argument("--daily", action="store_true", help="also solve the 300-stop day")
    parser.add_argument("--daily-seconds", type=float, default=10.0)
    parser.add_argument("--json", type=Path, help="write every number to this file")
    args = parser.parse_args()

    report: dict[str, object] = {"seconds": args.seconds, "seed": args.seed}
    if not args.no_solomon:
        patterns = [p.strip() for p in args.instances.split(",") if p.strip()]
        names = sorted(p.stem for p in SOLOMON.glob("*.txt")
                       if any(fnmatch.fnmatch(p.stem, pat) for pat in patterns))
        results = run_solomon(names, args.seconds, args.seed)
        summary = summarise(results)
        print(json.dumps(summary, indent=1))
        report |= {"solomon": results, "summary": summary}
    if args.daily:
        report["daily"] = [run_daily(args.daily_seconds, args.seed, reloads)
                           for reloads in (0, 3)]
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
