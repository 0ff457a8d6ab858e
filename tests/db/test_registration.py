from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, func, insert
from sqlmodel import select

from replenish.core.types import DeliveryMode, Locale, ReadingSource, TankShape
from replenish.db.models import (
    CourierCreate,
    Customer,
    HouseholdChange,
    Reading,
    Tank,
)
from replenish.db.queries import create_courier, get_product
from replenish.db.queries.registration import (
    COLUMNS,
    CsvRow,
    CustomerImportError,
    CustomerRegistration,
    RegistrationError,
    format_time_windows,
    import_customers,
    parse_time_windows,
    read_customers_csv,
    register_customer,
)

# 17:00 UTC is already the next morning in Tainan.
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)

WANG = {
    "name": "王太太", "phone": "0912 345 678", "address": "台南市東區長榮路一段100號",
    "adults": 2, "elders": 1, "shape": "cylinder", "diameter_cm": 40, "height_cm": 60,
    "fill_cm": 20,
}


def register(session, shop, settings, **fields):
    return register_customer(session=session, shop=shop, registration=WANG | fields,
                             now=NOW, settings=settings)


def problems_of(session, shop, settings, **fields):
    with pytest.raises(RegistrationError) as caught:
        register(session, shop, settings, **fields)
    return dict(caught.value.problems)


def count(session, model):
    return session.exec(select(func.count()).select_from(model)).one()


def test_a_household_is_registered_with_its_tank_and_first_reading(session, shop, settings):
    result = register(session, shop, settings)
    rice = get_product(session=session, shop_id=shop.id, key="rice")
    assert result.customer.phone == "+886912345678"
    assert result.customer.preferred_product_id == rice.id
    assert result.customer.language is Locale.ZH_TW
    assert (result.household.adults, result.household.elders) == (2, 1)
    assert result.tank.shape is TankShape.CYLINDER and result.tank.product_id == rice.id
    reading = result.reading
    assert reading.source is ReadingSource.OWNER and reading.at == NOW
    assert reading.depth_cm == 20
    assert reading.level == pytest.approx(20.106, abs=1e-3)  # a third of 60.3 kg


def test_the_first_household_takes_effect_on_the_shops_local_date(session, shop, settings):
    result = register(session, shop, settings)
    assert result.household.effective_date == date(2026, 11, 21)


def test_a_registration_model_can_be_passed_as_it_is(session, shop, settings):
    registration = CustomerRegistration(name="Lee", phone="+886 922 111 222", adults=1,
                                        shape=TankShape.CAPACITY, capacity=20, level=5,
                                        product="米", mode=DeliveryMode.AUTO)
    result = register_customer(session=session, shop=shop, registration=registration,
                               now=NOW, settings=settings)
    assert result.customer.delivery_mode is DeliveryMode.AUTO
    assert result.reading.level == 5 and result.reading.depth_cm is None


def test_without_a_measurement_no_reading_is_recorded(session, shop, settings):
    result = register(session, shop, settings, fill_cm=None)
    assert result.reading is None
    assert count(session, Reading) == 0


def test_a_naive_measured_at_is_shop_time(session, shop, settings):
    result = register(session, shop, settings, measured_at="2026-11-20T10:00")
    assert result.reading.at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_a_local_phone_number_is_stored_in_e164(session, shop, settings):
    assert register(session, shop, settings, phone="0912-345-678").customer.phone == (
        "+886912345678")


def test_a_bad_phone_names_the_field_and_says_how_to_write_it(session, shop, settings):
    problems = problems_of(session, shop, settings, phone="12")
    assert problems["phone"] == ("'12' is not a valid phone number for region TW; "
                                 "write it like 0912 345 678 or +886 912 345 678")


def test_every_problem_of_a_row_is_reported_at_once(session, shop, settings):
    problems = problems_of(session, shop, settings, phone="12", diameter_cm=-40, adults=0,
                           elders=0, product="beans", fill_cm=70, mode="sometimes")
    assert set(problems) == {"phone", "diameter_cm", "adults", "product", "fill_cm", "mode"}
    assert problems["diameter_cm"].startswith("-40 must be more than 0")
    assert "nobody" in problems["adults"]
    assert "rice, water, cooking_oil, propane" in problems["product"]
    assert "70 cm is deeper than the tank, which is 60 cm high" in problems["fill_cm"]
    assert count(session, Customer) == 0


