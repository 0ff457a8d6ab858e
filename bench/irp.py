"""The IRP yardstick: replenish's planner and router on the DIMACS IRP instances.

    .venv/bin/python bench/irp.py --set small --sample 160 --jobs 2
    .venv/bin/python bench/irp.py --set large --sample 48 --json /tmp/irp.json
    .venv/bin/python bench/irp.py --instances S_abs1n5_2_H3,S_abs1n5_2_L3

Instances: ../shared/benchdata/irp_dimacs_martinelli/ (Archetti et al. 2007 and 2012,
as the DIMACS IRP track publishes them; best-known totals in ``bounds.txt``). Each
instance goes through ``replenish.sim.irp_policy.plan_irp``: the run-out schedule, the
look-ahead over visit days, replenish's router (``replenish.routing.solve_day``) for
every day's routes with the instance's vehicles and capacity, and min-cost-flow drop
sizes. The reported cost is recomputed from the plan by ``plan_cost`` (the convention
in docs/irp.md) and the plan is checked by simulating every level (``check_plan``):
stock-outs, overfills, overloads, the supplier's stock.

``--sample N`` takes N instances of the set, spread evenly over the families and, within
a family, drawn with a fixed seed (the same sample every run). ``--seconds`` is the look-ahead's
budget per instance (the router's day solves come on top, bounded by
``--route-iterations``); the wall time of every instance is reported, and the table says
how many took longer than 60 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from replenish.sim.irp import (  # noqa: E402
    FaultKind,
    check_plan,
    plan_cost,
    read_bounds,
    read_instance,
)
from replenish.sim.irp_policy import IrpParams, plan_irp  # noqa: E402

DATA = ROOT.parent / "shared" / "benchdata" / "irp_dimacs_martinelli"
FAMILIES = (
    "S H3 n5-15", "S H3 n20-50", "S H6 n5-15", "S H6 n20-50",
    "L n50", "L n100", "L n200",
)
GOALS = {"small": 10.0, "large": 15.0}


def load_bounds() -> dict[str, float]:
    """DIMACS' ``bounds.txt``, with its one typo mended (``L_abs8n200_2_Lt``). It has no
    row for ``S_abs5n5_5_H6`` and ``S_abs5n5_5_L6``: those are solved and checked, and
    left out of the gaps."""
    bounds = read_bounds(DATA / "bounds.txt")
    if "L_abs8n200_2_Lt" in bounds:
        bounds.setdefault("L_abs8n200_2_L", bounds.pop("L_abs8n200_2_Lt"))
    return bounds


def family_of(name: str) -> str:
    """``S_abs1n5_2_H3`` -> ``S H3 n5-15``; ``L_abs1n200_2_H`` -> ``L n200``."""
    size, rest = name.split("n", 1)
    n = int(rest.split("_")[0])
    if size.startswith("L"):
        return f"L n{n}"
    horizon = name[-1]
    return f"S H{horizon} " + ("n5-15" if n <= 15 else "n20-50")


def holding_of(name: str) -> str:
    return name.split("_")[-1][0]  # H or L


def pick(names: list[str], sample: int | None) -> list[str]:
    if sample is None or sample >= len(names):
        return names
    by_family: dict[str, list[str]] = {}
    for name in names:
        by_family.setdefault(family_of(name), []).append(name)
    share = max(1, sample // len(by_family))
    chosen = []
    for k, family in enumerate(sorted(by_family)):
        members = sorted(by_family[family])
        chosen += random.Random(k).sample(members, min(share, len(members)))
    return sorted(chosen)


def solve_one(job: tuple[str, float, float | None, int, int]) -> dict[str, object]:
    name, seconds, bound, iterations, seed = job
    instance = read_instance(DATA / "data" / f"{name}.dat")
    params = IrpParams(lookahead_seconds=seconds, route_iterations=iterations, seed=seed)
    started = time.perf_counter()
    try:
        result = plan_irp(instance, params)
    except ValueError as error:
        return {"instance": name, "family": family_of(name), "error": str(error),
                "wall_s": round(time.perf_counter() - started, 2)}
    wall = time.perf_counter() - started
    cost = plan_cost(instance, result.plan)  # recomputed here, independently
    faults = check_plan(instance, result.plan)
    return {
        "instance": name, "family": family_of(name), "holding_class": holding_of(name),
        "n": instance.n, "days": instance.days, "vehicles": instance.vehicles,
        "cost": round(cost.total, 2), "routing": cost.routing,
        "holding": round(cost.holding, 2), "bound": bound,
        "gap_pct": round(100 * (cost.total - bound) / bound, 3) if bound else None,
        "stock_outs": sum(1 for f in faults if f.kind is FaultKind.STOCK_OUT),
        "faults": [f"{f.kind} day {f.day} customer {f.customer}" for f in faults],
        "visits": sum(len(r) for day in result.plan.days for r in day),
        "router_calls": result.router_calls, "rounds": result.rounds,
        "history": [round(h, 2) for h in result.history],
        "wall_s": round(wall, 2),
    }


def table(rows: list[dict[str, object]]) -> str:
    def num(row: dict[str, object], key: str) -> float:
        return float(str(row[key]))

    lines = [
        "| family | instances | stock-outs | other faults | no plan | with bound | mean gap % "
        "| worst gap % | best gap % | median s | max s | > 60 s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups = [(f, [r for r in rows if r["family"] == f]) for f in FAMILIES]
    groups += [
        ("**small (S_*)**", [r for r in rows if str(r["instance"]).startswith("S")]),
        ("S, high holding", [r for r in rows if str(r["instance"]).startswith("S")
                             and r.get("holding_class") == "H"]),
        ("S, low holding", [r for r in rows if str(r["instance"]).startswith("S")
                            and r.get("holding_class") == "L"]),
        ("**large (L_*)**", [r for r in rows if str(r["instance"]).startswith("L")]),
        ("L, high holding", [r for r in rows if str(r["instance"]).startswith("L")
                             and r.get("holding_class") == "H"]),
        ("L, low holding", [r for r in rows if str(r["instance"]).startswith("L")
                            and r.get("holding_class") == "L"]),
    ]
    for label, members in groups:
        if not members:
            continue
        ok = [r for r in members if "error" not in r]
        gaps = [num(r, "gap_pct") for r in ok if r["gap_pct"] is not None]
        walls = [num(r, "wall_s") for r in members]
        outs = sum(int(str(r["stock_outs"])) for r in ok)
        other = sum(len(r["faults"]) for r in ok if isinstance(r["faults"], list)) - outs
        lines.append(
            f"| {label} | {len(members)} | {outs} | {other} | {len(members) - len(ok)} | "
            f"{len(gaps)} | "
            + (f"{statistics.fmean(gaps):.2f} | {max(gaps):.2f} | {min(gaps):.2f} | "
               if gaps else "- | - | - | ")
            + f"{statistics.median(walls):.1f} | {max(walls):.1f} | "
            f"{sum(1 for w in walls if w > 60)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("small", "large", "all"), default="small")
    parser.add_argument("--instances", help="comma-separated names (overrides --set)")
    parser.add_argument("--sample", type=int, help="a stratified sample of this many")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="look-ahead budget per instance (router solves on top)")
    parser.add_argument("--route-iterations", type=int, default=1000,
                        help="PyVRP iterations per day solve")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--json", type=Path, help="write every row to this file")
    parser.add_argument("--markdown", type=Path, help="write the table to this file")
    args = parser.parse_args()

    bounds = load_bounds()
    if args.instances:
        names = [n.strip() for n in args.instances.split(",") if n.strip()]
    else:
        prefix = {"small": ("S",), "large": ("L",), "all": ("S", "L")}[args.set]
        names = sorted(p.stem for p in (DATA / "data").glob("*.dat")
                       if p.stem.startswith(prefix))
        names = pick(names, args.sample)
    jobs = [(n, args.seconds, bounds.get(n), args.route_iterations, args.seed) for n in names]
    started = time.perf_counter()
    rows: list[dict[str, object]] = []
    partial = args.json.with_suffix(".partial.jsonl") if args.json else None
    if partial:
        partial.write_text("")
    with Pool(args.jobs) as pool:
        for row in pool.imap_unordered(solve_one, jobs):
            rows.append(row)
            if partial:
                with partial.open("a") as out:
                    out.write(json.dumps(row, default=str) + "\n")
            if "error" in row:
                print(f"{row['instance']:20} ERROR {row['error']}", flush=True)
            else:
                print(f"{row['instance']:20} {row['cost']:10.2f} ub {row['bound']} "
                      f"gap {row['gap_pct']}% stock-outs {row['stock_outs']} "
                      f"{row['wall_s']:5.1f}s", flush=True)
    rows.sort(key=lambda r: str(r["instance"]))
    text = table(rows)
    print(text)
    print(f"{len(rows)} instances, {time.perf_counter() - started:.0f} s wall, "
          f"{args.jobs} job(s)")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json),
                                                               "markdown": str(args.markdown)},
                                         "rows": rows}, indent=1, default=str))
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
