import json

import pytest
from typer.testing import CliRunner

from replenish.cli import app

runner = CliRunner()


@pytest.fixture
def cli(backend):
    env = {"REPLENISH_DATABASE_URL": backend.new_database()}
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    added = runner.invoke(app, ["customer", "add", "--name", "王太太", "--phone", "0912 345 678",
                                "--adults", "2", "--shape", "cylinder", "--diameter-cm", "40",
                                "--height-cm", "60", "--fill-cm", "20"], env=env)
    assert added.exit_code == 0, added.output

    def run(*args):
        return runner.invoke(app, list(args), env=env)

    return run


def test_a_shop_changes_its_bag_sizes_and_the_next_drop_follows(cli):
    before = json.loads(cli("forecast", "--json").output)[0]["drop_size"]
    assert before % 5 == 0
    changed = cli("product", "edit", "rice", "--bag-sizes", "3", "--min-drop", "3")
    assert changed.exit_code == 0, changed.output
    rows = json.loads(cli("product", "list", "--json").output)
    assert next(r for r in rows if r["key"] == "rice")["bag_sizes"] == [3.0]
    after = json.loads(cli("forecast", "--json").output)[0]["drop_size"]
    assert after % 3 == 0


def test_a_bigger_per_person_prior_brings_the_run_out_closer(cli):
    before = json.loads(cli("forecast", "--json").output)[0]["runout_p50"]
    assert cli("product", "edit", "米", "--prior-adult", "0.3").exit_code == 0
    after = json.loads(cli("forecast", "--json").output)[0]["runout_p50"]
    assert after < before


def test_a_second_tank_gets_its_own_forecast_row(cli):
    added = cli("tank", "add", "--customer", "1", "--product", "water", "--shape", "capacity",
                "--capacity", "3")
    assert added.exit_code == 0, added.output
    rows = json.loads(cli("forecast", "--customer", "1", "--json").output)
    assert sorted(r["product"] for r in rows) == ["rice", "water"]


def test_a_second_tank_of_the_same_product_shares_the_household(cli):
    before = json.loads(cli("forecast", "--json").output)[0]["rate_per_day"]
    cli("tank", "add", "--customer", "1", "--shape", "box", "--width-cm", "30",
        "--depth-cm", "30", "--height-cm", "40")
    assert cli("reading", "add", "--customer", "1", "--tank", "2", "--level", "10").exit_code == 0
    rows = json.loads(cli("forecast", "--customer", "1", "--json").output)
    assert [r["rate_per_day"] for r in rows] == [pytest.approx(before / 2)] * 2


@pytest.mark.parametrize(("args", "message"), [
    (("product", "edit", "rice", "--prior-adult", "-1"), "--prior-adult"),
    (("product", "edit", "beans", "--min-drop", "2"), "is not a product of this shop"),
    (("product", "edit", "rice"), "nothing to change"),
    (("tank", "add", "--customer", "1", "--shape", "cylinder", "--diameter-cm", "40"),
     "needs --height-cm"),
    (("tank", "add", "--customer", "99", "--shape", "capacity", "--capacity", "3"),
     "--customer 99"),
])
def test_bad_product_and_tank_input_is_refused_by_name(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.output