def test_a_fill_deeper_than_the_tank_is_refused(session, shop, settings):
    problems = problems_of(session, shop, settings, fill_cm=61)
    assert list(problems) == ["fill_cm"]


def test_a_level_above_what_the_tank_holds_is_refused(session, shop, settings):
    problems = problems_of(session, shop, settings, fill_cm=None, level=61)
    assert problems["level"].startswith("61 kg is more than the tank holds (60.3 kg)")


def test_a_tank_entered_by_capacity_takes_a_level_but_not_a_depth(session, shop, settings):
    problems = problems_of(session, shop, settings, shape="capacity", diameter_cm=None,
                           height_cm=None, capacity=3)
    assert "give level" in problems["fill_cm"]


def test_a_tank_says_which_measurements_its_shape_needs(session, shop, settings):
    problems = problems_of(session, shop, settings, shape="box", fill_cm=None)
    assert set(problems) == {"diameter_cm", "width_cm", "depth_cm"}
    assert "a box tank needs width_cm" in problems["width_cm"]
    assert "not measured by diameter_cm" in problems["diameter_cm"]


def test_words_that_are_not_numbers_say_how_to_write_them(session, shop, settings):
    problems = problems_of(session, shop, settings, adults="two", height_cm="sixty")
    assert problems["adults"] == "'two' is not a whole number; write it like 2"
    assert problems["height_cm"].startswith("'sixty' is not a number; write it like 60")


def test_the_same_phone_as_an_existing_customer_names_that_customer(session, shop, settings):
    first = register(session, shop, settings)
    problems = problems_of(session, shop, settings, name="Wang again", phone="+886 912 345 678")
    assert f"customer #{first.customer.id} (王太太)" in problems["phone"]
    assert "the same household typed twice" in problems["phone"]
    assert count(session, Customer) == 1


def test_a_courier_is_found_by_name_or_id(session, shop, settings):
    hui = create_courier(session=session, shop=shop,
                         courier_in=CourierCreate(name="阿輝", phone="0911 222 301"))
    by_name = register(session, shop, settings, courier="阿輝")
    by_id = register(session, shop, settings, phone="0912 345 679", courier=str(hui.id))
    assert by_name.customer.courier_id == by_id.customer.courier_id == hui.id
    assert "阿輝" in problems_of(session, shop, settings, phone="0912 345 670",
                                courier="小明")["courier"]


def test_time_windows_are_read_from_text_and_written_back_the_same(session, shop, settings):
    text = "mon-fri 17:00-21:00; sat 9:00-12:00"
    result = register(session, shop, settings, time_windows=text)
    assert result.customer.time_windows == [
        {"days": "mon-fri", "start": "17:00", "end": "21:00"},
        {"days": "sat", "start": "09:00", "end": "12:00"},
    ]
    assert format_time_windows(result.customer.time_windows) == (
        "mon-fri 17:00-21:00; sat 09:00-12:00")
    assert parse_time_windows("17:00-21:00") == [
        {"days": "daily", "start": "17:00", "end": "21:00"}]


def test_a_time_window_that_is_not_understood_shows_an_example(session, shop, settings):
    problems = problems_of(session, shop, settings, time_windows="after 5 pm")
    assert "mon-fri 17:00-21:00; sat 09:00-12:00" in problems["time_windows"]


def test_lat_without_lon_is_refused(session, shop, settings):
    assert "give both or neither" in problems_of(session, shop, settings, lat=22.99)["lon"]


# --- import -------------------------------------------------------------------------------


HEADER = "name,phone,address,adults,children,shape,diameter_cm,height_cm,fill_cm,product"


def csv_rows(*lines):
    return read_customers_csv("\n".join((HEADER, *lines)) + "\n")


