"""``replenish simulate``: a made-up town run through the real system, policy against policy."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from replenish.cli.common import fail, settings

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_command)


def _one(args: tuple[Any, ...]) -> dict[str, Any]:
    """One policy's run (in a worker process): its metrics and traces as plain data."""
    from replenish.sim.drive import SimConfig, simulate

    config, cfg = args
    result = simulate(SimConfig(**config), settings=cfg)
    return {"metrics": result.metrics,
            "traces": [trace.__dict__ for trace in result.traces]}


def simulate_command(
    households: Annotated[int, typer.Option(help="Households in the town (1 to 5000).")] = 500,
    days: Annotated[int, typer.Option(help="Days to run (1 to 1100).")] = 365,
    seed: Annotated[int, typer.Option(help="The same seed gives the same town and the same run.")] = 1,
    couriers: Annotated[int, typer.Option(help="Couriers (1 to 20), each 300 kg a trip, 09:00-18:00, up to 2 reloads.")] = 2,
    risk: Annotated[float | None, typer.Option(help="forecast.risk for the run (more than 0, less than 0.5); default: the shop's (settings.toml).", show_default=False)] = None,
    policy: Annotated[str, typer.Option(help="The policy to measure: learned, prior-only, fixed-interval or reactive.")] = "learned",
    baselines: Annotated[bool, typer.Option("--baselines/--no-baselines", help="Also run the other three policies on the same town, for comparison (default).")] = True,
    start: Annotated[str, typer.Option(help="The first day (YYYY-MM-DD).")] = "2027-01-01",
    areas: Annotated[int, typer.Option(help="Area days for the simulated shop (routing.areas for the run): the town in this many slices, each served on its own days; 0: every day everywhere.")] = 2,
    solver_iterations: Annotated[int, typer.Option(help="The route solver stops after this many iterations per build (routing.max_iterations for the run), not on the clock, so that a run gives the same numbers on any machine.")] = 100,
    jobs: Annotated[int, typer.Option(help="Policies run side by side in this many processes.")] = 2,
    report: Annotated[Path | None, typer.Option(help="A folder for the report: report.json, table.txt and SVG plots.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON on standard output (instead of the table).")] = False,
) -> None:
    """Run a simulated town through the real system: the database, the nightly plan, the
    texts (console transport) and the answers through the webhook's path, routes from the
    solver, couriers recording levels at the door. Only the clock and the people are made
    up, and each run has its own fresh database. Nothing touches your shop's database.

    Examples:

      replenish simulate --households 500 --days 365 --seed 1

      replenish simulate --households 100 --days 90 --policy learned --no-baselines --json

      replenish simulate --risk 0.002 --couriers 3 --report out/

      replenish simulate --areas 0 --policy learned --no-baselines
    """
    from replenish.sim.drive import POLICIES, Policy
    from replenish.sim.report import TraceData, compare_svg, table, trace_svg

    problems = []
    if not 1 <= households <= 5000:
        problems.append(f"--households must be 1 to 5000, got {households}")
    if not 1 <= days <= 1100:
        problems.append(f"--days must be 1 to 1100, got {days}")
    if not 1 <= couriers <= 20:
        problems.append(f"--couriers must be 1 to 20, got {couriers}")
    if risk is not None and not 0 < risk < 0.5:
        problems.append(f"--risk must be more than 0 and less than 0.5, got {risk}")
    if not 0 <= areas <= 14:
        problems.append(f"--areas must be 0 to 14, got {areas}")
    if not 1 <= solver_iterations <= 100_000:
        problems.append(f"--solver-iterations must be 1 to 100000, got {solver_iterations}")
    if policy not in {p.value for p in POLICIES}:
        problems.append(f"--policy must be one of {', '.join(p.value for p in POLICIES)}, "
                        f"got {policy!r}")
    try:
        first = date.fromisoformat(start)
    except ValueError:
        problems.append(f"--start must be a date such as 2027-01-01, got {start!r}")
        first = date(2027, 1, 1)
    if problems:
        fail("; ".join(problems))
    cfg = settings()
    chosen = Policy(policy)
    policies = [chosen, *(p for p in POLICIES if p is not chosen)] if baselines else [chosen]
    base = {"households": households, "days": days, "seed": seed, "couriers": couriers,
            "risk": risk, "start": first, "solver_iterations": solver_iterations,
            "areas": areas}
    work = [({**base, "policy": p}, cfg) for p in policies]
    if not as_json:
        typer.echo(f"simulating {households} households for {days} days (seed {seed}): "
                   f"{', '.join(p.value for p in policies)}", err=True)
    if jobs > 1 and len(work) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
            runs = list(pool.map(_one, work))
    else:
        runs = [_one(item) for item in work]
    metrics = [run["metrics"] for run in runs]
    if as_json:
        typer.echo(json.dumps(metrics[0] | {"baselines": metrics[1:]}, default=str, indent=2))
    else:
        typer.echo(table(metrics))
    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
        (report / "report.json").write_text(json.dumps(
            {"config": {k: str(v) for k, v in base.items()}, "results": metrics},
            default=str, indent=2))
        (report / "table.txt").write_text(table(metrics) + "\n")
        (report / "policies.svg").write_text(compare_svg(metrics))
        for run in runs:
            name = run["metrics"]["policy"]
            for trace in run["traces"]:
                data = TraceData(
                    title=f"{name}: household {trace['household']}", capacity=trace["capacity"],
                    days=trace["days"], level=trace["level"], expected=trace["expected"],
                    low=trace["low"], high=trace["high"], drops=trace["drops"])
                path = report / f"trace-{name}-household-{trace['household']}.svg"
                path.write_text(trace_svg(data))
        if not as_json:
            typer.echo(f"report written to {report}/", err=True)
