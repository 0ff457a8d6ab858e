import json

import pytest
from typer.testing import CliRunner

from replenish.cli import app

runner = CliRunner()
JSON_KEYS = {"customer_id", "level_now", "rate_per_day", "runout_p10", "runout_p50",
             "runout_p90", "order_by", "drop_size", "unit"}


@pytest.fixture(scope="module")
def demo(backend):
    """A demo town on SQLite and on PostgreSQL; returns how to run the CLI on it."""
    env = {"REPLENISH_DATABASE_URL": backend.new_database()}
    seeded = runner.invoke(app, ["init", "--demo", "--no-activity"], env=env)
    assert seeded.exit_code == 0, seeded.output

    def run(*args):
        return runner.invoke(app, list(args), env=env)

    return run


def test_the_forecast_lists_every_customer_by_order_by_date(demo):
    result = demo("forecast", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 60
    assert set(rows[0]) >= JSON_KEYS
    dated = [r["order_by"] for r in rows if r["order_by"] is not None]
    assert dated == sorted(dated)
    for r in rows:
        if r["order_by"] is not None:
            assert r["runout_p10"] <= r["runout_p50"] <= r["runout_p90"]


def test_the_table_shows_one_line_per_tank_under_a_header(demo):
    result = demo("forecast")
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:4] == ["id", "customer", "tank", "product"]
    assert len(lines) == 61


def test_a_reading_moves_the_forecast_at_once(demo):
    before = json.loads(demo("forecast", "--customer", "5", "--json").output)[0]
    added = demo("reading", "add", "--customer", "5", "--level", "0.5", "--source", "customer")
    assert added.exit_code == 0, added.output
    after = json.loads(demo("forecast", "--customer", "5", "--json").output)[0]
    assert after["level_now"] == pytest.approx(0.5, abs=0.05)
    assert after["runout_p50"] <= before["runout_p50"]


def test_a_tank_takes_one_planned_drop_at_a_time(demo):
    args = ("drop", "add", "--customer", "7", "--quantity", "10", "--status", "planned")
    first = demo(*args, "--date", "2099-01-05", "--json")
    second = demo(*args, "--date", "2099-01-06")
    assert first.exit_code == 0, first.output
    assert second.exit_code == 2
    drop_id = json.loads(first.output)["drop_id"]
    assert f"already has drop #{drop_id} planned for 2099-01-05" in second.output


def test_a_planned_drop_is_cancelled_once_and_then_another_may_be_planned(demo):
    args = ("drop", "add", "--customer", "8", "--quantity", "10", "--status", "planned")
    drop_id = json.loads(demo(*args, "--date", "2099-01-05", "--json").output)["drop_id"]

    cancelled = demo("drop", "cancel", str(drop_id), "--note", "phoned", "--json")
    again = demo("drop", "cancel", str(drop_id))
    unknown = demo("drop", "cancel", "999999")

    assert cancelled.exit_code == 0, cancelled.output
    assert json.loads(cancelled.output) == {"drop_id": drop_id, "status": "cancelled",
                                            "off_route_on": None}
    assert again.exit_code == 2 and f"drop {drop_id} is cancelled" in again.output
    assert unknown.exit_code != 0 and "no such drop in this shop" in unknown.output
    assert demo(*args, "--date", "2099-01-06").exit_code == 0  # the tank is free again


def test_a_drop_saved_twice_with_one_key_is_recorded_once(demo):
    args = ("drop", "add", "--customer", "7", "--quantity", "10", "--depth-before-cm", "4",
            "--key", "route-1-stop-7", "--json")
    first, second = demo(*args), demo(*args)
    assert first.exit_code == second.exit_code == 0
    assert json.loads(first.output)["drop_id"] == json.loads(second.output)["drop_id"]


def test_a_forecast_as_of_an_earlier_date_writes_nothing(backend):
    from sqlmodel import Session, select

    from replenish.db import make_engine
    from replenish.db.models import TankForecast

    url = backend.new_database()
    env = {"REPLENISH_DATABASE_URL": url}
    assert runner.invoke(app, ["init", "--demo", "--no-activity"], env=env).exit_code == 0
    engine = make_engine(url)

    def saved():
        with Session(engine) as session:
            return [(f.tank_id, f.as_of, f.computed_at, f.order_by)
                    for f in session.exec(select(TankForecast).order_by(TankForecast.tank_id))]

    before = saved()
    earlier = runner.invoke(app, ["forecast", "--as-of", "2026-10-01", "--json"], env=env)
    assert earlier.exit_code == 0
    assert json.loads(earlier.output)
    assert saved() == before
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reading", "add", "--customer", "1", "--depth-cm", "500"), "a fill of 500 cm is more"),
        (("reading", "add", "--customer", "1"), "exactly one of --depth-cm"),
        (("reading", "add", "--customer", "9999", "--level", "3"), "--customer 9999"),
        (("drop", "add", "--customer", "1", "--quantity", "-2"), "--quantity must be"),
        (("forecast", "--as-of", "next friday"), "--as-of 'next friday'"),
        (("reading", "add", "--customer", "1", "--level", "3", "--at", "tuesday"), "--at"),
    ],
)
def test_bad_input_gets_a_clear_message_and_no_traceback(demo, args, message):
    result = demo(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_commands_refuse_a_database_that_was_never_initialised(tmp_path):
    env = {"REPLENISH_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    result = runner.invoke(app, ["forecast"], env=env)
    assert result.exit_code == 2
    assert "replenish init" in result.output