GOOD = [
    "陳先生,0922 111 222,台南市中西區民生路1號,2,1,cylinder,45,60,30,rice",
    "林阿嬤,0933 111 222,台南市東區,1,0,cylinder,35,50,,米",
    "Dave Miller,+1 512 555 0134,\"1100 Congress Ave, Apt 4B\",2,0,cylinder,30,50,,water",
]


def do_import(session, shop, settings, rows):
    return import_customers(session=session, shop=shop, rows=rows, now=NOW, settings=settings)


def test_an_import_registers_every_row(session, shop, settings):
    results = do_import(session, shop, settings, csv_rows(*GOOD))
    assert [r.customer.name for r in results] == ["陳先生", "林阿嬤", "Dave Miller"]
    assert results[2].customer.phone == "+15125550134"
    assert results[2].customer.address == "1100 Congress Ave, Apt 4B"
    assert count(session, Tank) == 3 and count(session, HouseholdChange) == 3
    assert count(session, Reading) == 1


def test_an_import_with_one_bad_row_writes_nothing(session, shop, settings):
    rows = csv_rows(*GOOD, "壞,12,,1,0,cylinder,40,60,,rice")
    with pytest.raises(CustomerImportError) as caught:
        do_import(session, shop, settings, rows)
    assert caught.value.problems == [(5, "phone", caught.value.problems[0][2])]
    for model in (Customer, Tank, HouseholdChange, Reading):
        assert count(session, model) == 0


def test_every_bad_row_is_reported_with_its_line_and_field(session, shop, settings):
    rows = csv_rows(
        GOOD[0],
        "壞,12,,two,0,cylinder,-40,60,,rice",
        GOOD[1],
        "空,0944 111 222,,0,0,cylinder,40,60,70,beans",
    )
    with pytest.raises(CustomerImportError) as caught:
        do_import(session, shop, settings, rows)
    assert [(line, field) for line, field, _ in caught.value.problems] == [
        (3, "phone"), (3, "adults"), (3, "diameter_cm"),
        (5, "product"), (5, "adults"), (5, "fill_cm"),
    ]
    assert "line 3: phone: '12' is not a valid phone number" in str(caught.value)


def test_a_phone_twice_in_one_file_is_the_same_household_typed_twice(session, shop, settings):
    rows = csv_rows(GOOD[0], GOOD[1], "陳先生 again,0922-111-222,,2,1,cylinder,45,60,,rice")
    with pytest.raises(CustomerImportError) as caught:
        do_import(session, shop, settings, rows)
    [(line, field, message)] = caught.value.problems
    assert (line, field) == (4, "phone")
    assert "also on line 2 (陳先生)" in message


def test_a_row_already_in_the_shop_is_reported(session, shop, settings):
    do_import(session, shop, settings, csv_rows(GOOD[0]))
    with pytest.raises(CustomerImportError) as caught:
        do_import(session, shop, settings, csv_rows(GOOD[1], GOOD[0]))
    [(line, field, message)] = caught.value.problems
    assert (line, field) == (3, "phone") and "already registered to customer" in message
    assert count(session, Customer) == 1


def test_an_import_the_database_refuses_late_leaves_nothing_behind(session, shop, settings):
    # The file checks out; then, while the first row is being written, another clerk
    # registers the third row's phone. The third row is refused and nothing stays.
    def another_clerk(flushing, context, instances):
        if any(isinstance(obj, Customer) and obj.name == "陳先生" for obj in flushing.new):
            flushing.execute(insert(Customer).values(
                shop_id=shop.id, name="Dave (typed by the clerk)", phone="+15125550134",
                language="en", delivery_mode="confirm", time_windows=[], address="",
                notes="", habits="", opted_out=False, created_at=NOW))

    event.listen(session, "before_flush", another_clerk)
    try:
        with pytest.raises(CustomerImportError) as caught:
            do_import(session, shop, settings, csv_rows(*GOOD))
    finally:
        event.remove(session, "before_flush", another_clerk)
    [(line, field, message)] = caught.value.problems
    assert (line, field) == (4, "phone")
    assert "already registered to customer" in message and "the clerk" in message
    for model in (Customer, Tank, HouseholdChange, Reading):
        assert count(session, model) == 0


