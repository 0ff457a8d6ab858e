import json

import pytest
from typer.testing import CliRunner

from replenish.cli import app

runner = CliRunner()


@pytest.fixture
def cli(backend):
    env = {"REPLENISH_DATABASE_URL": backend.new_database()}
    made = runner.invoke(app, ["init", "--demo", "--no-activity"], env=env)
    assert made.exit_code == 0, made.output

    def run(*args):
        return runner.invoke(app, list(args), env=env)

    return run


def test_jobs_list_shows_every_job_with_its_next_run_before_any_scheduler_ran(cli):
    listed = cli("jobs", "list", "--json")
    assert listed.exit_code == 0, listed.output
    out = json.loads(listed.output)
    assert out["timezone"] == "Asia/Taipei" and out["scheduler"]["running"] is False
    jobs = {j["job"]: j for j in out["jobs"]}
    assert set(jobs) == {
        "nightly_plan", "build_routes", "courier_morning", "reminders", "followups",
        "dispatch_outbox"}
    assert jobs["nightly_plan"]["when"] == "daily at 21:00"
    assert jobs["nightly_plan"]["next_run"][11:16] == "21:00"
    assert jobs["reminders"]["next_run"][14:16] == "05"
    assert all(j["last_status"] is None for j in jobs.values())
    table = cli("jobs", "list").output
    assert "no scheduler is running: start one with `replenish run`" in table


def test_running_the_nightly_plan_for_a_day_twice_books_and_queues_nothing_twice(cli):
    first = cli("jobs", "run", "nightly_plan", "--as-of", "2026-12-08", "--json")
    assert first.exit_code == 0, first.output
    done = json.loads(first.output)
    assert done["status"] == "ok" and done["as_of"] == "2026-12-08T21:00+08:00"
    assert "prompt" in done["summary"]
    again = json.loads(cli("jobs", "run", "nightly_plan", "--as-of", "2026-12-08",
                           "--json").output)
    assert "prompt" not in again["summary"] and "book" not in again["summary"]
    listed = {j["job"]: j for j in json.loads(cli("jobs", "list", "--json").output)["jobs"]}
    assert listed["nightly_plan"]["last_status"] == "ok"
    assert listed["nightly_plan"]["last_summary"] == again["summary"]


def test_jobs_run_names_the_jobs_and_the_date_format_when_given_something_else(cli):
    unknown = cli("jobs", "run", "nightly")
    assert unknown.exit_code == 2
    assert "no job 'nightly'; the jobs are: nightly_plan, build_routes" in unknown.output
    bad = cli("jobs", "run", "reminders", "--as-of", "next friday")
    assert bad.exit_code == 2 and "write it like 2026-12-01" in bad.output
