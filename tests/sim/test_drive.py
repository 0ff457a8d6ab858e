"""The simulated town driven through the real system, on SQLite and on PostgreSQL."""

import json
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from replenish.cli import app
from replenish.core.types import DropStatus
from replenish.db import make_engine
from replenish.db.models import (
    Customer,
    Drop,
    Hold,
    InboundMessage,
    MessageKind,
    OutboundMessage,
    RouteStop,
)
from replenish.sim.drive import Policy, SimConfig, simulate
from replenish.sim.people import make_households

SMALL = {"households": 16, "days": 21, "seed": 3, "solver_iterations": 50,
         "start": date(2027, 3, 1)}


def run(backend, settings, policy):
    url = backend.new_database()
    result = simulate(SimConfig(**SMALL, policy=policy, database_url=url), settings=settings)
    return url, result.metrics, result.traces


def test_a_learned_run_goes_through_texts_replies_routes_and_the_couriers_records(
        backend, settings):
    url, metrics, traces = run(backend, settings, Policy.LEARNED)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            delivered = session.exec(select(func.count()).select_from(Drop).where(
                Drop.status == DropStatus.DELIVERED)).one()
            measured = session.exec(select(func.count()).select_from(Drop).where(
                Drop.status == DropStatus.DELIVERED, Drop.level_before != None)).one()  # noqa: E711
            recorded = session.exec(select(func.count()).select_from(RouteStop).where(
                RouteStop.completed_at != None)).one()  # noqa: E711
            replies = session.exec(select(func.count()).select_from(InboundMessage)).one()
            prompts = session.exec(select(func.count()).select_from(OutboundMessage).where(
                OutboundMessage.kind == MessageKind.PROMPT)).one()
    finally:
        engine.dispose()
    assert metrics["drops"] == delivered == measured > 0  # every pour measured at the door
    assert recorded >= delivered  # and recorded through the courier's stop form
    assert replies == metrics["texts_received"] > 0 and prompts > 0
    assert metrics["sms_sent"] > 0 and metrics["km"] > 0 and metrics["courier_hours"] > 0
    assert 0 < metrics["mean_level_at_drop"] < 1
    assert len(traces) == 4 and len(traces[0].days) == SMALL["days"]
    assert any(v is not None for v in traces[0].expected)


def test_the_same_seed_gives_the_same_run_in_its_own_temporary_database(settings):
    tiny = SMALL | {"households": 10, "days": 14}
    first, again, other = (simulate(SimConfig(**tiny | {"seed": seed}), settings=settings).metrics
                           for seed in (3, 3, 4))
    for metrics in (first, again, other):
        metrics.pop("seconds")
    assert first == again and first != other


def test_a_family_that_runs_out_texts_the_shop_and_has_rice_within_two_days(
        backend, settings):
    url = backend.new_database()
    careless = SMALL | {"days": 45, "risk": 0.45}  # order-by near the median: run-outs
    first_too = settings.model_copy(update={  # the first drops as well
        "forecast": settings.forecast.model_copy(update={"first_risk": 0.45})})
    metrics = simulate(SimConfig(**careless, policy=Policy.LEARNED, database_url=url),
                       settings=first_too).metrics
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            rushed = session.exec(select(func.count()).select_from(OutboundMessage).where(
                OutboundMessage.kind == MessageKind.CONFIRMATION,
                col(OutboundMessage.body).contains("不需要請回覆3"))).one()
    finally:
        engine.dispose()
    assert 0 < metrics["out_texts"] <= metrics["runouts"]  # unless a drop came that day
    assert rushed > 0  # "sorry! we'll bring it tomorrow"
    # the day it ran out, the day of the text, and the morning of the drop at most
    assert metrics["runout_household_days"] <= 3 * metrics["runouts"]


def test_a_family_back_from_a_trip_tells_the_courier_and_the_days_are_held(backend, settings):
    url = backend.new_database()
    config = SimConfig(**SMALL | {"households": 30, "days": 60}, database_url=url)
    metrics = simulate(config, settings=settings).metrics
    trips = {f"Household {h.id}": sum((end - start).days + 1 for start, end in h.away)
             for h in make_households(30, seed=config.seed, start=config.start, days=60)}
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            told = session.exec(select(Customer.name, Hold.start_date, Hold.end_date).join(
                Customer, col(Customer.id) == col(Hold.customer_id)).where(
                col(Hold.note).contains("told the courier"))).all()
    finally:
        engine.dispose()
    assert metrics["away_told_at_door"] > 0 and told
    held: dict[str, int] = {}
    for name, start, end in told:
        held[name] = held.get(name, 0) + (end - start).days + 1
    assert all(0 < days <= trips[name] for name, days in held.items())  # never more than away


def test_a_reactive_shop_lets_every_family_run_dry_before_it_brings_rice(backend, settings):
    _, reactive, _ = run(backend, settings, Policy.REACTIVE)
    assert reactive["sms_sent"] == 0 and reactive["drops"] > 0
    assert reactive["runouts"] >= reactive["drops"]  # each drop answers an empty tank
    assert reactive["mean_level_at_drop"] == 0.0


runner = CliRunner()


def test_the_command_prints_the_json_keys_and_writes_the_report(tmp_path):
    out = runner.invoke(app, ["simulate", "--households", "6", "--days", "8", "--json",
                              "--no-baselines", "--policy", "fixed-interval",
                              "--report", str(tmp_path / "out")])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    for key in ("runouts", "runout_household_days", "drops", "sms_sent", "sms_per_drop",
                "mean_level_at_drop", "km"):
        assert key in result
    assert result["policy"] == "fixed-interval" and result["baselines"] == []
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files[:3] == ["policies.svg", "report.json", "table.txt"]
    assert "trace-fixed-interval-household-1.svg" in files


def test_the_command_names_each_bad_option_and_runs_nothing():
    out = runner.invoke(app, ["simulate", "--households", "0", "--policy", "psychic",
                              "--risk", "0.7", "--areas", "15"])
    assert out.exit_code != 0
    for words in ("--households must be 1 to 5000, got 0", "--risk must be more than 0",
                  "--areas must be 0 to 14, got 15",
                  "--policy must be one of learned, prior-only, fixed-interval, reactive"):
        assert words in out.output
