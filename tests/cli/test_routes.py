import json
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from replenish.cli import app

runner = CliRunner()


@pytest.fixture
def cli(backend):
    env = {"REPLENISH_DATABASE_URL": backend.new_database(),
           "REPLENISH_ROUTING__TIME_LIMIT_SECONDS": "0.5"}
    made = runner.invoke(app, ["init", "--demo", "--no-activity"], env=env)
    assert made.exit_code == 0, made.output

    def run(*args):
        return runner.invoke(app, list(args), env=env)

    return run


def booked_day(cli):
    """Run the nightly plan a week on and say YES to every prompt: the first booked day."""
    assert cli("jobs", "run", "nightly_plan", "--as-of", "2026-12-05").exit_code == 0
    out = json.loads(cli("messages", "--json").output)
    for message in out if isinstance(out, list) else out["messages"]:
        if message["kind"] == "prompt":
            cli("messages", "reply", "--customer", str(message["customer_id"]), "yes")
    days = sorted({d["drop_on"] for d in json.loads(cli("plan", "--json").output)["decisions"]
                   if d["reason"].startswith("booked")} or {"2026-12-07"})
    return days[0]


def test_routes_are_built_shown_and_printed_for_a_day_with_booked_drops(cli):
    day = booked_day(cli)
    built = cli("routes", "build", "--date", day, "--json")
    assert built.exit_code == 0, built.output
    plan = json.loads(built.output)
    assert plan["day"] == day and plan["planned"] >= 1
    assert plan["planned"] == sum(len(r["stops"]) for r in plan["routes"])
    first = plan["routes"][0]["stops"][0]
    assert first["seq"] == 1 and first["unit"] == "kg" and first["status"] == "pending"

    table = cli("routes", "show", "--date", day)
    assert table.exit_code == 0 and f"routes for {day}: {plan['planned']} stops" in table.output
    sheet = cli("routes", "show", "--date", day, "--sheet").output
    assert "empty the old rice, wipe the tank" in sheet and "[ ] not home" in sheet
    first = plan["routes"][0]["stops"][0]
    assert first["expected_level"] >= 0 and first["away_since"] < day  # the demo has levels
    assert (f"expected about {first['expected_level']:g} kg left; much more: ask how many "
            f"days they were away since {first['away_since']}") in sheet
    assert first["missed_visits"] == [] and "nobody was home" not in sheet

    before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    assert before > first["away_since"]
    knocked = cli("drop", "add", "--customer", str(first["customer_id"]), "--quantity", "10",
                  "--date", before, "--status", "not-home")
    assert knocked.exit_code == 0, knocked.output
    again = json.loads(cli("routes", "show", "--date", day, "--json").output)
    assert again["routes"][0]["stops"][0]["missed_visits"] == [before]
    assert (f"nobody was home on {before}: ask whether they were away"
            in cli("routes", "show", "--date", day, "--sheet").output)


def test_routes_show_says_how_to_build_a_day_that_has_none(cli):
    empty = cli("routes", "show", "--date", "2030-01-01")
    assert empty.exit_code == 2
    assert ("no routes for 2030-01-01 yet: `replenish routes build --date 2030-01-01`"
            in empty.output)
    typo = cli("routes", "build", "--date", "someday")
    assert typo.exit_code == 2 and "write it like 2026-12-01" in typo.output


def test_the_shop_location_and_couriers_are_edited_with_clear_errors(cli):
    moved = cli("shop", "edit", "--lat", "23.0", "--lon", "120.2")
    assert moved.exit_code == 0, moved.output
    assert json.loads(cli("shop", "show", "--json").output)["lat"] == 23.0
    wrong = cli("shop", "edit", "--lat", "123")
    assert wrong.exit_code == 2 and "--lat: must be at most 90, got 123" in wrong.output
    hours = cli("shop", "edit", "--open", "21:00")
    assert hours.exit_code == 2
    assert "--open 21:00 must be earlier than --close 20:00" in hours.output

    added = cli("courier", "add", "--name", "阿德", "--phone", "0911 222 309", "--capacity", "200")
    assert added.exit_code == 0, added.output
    couriers = json.loads(cli("courier", "list", "--json").output)
    assert [c["name"] for c in couriers][-1] == "阿德" and couriers[-1]["capacity"] == 200
    shift = cli("courier", "edit", str(couriers[-1]["id"]), "--shift-end", "07:00")
    assert shift.exit_code == 2 and "must be earlier than --shift-end 07:00" in shift.output
    assert cli("courier", "edit", "999", "--inactive").output.startswith("error: no courier 999")
