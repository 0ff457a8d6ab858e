"""The IRP yardstick: instance parsing, the cost convention, stock-out detection, the
policy on the smallest published instance."""

import os
from pathlib import Path

import pytest

from replenish.sim.irp import (
    FaultKind,
    IrpPlan,
    check_plan,
    parse_instance,
    plan_cost,
    read_bounds,
    read_instance,
    stock_outs,
)
from replenish.sim.irp_flow import quantities
from replenish.sim.irp_policy import IrpParams, latest_visits, plan_irp, visit_quantities


def _data() -> Path:
    """The instances: beside the project (../shared/benchdata), else where
    REPLENISH_BENCHDATA or this workplace keeps them (a clone elsewhere, as in CI)."""
    beside = Path(__file__).parents[2].parent / "shared/benchdata"
    for root in (os.environ.get("REPLENISH_BENCHDATA"), beside, "/work/shared/benchdata"):
        if root and (Path(root) / "irp_dimacs_martinelli" / "bounds.txt").exists():
            return Path(root) / "irp_dimacs_martinelli"
    return beside / "irp_dimacs_martinelli"


DATA = _data()
needs_data = pytest.mark.skipif(
    not (DATA / "data" / "S_abs1n5_2_H3.dat").exists(),
    reason=f"the DIMACS IRP instances are not at {DATA}",
)

# two customers, a 2-day horizon: small enough to price by hand
TINY = """\
3 2 100 1
0 0.0 0.0 100 30 0.5
1 3.0 4.0 10 40 0 10 0.1
2 0.0 10.0 20 30 0 15 0.2
"""

# the optimal plan of S_abs1n5_2_H3 (found by brute force, docs/irp.md)
OPTIMUM_H3 = IrpPlan((
    (((1, 65.0),),),
    (((4, 48.0), (2, 35.0), (5, 22.0)), ((3, 116.0),)),
    (),
))


def tiny_plan() -> IrpPlan:
    # day 0: customer 1 gets 30 (level 10 -> 40 -> 30 after use)
    # day 1: customer 2 gets 10 (level 5 -> 15 -> 0), customer 1 nothing (30 -> 20)
    return IrpPlan(((((1, 30.0),),), (((2, 10.0),),)))


def test_it_parses_the_format_and_rounds_distances_to_the_nearest_integer():
    instance = parse_instance(TINY, name="tiny")
    assert (instance.days, instance.capacity, instance.vehicles, instance.n) == (2, 100, 1, 2)
    assert instance.customer(2).use == 15 and instance.customer(1).max_level == 40
    assert instance.distance[0, 1] == 5 and instance.distance[1, 2] == 7  # 6.708 -> 7


def test_a_hand_made_plan_costs_what_the_convention_says():
    instance = parse_instance(TINY, name="tiny")
    cost = plan_cost(instance, tiny_plan())
    assert cost.routing == 5 + 5 + 10 + 10
    # supplier: 100 + 30 - 30 = 100 at the end of day 0, 100 + 30 - 10 = 120 at day 1
    assert cost.holding_supplier == pytest.approx(0.5 * (100 + 120))
    # customer 1: 30, 20; customer 2: 5, 0 (the starting stock is not charged)
    assert cost.holding_customers == pytest.approx(0.1 * (30 + 20) + 0.2 * (5 + 0))
    assert check_plan(instance, tiny_plan()) == []


def test_it_finds_the_stock_out_of_a_plan_that_comes_a_day_late():
    instance = parse_instance(TINY, name="tiny")
    late = IrpPlan(((((1, 30.0),),), ()))  # customer 2 needs 10 more on day 1
    faults = check_plan(instance, late)
    assert [(f.kind, f.day, f.customer, f.amount) for f in faults] == [
        (FaultKind.STOCK_OUT, 1, 2, 10.0)]
    assert stock_outs(faults) == 1


def test_it_finds_overfills_overloads_and_a_short_supplier():
    instance = parse_instance(TINY, name="tiny")
    bad = IrpPlan(((((1, 31.0), (2, 200.0)),), ()))
    kinds = {f.kind for f in check_plan(instance, bad)}
    assert {FaultKind.OVERFILL, FaultKind.OVERLOAD, FaultKind.SUPPLIER_SHORT} <= kinds


def test_the_planner_visits_on_each_run_out_day_and_fills_the_tank():
    instance = parse_instance(TINY, name="tiny")
    assert latest_visits(instance.customer(1), 2) == [1]  # 10 lasts day 0 only
    assert latest_visits(instance.customer(2), 2) == [1]
    # cheaper to hold at the customer than at the supplier: fill up
    assert visit_quantities(instance.customer(1), [1], 2, 0.5) == [40]  # level 0, U 40
    # dearer: just enough
    assert visit_quantities(instance.customer(1), [1], 2, 0.05) == [10]
    assert visit_quantities(instance.customer(1), [], 2, 0.5) is None  # it would run out


def test_the_flow_picks_the_cheapest_drops_for_fixed_routes():
    instance = parse_instance(TINY, name="tiny")
    plan = quantities(instance, [[[1]], [[2]]])
    assert plan is not None and check_plan(instance, plan) == []
    # customer 1 (0.1) is cheaper to hold than the supplier (0.5): filled to U on day 0;
    # customer 2 (0.2) too, but only 10 more fit on day 1 (level 5, U 30 -> 25)
    assert plan.drops(0) == {1: 30.0} and plan.drops(1) == {2: 25.0}
    assert quantities(instance, [[], [[1]]]) is None  # customer 2 is never visited


@needs_data
def test_it_reads_the_smallest_instance_and_its_bound():
    instance = read_instance(DATA / "data" / "S_abs1n5_2_H3.dat")
    assert (instance.n, instance.days, instance.capacity, instance.vehicles) == (5, 3, 144, 2)
    assert instance.supplier_start == 510 and instance.production == 193
    assert instance.customer(5).use == 11 and instance.customer(5).holding == 0.18
    assert read_bounds(DATA / "bounds.txt")["S_abs1n5_2_H3"] == 2027.75


@needs_data
def test_the_brute_force_optimum_of_the_smallest_instance_costs_the_published_value():
    instance = read_instance(DATA / "data" / "S_abs1n5_2_H3.dat")
    assert check_plan(instance, OPTIMUM_H3) == []
    cost = plan_cost(instance, OPTIMUM_H3)
    assert cost.routing == 1302
    assert cost.total == pytest.approx(2027.75, abs=0.005)


@needs_data
def test_the_policy_plans_the_smallest_instance_without_stock_outs_near_the_best_known():
    instance = read_instance(DATA / "data" / "S_abs1n5_2_H3.dat")
    result = plan_irp(instance, IrpParams(route_iterations=200, lookahead_seconds=2.0))
    assert check_plan(instance, result.plan) == []
    assert result.cost == plan_cost(instance, result.plan)
    assert 2027.75 - 0.01 <= result.cost.total <= 2027.75 * 1.05
