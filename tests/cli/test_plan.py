import json

import pytest
from typer.testing import CliRunner

from replenish.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(backend):
    """A demo town on SQLite and on PostgreSQL; returns how to run the CLI on it."""
    env = {"REPLENISH_DATABASE_URL": backend.new_database()}
    seeded = runner.invoke(app, ["init", "--demo", "--no-activity"], env=env)
    assert seeded.exit_code == 0, seeded.output

    def run(*args):
        return runner.invoke(app, list(args), env=env)

    return run


def plan(demo, *args):
    result = demo("plan", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_plan_explains_itself_and_saves_nothing_without_apply(demo):
    first, second = plan(demo), plan(demo)
    assert first["applied"] is False and first["counts"]["prompts"] >= 1
    assert first["counts"] == second["counts"]  # the first run left nothing behind
    prompted = [d for d in first["decisions"] if d["action"] == "prompt"]
    assert all(d["reason"].startswith("order-by") and d["drop_on"] for d in prompted)
    assert all(d["proposal_id"] is None for d in prompted)
    table = demo("plan")
    assert "dry run: nothing saved" in table.output
    assert table.output.splitlines()[1].split()[:4] == ["id", "customer", "product", "action"]


def test_apply_makes_the_proposals_once(demo):
    applied = plan(demo, "--apply")
    assert applied["applied"] is True and applied["counts"]["prompts"] >= 1
    after = plan(demo)
    assert after["counts"]["prompts"] == 0
    waiting = [d for d in after["decisions"] if d["reason"].startswith("waiting on proposal")]
    assert len(waiting) == applied["counts"]["prompts"]


def test_the_plan_looks_ahead_only(demo):
    past = demo("plan", "--as-of", "2020-01-01")
    assert past.exit_code == 2 and "in the past" in past.output
    typo = demo("plan", "--as-of", "tomorrow")
    assert typo.exit_code == 2 and "not a date" in typo.output
    ahead = plan(demo, "--as-of", "2099-01-01")
    assert ahead["now"].startswith("2099-01-01T21:00")
