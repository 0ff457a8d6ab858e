import json
import re
from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from replenish.cli import app
from replenish.db import make_engine
from replenish.db.models import CourierCreate, Customer, HouseholdChange, Reading, Shop, Tank
from replenish.db.queries import create_courier

runner = CliRunner()
DATA = Path(__file__).parent / "data"
DOCS = Path(__file__).parents[2] / "docs" / "customers.md"

WANG = ["customer", "add", "--name", "王太太", "--phone", "0912 345 678",
        "--address", "台南市東區長榮路一段100號", "--adults", "2", "--elders", "1",
        "--shape", "cylinder", "--diameter-cm", "40", "--height-cm", "60", "--fill-cm", "20"]


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def init_database(url, monkeypatch):
    monkeypatch.setenv("REPLENISH_DATABASE_URL", url)
    ok("init")
    return url


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A fresh SQLite file, after `replenish init`."""
    return init_database(f"sqlite:///{tmp_path / 'shop.db'}", monkeypatch)


@pytest.fixture
def any_database(backend, monkeypatch):
    """A fresh database of each kind (SQLite, PostgreSQL), after `replenish init`."""
    return init_database(backend.new_database(), monkeypatch)


def in_database(url, work):
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            out = work(session)
            session.commit()
            return out
    finally:
        engine.dispose()


def add_courier(url, name, phone):
    """Couriers have no command yet: add one straight to the database."""
    in_database(url, lambda s: create_courier(session=s, shop=s.exec(select(Shop)).first(),
                                              courier_in=CourierCreate(name=name, phone=phone)))


def count(url, model):
    return in_database(url, lambda s: s.exec(select(func.count()).select_from(model)).one())


def write_csv(tmp_path, text, name="customers.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- add and list -------------------------------------------------------------------------


def test_a_chinese_household_is_registered_and_listed(database):
    added = ok(*WANG)
    assert "registered customer #1 王太太 (+886912345678): 2 adults, 1 elder" in added.output
    assert "holds 60.3 kg" in added.output
    assert "in the tank now: 20.1 kg" in added.output
    listed = ok("customer", "list")
    header, row = listed.output.splitlines()
    assert header.split() == ["id", "name", "phone", "product", "mode", "household", "courier"]
    assert row.split() == ["1", "王太太", "+886912345678", "rice", "confirm", "3"]
    shown = ok("customer", "show", "1")
    assert "台南市東區長榮路一段100號" in shown.output


def test_a_local_phone_number_is_accepted_and_shown_in_e164(database):
    ok("customer", "add", "--name", "Chen", "--phone", "0922-111-222", "--adults", "1",
       "--shape", "capacity", "--capacity", "20")
    [row] = json.loads(ok("customer", "list", "--json").output)
    assert row["phone"] == "+886922111222"


def test_bad_input_names_every_option_and_exits_2_without_a_traceback(database):
    result = run("customer", "add", "--name", "X", "--phone", "12", "--shape", "cylinder",
                 "--diameter-cm", "-40", "--height-cm", "60", "--fill-cm", "70",
                 "--product", "beans")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines == [
        "error: --phone: '12' is not a valid phone number for region TW; "
        "write it like 0912 345 678 or +886 912 345 678",
        "error: --product: 'beans' is not a product of this shop; "
        "choose one of: rice, water, cooking_oil, propane",
        "error: --adults: the household has nobody in it: adults + children + elders is 0; "
        "write how many people live there, like 2 adults",
        "error: --diameter-cm: -40 must be more than 0; "
        "write it like 40 (the inside diameter, in cm)",
        "error: --fill-cm: 70 cm is deeper than the tank, which is 60 cm high; "
        "measure the product standing in the tank, from the bottom up",
    ]
    assert count(database, Customer) == 0


def test_the_same_household_typed_twice_names_the_existing_customer(database):
    ok(*WANG)
    again = run("customer", "add", "--name", "王媽媽", "--phone", "+886 912 345 678",
                "--adults", "1", "--shape", "capacity", "--capacity", "20")
    assert again.exit_code == 2
    assert "already registered to customer #1 (王太太)" in again.output
    assert count(database, Customer) == 1


def test_the_list_filters_by_search_mode_courier_and_product(database):
    add_courier(database, "阿輝", "0911 222 301")
    ok(*WANG, "--courier", "阿輝")
    ok("customer", "add", "--name", "Dave Miller", "--phone", "+1 512 555 0134",
       "--product", "water", "--mode", "auto", "--adults", "2", "--shape", "capacity",
       "--capacity", "3", "--level", "2")

    def names(*options):
        return [r["name"] for r in json.loads(ok("customer", "list", *options, "--json").output)]

    assert names() == ["王太太", "Dave Miller"]
    assert names("--search", "王") == ["王太太"]
    assert names("--search", "5550134") == ["Dave Miller"]
    assert names("--mode", "auto") == ["Dave Miller"]
    assert names("--courier", "阿輝") == ["王太太"]
    assert names("--product", "水") == ["Dave Miller"]
    unknown = run("customer", "list", "--courier", "小明")
    assert unknown.exit_code == 2 and "阿輝" in unknown.output


# --- show, edit, hold ---------------------------------------------------------------------


def test_show_gives_the_household_tank_readings_holds_and_forecast(database):
    ok(*WANG, "--time-windows", "mon-fri 17:00-21:00")
    ok("customer", "hold", "1", "--kind", "away", "--from", "2027-01-10", "--to", "2027-01-24",
       "--note", "去女兒家")
    ok("forecast")
    shown = json.loads(ok("customer", "show", "1", "--json").output)
    assert shown["time_windows"] == "mon-fri 17:00-21:00"
    assert shown["household_history"][0]["size"] == 3
    [tank] = shown["tanks"]
    assert (tank["litres"], tank["capacity"], tank["unit"]) == (75.4, 60.3, "kg")
    assert tank["readings"][0]["level"] == 20.1 and tank["readings"][0]["depth_cm"] == 20
    assert tank["forecast"]["order_by"] is not None
    assert shown["holds"] == [{"kind": "away", "from": "2027-01-10", "to": "2027-01-24",
                               "note": "去女兒家"}]
    text = ok("customer", "show", "1").output
    assert "hold: away 2027-01-10 to 2027-01-24 (去女兒家)" in text
    assert re.search(r"forecast as of \S+: 20\.1 kg left", text)


def test_an_unknown_customer_is_a_clear_error(database):
    result = run("customer", "show", "99")
    assert result.exit_code == 2
    assert "there is no customer 99" in result.output


def test_a_household_change_keeps_the_old_household_in_history(database):
    ok(*WANG)
    ok("customer", "edit", "1", "--children", "1", "--effective", "2027-01-01")
    history = json.loads(ok("customer", "show", "1", "--json").output)["household_history"]
    assert [(h["effective_date"], h["adults"], h["children"], h["elders"]) for h in history][1:] \
        == [("2027-01-01", 2, 1, 1)]
    assert (history[0]["adults"], history[0]["children"], history[0]["elders"]) == (2, 0, 1)
    assert count(database, HouseholdChange) == 2


def test_household_and_tank_changes_and_holds_make_the_forecast_refold(database):
    ok(*WANG)

    def stale():
        ok("forecast")
        assert json.loads(ok("customer", "show", "1", "--json").output)[
            "tanks"][0]["forecast"]["stale"] is False
        return lambda: json.loads(ok("customer", "show", "1", "--json").output)[
            "tanks"][0]["forecast"]["stale"]

    is_stale = stale()
    ok("customer", "edit", "1", "--adults", "3")
    assert is_stale() is True
    is_stale = stale()
    ok("customer", "edit", "1", "--height-cm", "70")
    assert is_stale() is True
    is_stale = stale()
    ok("customer", "hold", "1", "--kind", "no-delivery", "--from", "2027-02-16",
       "--to", "2027-02-20")
    assert is_stale() is True
    is_stale = stale()
    ok("customer", "edit", "1", "--notes", "電鈴壞了,請敲門")
    assert is_stale() is False


def test_contact_fields_mode_courier_and_product_are_changed_in_place(database):
    ok(*WANG)
    add_courier(database, "小明", "0911 222 302")
    ok("customer", "edit", "1", "--phone", "0912 000 111", "--mode", "will-call",
       "--courier", "小明", "--product", "cooking_oil", "--time-windows", "sat 09:00-12:00")
    shown = json.loads(ok("customer", "show", "1", "--json").output)
    assert (shown["phone"], shown["mode"], shown["courier"], shown["product"]) == (
        "+886912000111", "will-call", "小明", "cooking_oil")
    assert shown["time_windows"] == "sat 09:00-12:00"
    assert json.loads(ok("customer", "list", "--json").output)[0]["product"] == "cooking_oil"
    ok("customer", "edit", "1", "--courier", "none")
    assert json.loads(ok("customer", "show", "1", "--json").output)["courier"] is None


def test_a_bad_edit_names_every_option_and_changes_nothing(database):
    ok(*WANG)
    result = run("customer", "edit", "1", "--phone", "12", "--adults", "0", "--elders", "0",
                 "--time-windows", "after 5 pm", "--shape", "box", "--width-cm", "30")
    assert result.exit_code == 2
    fields = [line.split(":")[1].strip() for line in result.output.splitlines()]
    assert fields == ["--phone", "--time-windows", "--adults", "--depth-cm", "--height-cm"]
    shown = json.loads(ok("customer", "show", "1", "--json").output)
    assert shown["phone"] == "+886912345678" and len(shown["household_history"]) == 1


def test_a_new_tank_shape_replaces_the_old_measurements(database):
    ok(*WANG)
    ok("customer", "edit", "1", "--shape", "box", "--width-cm", "30", "--depth-cm", "40",
       "--height-cm", "50")
    [tank] = json.loads(ok("customer", "show", "1", "--json").output)["tanks"]
    assert (tank["shape"], tank["litres"], tank["capacity"]) == ("box", 60.0, 48.0)
    assert "diameter_cm" not in tank


def test_a_customer_with_two_tanks_is_asked_which_one(database):
    ok(*WANG)

    def second_tank(session):
        first = session.exec(select(Tank)).one()
        session.add(Tank(shop_id=first.shop_id, customer_id=first.customer_id,
                         product_id=first.product_id, shape=first.shape, diameter_cm=30,
                         height_cm=40))

    in_database(database, second_tank)
    result = run("customer", "edit", "1", "--height-cm", "70")
    assert result.exit_code == 2 and "pick one with --tank" in result.output
    ok("customer", "edit", "1", "--tank", "2", "--height-cm", "70")
    heights = [t["height_cm"] for t in
               json.loads(ok("customer", "show", "1", "--json").output)["tanks"]]
    assert heights == [60, 70]


def test_a_hold_that_ends_before_it_starts_is_refused(database):
    ok(*WANG)
    result = run("customer", "hold", "1", "--kind", "away", "--from", "2027-01-24",
                 "--to", "2027-01-10")
    assert result.exit_code == 2
    assert "--to 2027-01-10 is before --from 2027-01-24" in result.output


def test_nothing_to_change_is_said_plainly(database):
    ok(*WANG)
    result = run("customer", "edit", "1")
    assert result.exit_code == 2 and "nothing to change" in result.output


# --- import -------------------------------------------------------------------------------


def test_the_sample_file_in_the_docs_imports(any_database):
    sample = (DATA / "customers.csv").read_text(encoding="utf-8")
    assert f"```csv\n{sample}```" in DOCS.read_text(encoding="utf-8")
    result = ok("customer", "import", DATA / "customers.csv")
    assert "imported 2 customers" in result.output
    rows = json.loads(ok("customer", "list", "--json").output)
    assert [(r["name"], r["phone"], r["product"], r["mode"]) for r in rows] == [
        ("王太太", "+886912345678", "rice", "confirm"),
        ("Dave Miller", "+15125550134", "water", "auto"),
    ]
    dave = json.loads(ok("customer", "show", "2", "--json").output)
    assert dave["address"] == "1100 Congress Ave, Apt 4B, Austin, TX 78701"
    assert dave["tanks"][0]["readings"][0]["level"] == 2


def test_a_file_saved_with_a_bom_is_imported(database, tmp_path):
    text = "\ufeff" + (DATA / "customers.csv").read_text(encoding="utf-8")
    ok("customer", "import", write_csv(tmp_path, text))
    assert count(database, Customer) == 2


def test_an_import_with_one_bad_row_writes_nothing(any_database, tmp_path):
    text = (DATA / "customers.csv").read_text(encoding="utf-8")
    text += "陳先生,12,台南市,zh-TW,rice,confirm,,,1,0,0,1,cylinder,40,60,,,,\n"
    result = run("customer", "import", write_csv(tmp_path, text))
    assert result.exit_code == 2
    assert "line 4: phone: '12' is not a valid phone number for region TW" in result.output
    assert "nothing was imported" in result.output
    for model in (Customer, Tank, HouseholdChange, Reading):
        assert count(any_database, model) == 0


def test_every_bad_row_is_reported_with_its_line_and_field(database, tmp_path):
    ok(*WANG)
    text = "\n".join([
        "name,phone,adults,shape,diameter_cm,height_cm,fill_cm,product",
        "陳先生,0922 111 222,2,cylinder,45,60,30,rice",
        "壞,12,0,cylinder,-40,60,,rice",
        "林阿嬤,0933 111 222,1,cylinder,35,50,70,beans",
        "王媽媽,0912-345-678,1,cylinder,40,60,,rice",
        "陳先生 again,0922111222,2,cylinder,45,60,,rice",
    ]) + "\n"
    result = run("customer", "import", write_csv(tmp_path, text))
    assert result.exit_code == 2
    reported = [line for line in result.output.splitlines() if line.startswith("line ")]
    assert [":".join(line.split(":")[:2]) for line in reported] == [
        "line 3: phone", "line 3: adults", "line 3: diameter_cm",
        "line 4: product", "line 4: fill_cm",
        "line 5: phone",
        "line 6: phone",
    ]
    assert "line 5: phone: +886912345678 is already registered to customer #1 (王太太)" in \
        result.output
    assert "line 6: phone: +886922111222 is also on line 2 (陳先生)" in result.output
    assert "error: 7 problem(s) in 4 row(s)" in result.output
    assert count(database, Customer) == 1


def test_a_dry_run_checks_every_row_but_writes_nothing(database):
    result = ok("customer", "import", DATA / "customers.csv", "--dry-run")
    assert "all 2 rows" in result.output and "nothing was written" in result.output
    assert count(database, Customer) == 0


def test_a_file_that_is_not_utf8_says_how_to_save_it(database, tmp_path):
    text = (DATA / "customers.csv").read_text(encoding="utf-8")
    result = run("customer", "import", write_csv(tmp_path, text, encoding="big5"))
    assert result.exit_code == 2
    assert "is not UTF-8 text" in result.output and "CSV UTF-8" in result.output


def test_a_file_with_an_unknown_column_is_refused_on_line_1(database, tmp_path):
    result = run("customer", "import", write_csv(tmp_path, "name,mobile,shape\nA,0912,box\n"))
    assert result.exit_code == 2
    assert "line 1: mobile: is not a known column; did you mean phone?" in result.output
    assert "line 1: phone: the file has no phone column" in result.output


def test_a_file_with_only_a_header_is_refused(database, tmp_path):
    result = run("customer", "import", write_csv(tmp_path, "name,phone,shape\n"))
    assert result.exit_code == 2 and "no customer rows" in result.output