def test_a_database_error_while_writing_names_the_row_and_rolls_everything_back(
    session, shop, settings
):
    # The clerk's row lands inside the very insert of the third row: the database refuses it.
    def another_clerk(flushing, context, instances):
        if any(isinstance(obj, Customer) and obj.name == "Dave Miller" for obj in flushing.new):
            flushing.execute(insert(Customer).values(
                shop_id=shop.id, name="Dave (typed by the clerk)", phone="+15125550134",
                language="en", delivery_mode="confirm", time_windows=[], address="",
                notes="", habits="", opted_out=False, created_at=NOW))

    event.listen(session, "before_flush", another_clerk)
    try:
        with pytest.raises(CustomerImportError) as caught:
            do_import(session, shop, settings, csv_rows(*GOOD))
    finally:
        event.remove(session, "before_flush", another_clerk)
    [(line, field, message)] = caught.value.problems
    assert (line, field) == (4, "row")
    assert message.startswith("the database refused it") and "nothing was imported" in message
    for model in (Customer, Tank, HouseholdChange, Reading):
        assert count(session, model) == 0


def test_plain_mappings_are_numbered_as_lines_under_a_header(session, shop, settings):
    with pytest.raises(CustomerImportError) as caught:
        do_import(session, shop, settings, [WANG, WANG | {"phone": "12"}])
    assert [p[:2] for p in caught.value.problems] == [(3, "phone")]


# --- reading the file ---------------------------------------------------------------------


def test_a_file_with_a_bom_semicolons_and_odd_headers_is_read():
    text = ("\ufeffName;Phone;Shape;Diameter-CM\r\n王太太;0912 345 678;Cylinder;40\r\n"
            "\r\n陳先生;\"09;22\";box;45\r\n")
    assert read_customers_csv(text) == [
        CsvRow(2, {"name": "王太太", "phone": "0912 345 678", "shape": "Cylinder",
                   "diameter_cm": "40"}),
        CsvRow(4, {"name": "陳先生", "phone": "09;22", "shape": "box", "diameter_cm": "45"}),
    ]


def test_a_row_after_a_multiline_address_keeps_its_own_line_number():
    rows = read_customers_csv('name,phone,shape,address\nA,1,box,"two\nlines"\nB,2,box,x\n')
    assert [row.line for row in rows] == [2, 4]


def test_unknown_and_missing_columns_are_reported_on_the_header_line():
    with pytest.raises(CustomerImportError) as caught:
        read_customers_csv("name,phone_number,diamter_cm\nA,1,2\n")
    problems = {field: message for _, field, message in caught.value.problems}
    assert {line for line, _, _ in caught.value.problems} == {1}
    assert "did you mean phone?" in problems["phone_number"]
    assert "did you mean diameter_cm?" in problems["diamter_cm"]
    assert set(problems) == {"phone_number", "diamter_cm", "phone", "shape"}


def test_a_row_with_more_cells_than_columns_is_reported():
    with pytest.raises(CustomerImportError) as caught:
        read_customers_csv("name,phone,shape\nA,1,box,台南市, 東區\n")
    assert caught.value.problems[0][:2] == (2, "row")


def test_the_columns_are_the_registration_fields():
    assert COLUMNS == (
        "name", "phone", "address", "lat", "lon", "language", "notes", "habits", "product",
        "mode", "courier", "time_windows", "adults", "children", "elders", "eats_at_home",
        "shape", "diameter_cm", "width_cm", "depth_cm", "height_cm", "capacity", "fill_cm",
        "level", "measured_at",
    )


def test_the_columns_are_the_model_fields_in_order():
    assert tuple(CustomerRegistration.model_fields) == COLUMNS


def test_a_household_that_never_eats_at_home_is_refused(session, shop, settings):
    problems = problems_of(session, shop, settings, eats_at_home="0%")
    assert problems["eats_at_home"].startswith("0 must be more than 0")
