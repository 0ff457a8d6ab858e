import json

from typer.testing import CliRunner

from replenish.cli import app

runner = CliRunner()


def test_wangs_tank_prints_its_litres_and_kilograms():
    result = runner.invoke(app, ["tank-capacity", "--shape", "cylinder", "--diameter-cm", "40",
                                 "--height-cm", "60", "--product", "rice"])
    assert result.exit_code == 0
    assert "75.4 L" in result.output
    assert "60.3 kg" in result.output


def test_json_output_gives_litres_capacity_and_the_amount_at_a_depth():
    result = runner.invoke(app, ["tank-capacity", "--shape", "box", "--width-cm", "30",
                                 "--depth-cm", "40", "--height-cm", "50", "--fill-cm", "20",
                                 "--json"])
    assert result.exit_code == 0
    out = json.loads(result.output)
    assert out == {"shape": "box", "litres": 60.0, "capacity": 48.0, "unit": "kg",
                   "product": "rice", "fill_cm": 20.0, "amount_at_fill": 19.2}


def test_a_negative_dimension_names_the_option_and_exits_non_zero():
    result = runner.invoke(app, ["tank-capacity", "--shape", "cylinder", "--diameter-cm", "-40",
                                 "--height-cm", "60"])
    assert result.exit_code == 2
    assert "--diameter-cm must be a positive number" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_product_lists_the_known_ones():
    result = runner.invoke(app, ["tank-capacity", "--shape", "capacity", "--capacity", "20",
                                 "--product", "beans"])
    assert result.exit_code == 2
    assert "rice" in result.output
