"""The Customers pages: the list (search, filters, sort), add with a tank, edit with the
household's history, holds, and CSV import with a preview; all within the user's shop."""

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from replenish.core.types import DeliveryMode, HoldKind, Locale
from replenish.db.models import (
    Courier,
    Customer,
    Hold,
    HouseholdChange,
    ShopCreate,
    Tank,
    TankForecast,
    User,
)
from replenish.db.queries import create_shop
from replenish.demo import seed_demo
from replenish.web.app import create_app
from tests.jobs.conftest import database  # noqa: F401  (a fresh database per test)
from tests.web.conftest import add_user, sign_in

SEEDED = datetime(2026, 11, 24, 1, tzinfo=UTC)


@pytest.fixture
def shops(database, settings):  # noqa: F811
    """Wang's Rice (signed in, 6 households) and Dave's Water (3 households)."""
    cfg = settings.model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        ids = []
        for name, households in (("Wang's Rice", 6), ("Dave's Water", 3)):
            shop = create_shop(session=session, products=cfg.products,
                               shop_in=ShopCreate.from_params(cfg.shop, name=name))
            seed_demo(session=session, shop=shop, settings=cfg, households=households,
                      now=SEEDED, seed=households)
            ids.append(shop.id)
        session.commit()
    user = add_user(database.engine, ids[0])
    app = create_app(cfg, engine=database.engine)
    with TestClient(app) as client:
        csrf = sign_in(client, *user)
        yield client, csrf, ids, database


def customers_of(db, shop_id):
    with Session(db.engine) as session:
        return session.exec(select(Customer).where(Customer.shop_id == shop_id)
                            .order_by(col(Customer.id))).all()


def count(db, model, **where):
    with Session(db.engine) as session:
        statement = select(func.count()).select_from(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return session.exec(statement).one()


NEW = {"name": "陳先生", "phone": "0912 000 555", "address": "台南市東區長榮路二段5號",
       "lat": "", "lon": "", "language": "", "mode": "confirm", "courier": "",
       "time_windows": "mon-fri 17:00-21:00", "notes": "", "adults": "2", "children": "1",
       "elders": "0", "eats_at_home": "1", "product": "rice", "shape": "cylinder",
       "diameter_cm": "40", "width_cm": "", "depth_cm": "", "height_cm": "60",
       "capacity": "", "fill_cm": "20", "level": ""}


def test_the_list_shows_only_your_shops_customers_each_linked_to_its_page(shops):
    client, _, (wang, dave), db = shops
    page = client.get("/customers")
    assert page.status_code == 200
    for c in customers_of(db, wang):
        assert f'href="/customers/{c.id}"' in page.text
    for c in customers_of(db, dave):
        assert f'href="/customers/{c.id}"' not in page.text
    assert "6 customers" in page.text


def test_the_list_is_sorted_by_order_by_date_or_by_name(shops):
    client, _, (wang, _), db = shops
    with Session(db.engine) as session:
        order_by = {c.id: f.order_by for f, c in session.exec(
            select(TankForecast, Customer).join(Customer, col(Customer.id) == col(
                TankForecast.customer_id)).where(TankForecast.shop_id == wang))}
    customers = customers_of(db, wang)

    def shown(text):
        return sorted((c for c in customers), key=lambda c: text.index(f'href="/customers/{c.id}"'))

    by_date = shown(client.get("/customers").text)
    dates = [order_by.get(c.id) or date.max for c in by_date]
    assert dates == sorted(dates)
    by_name = shown(client.get("/customers?sort=name").text)
    assert [c.name.casefold() for c in by_name] == sorted(c.name.casefold() for c in customers)


def test_search_and_filters_narrow_the_list(shops):
    client, _, (wang, _), db = shops
    customers = customers_of(db, wang)
    first = customers[0]
    found = client.get("/customers", params={"q": first.phone[-6:]}).text
    assert f'href="/customers/{first.id}"' in found
    assert all(f'href="/customers/{c.id}"' not in found for c in customers
               if first.phone[-6:] not in c.phone)
    by_name = client.get("/customers", params={"q": first.name}).text
    assert f'href="/customers/{first.id}"' in by_name

    with Session(db.engine) as session:
        courier_id = session.exec(select(Courier.id).where(Courier.shop_id == wang)).first()
        auto = session.get(Customer, first.id)
        auto.delivery_mode = DeliveryMode.AUTO
        session.add(auto)
        session.commit()
    modes = client.get("/customers", params={"mode": "auto"}).text
    assert f'href="/customers/{first.id}"' in modes
    assert all(f'href="/customers/{c.id}"' not in modes for c in customers[1:]
               if c.delivery_mode is not DeliveryMode.AUTO)
    couriers = client.get("/customers", params={"courier": courier_id}).text
    for c in customers:
        assert (f'href="/customers/{c.id}"' in couriers) == (c.courier_id == courier_id)
    water = client.get("/customers", params={"product": "water"}).text
    assert "No customers match." in water  # the demo rice shop has no water customers
    rice = client.get("/customers", params={"product": "rice"}).text
    assert all(f'href="/customers/{c.id}"' in rice for c in customers)


def test_adding_a_customer_with_a_tank_writes_it_and_its_forecast(shops):
    client, csrf, (wang, _), db = shops
    form = client.get("/customers/new").text
    assert 'data-units-per-litre="0.8"' in form and 'id="calc"' in form
    added = client.post("/customers/new", data=NEW | {"csrf": csrf}, follow_redirects=False)
    assert added.status_code == 303, added.text
    with Session(db.engine) as session:
        customer = session.exec(select(Customer).where(Customer.phone == "+886912000555")).one()
        assert added.headers["location"] == f"/customers/{customer.id}"
        assert customer.shop_id == wang and customer.time_windows
        tank = session.exec(select(Tank).where(Tank.customer_id == customer.id)).one()
        forecast = session.get(TankForecast, tank.id)
        assert forecast is not None and forecast.order_by is not None
        assert forecast.level_now == pytest.approx(75.398 * 0.8 / 3, rel=0.05)
        household = session.exec(select(HouseholdChange).where(
            HouseholdChange.customer_id == customer.id)).one()
        assert (household.adults, household.children) == (2, 1)
    listed = client.get("/customers", params={"q": "陳先生"}).text
    assert f'href="/customers/{customer.id}"' in listed


def test_a_bad_phone_shows_the_error_by_the_field_keeps_the_typing_and_writes_nothing(shops):
    client, csrf, (wang, _), db = shops
    before = count(db, Customer), count(db, Tank), count(db, HouseholdChange)
    bad = client.post("/customers/new", data=NEW | {"csrf": csrf, "phone": "12345",
                                                   "height_cm": "0"})
    assert bad.status_code == 400
    assert "is not a valid phone number for region TW" in bad.text
    assert "must be more than 0" in bad.text  # every problem at once
    assert 'value="陳先生"' in bad.text and 'value="12345"' in bad.text
    assert (count(db, Customer), count(db, Tank),
            count(db, HouseholdChange)) == before


def test_editing_the_household_adds_a_dated_row_and_keeps_the_history(shops):
    client, csrf, (wang, _), db = shops
    customer = customers_of(db, wang)[0]
    page = client.get(f"/customers/{customer.id}/edit")
    assert page.status_code == 200 and f'value="{customer.name}"' in page.text
    before = count(db, HouseholdChange, customer_id=customer.id)
    form = {"csrf": csrf, "name": customer.name + " 家", "phone": customer.phone,
            "address": customer.address, "lat": "", "lon": "", "language": "zh-TW",
            "mode": "will-call", "courier": "", "time_windows": "", "notes": "new baby",
            "adults": "2", "children": "3", "elders": "1", "eats_at_home": "1",
            "effective": "2026-12-01"}
    saved = client.post(f"/customers/{customer.id}/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    with Session(db.engine) as session:
        edited = session.get(Customer, customer.id)
        assert edited.name == customer.name + " 家"
        assert edited.delivery_mode is DeliveryMode.WILL_CALL
        assert edited.courier_id is None and edited.notes == "new baby"
        rows = session.exec(select(HouseholdChange).where(
            HouseholdChange.customer_id == customer.id)
            .order_by(col(HouseholdChange.effective_date))).all()
    assert len(rows) == before + 1
    assert (rows[-1].effective_date, rows[-1].children) == (date(2026, 12, 1), 3)
    history = client.get(saved.headers["location"]).text
    assert history.count('class="household"') == before + 1 and "Saved." in history

    unchanged = client.post(f"/customers/{customer.id}/edit", data=form | {
        "effective": "2026-12-01"}, follow_redirects=False)
    assert unchanged.status_code == 303
    assert count(db, HouseholdChange, customer_id=customer.id) == before + 1


def test_a_bad_edit_shows_every_problem_and_changes_nothing(shops):
    client, csrf, (wang, _), db = shops
    customer, other = customers_of(db, wang)[:2]
    form = {"csrf": csrf, "name": "", "phone": other.phone, "address": "", "lat": "91",
            "lon": "", "language": "zh-TW", "mode": "confirm", "courier": "",
            "time_windows": "whenever", "notes": "", "adults": "0", "children": "0",
            "elders": "0", "eats_at_home": "1", "effective": "soon"}
    bad = client.post(f"/customers/{customer.id}/edit", data=form)
    assert bad.status_code == 400
    for message in ("already registered to customer", "must be at most 90",
                    "is not understood", "is not a date"):
        assert message in bad.text
    with Session(db.engine) as session:
        assert session.get(Customer, customer.id).name == customer.name


def test_a_hold_is_added_and_a_backwards_one_is_refused(shops):
    client, csrf, (wang, _), db = shops
    customer = customers_of(db, wang)[0]
    added = client.post(f"/customers/{customer.id}/holds", data={
        "csrf": csrf, "kind": "away", "start": "2027-01-10", "end": "2027-01-24",
        "note": "at her daughter's"}, follow_redirects=False)
    assert added.status_code == 303
    with Session(db.engine) as session:
        hold = session.exec(select(Hold).where(Hold.customer_id == customer.id)).one()
        assert (hold.kind, hold.start_date, hold.end_date) == (
            HoldKind.AWAY, date(2027, 1, 10), date(2027, 1, 24))
    assert "at her daughter&#39;s" in client.get(f"/customers/{customer.id}/edit").text
    backwards = client.post(f"/customers/{customer.id}/holds", data={
        "csrf": csrf, "kind": "no-delivery", "start": "2027-02-20", "end": "2027-02-16",
        "note": ""})
    assert backwards.status_code == 400 and "before it starts" in backwards.text
    assert count(db, Hold, customer_id=customer.id) == 1


GOOD_CSV = ("name,phone,address,adults,shape,diameter_cm,height_cm,fill_cm\n"
            "林太太,0912 111 001,台南市北區1號,2,cylinder,40,60,30\n"
            "Dave Miller,0912 111 002,台南市北區2號,1,cylinder,35,50,\n")
BAD_CSV = ("name,phone,address,adults,shape,diameter_cm,height_cm,fill_cm\n"
           "林太太,0912 111 001,台南市北區1號,2,cylinder,40,60,30\n"
           "Dave Miller,12,台南市北區2號,1,cylinder,35,50,\n"
           "王先生,0912 111 003,,0,triangle,,,\n")


def test_the_csv_preview_lists_every_bad_row_and_writes_nothing(shops):
    client, csrf, (wang, _), db = shops
    assert client.get("/customers/import").status_code == 200
    before = count(db, Customer, shop_id=wang)
    preview = client.post("/customers/import", data={"csrf": csrf, "csv": BAD_CSV,
                                                     "action": "check"})
    assert preview.status_code == 400
    assert "nothing was imported" in preview.text
    assert preview.text.count('class="problem"') >= 3
    assert "<td class=\"num\">3</td><td><code>phone</code></td>" in preview.text
    assert "<td class=\"num\">4</td><td><code>shape</code></td>" in preview.text
    assert 'value="import"' not in preview.text  # no Import button until the file is right
    assert count(db, Customer, shop_id=wang) == before
    assert "林太太" in preview.text  # the pasted text is kept to fix


def test_a_good_csv_is_checked_first_then_imported_whole(shops):
    client, csrf, (wang, _), db = shops
    before = count(db, Customer, shop_id=wang)
    checked = client.post("/customers/import", data={"csrf": csrf, "csv": GOOD_CSV,
                                                     "action": "check"})
    assert checked.status_code == 200 and 'value="import"' in checked.text
    assert "All 2 rows can be imported" in checked.text
    assert count(db, Customer, shop_id=wang) == before
    imported = client.post("/customers/import", data={"csrf": csrf, "csv": GOOD_CSV,
                                                      "action": "import"})
    assert imported.status_code == 200 and "Imported 2 customers." in imported.text
    assert count(db, Customer, shop_id=wang) == before + 2
    with Session(db.engine) as session:
        lin = session.exec(select(Customer).where(Customer.phone == "+886912111001")).one()
        tank = session.exec(select(Tank).where(Tank.customer_id == lin.id)).one()
        assert session.get(TankForecast, tank.id) is not None
    again = client.post("/customers/import", data={"csrf": csrf, "csv": GOOD_CSV,
                                                   "action": "import"})
    assert again.status_code == 400 and "already registered" in again.text
    assert count(db, Customer, shop_id=wang) == before + 2


def test_another_shops_customer_is_not_found(shops):
    client, csrf, (_, dave), db = shops
    theirs = customers_of(db, dave)[0]
    assert client.get(f"/customers/{theirs.id}/edit").status_code == 404
    edit = client.post(f"/customers/{theirs.id}/edit", data={
        "csrf": csrf, "name": "mine now", "phone": theirs.phone, "effective": "2026-12-01"})
    assert edit.status_code == 404
    hold = client.post(f"/customers/{theirs.id}/holds", data={
        "csrf": csrf, "kind": "away", "start": "2027-01-10", "end": "2027-01-24"})
    assert hold.status_code == 404
    with Session(db.engine) as session:
        assert session.get(Customer, theirs.id).name == theirs.name
    assert count(db, Hold, customer_id=theirs.id) == 0


def test_a_form_without_the_csrf_token_is_refused(shops):
    client, _, (wang, _), db = shops
    customer = customers_of(db, wang)[0]
    before = count(db, Customer)
    for path, data in (("/customers/new", NEW),
                       (f"/customers/{customer.id}/edit", {"name": "x"}),
                       (f"/customers/{customer.id}/holds", {"kind": "away"}),
                       ("/customers/import", {"csv": GOOD_CSV, "action": "import"})):
        refused = client.post(path, data=data | {"csrf": "forged"})
        assert refused.status_code == 403, path
        assert client.post(path, data=data).status_code == 403, path
    assert count(db, Customer) == before


def test_the_pages_need_a_signed_in_user(shops):
    client, csrf, _, _ = shops
    client.post("/logout", data={"csrf": csrf})
    page = client.get("/customers/new", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_the_pages_speak_the_users_language(shops):
    client, _, (wang, _), db = shops
    with Session(db.engine) as session:
        user = session.exec(select(User).where(User.shop_id == wang)).one()
        user.locale = Locale.ZH_TW
        session.add(user)
        session.commit()
    assert "新增客戶" in client.get("/customers").text
    assert "圓桶" in client.get("/customers/new").text
    assert "匯入客戶" in client.get("/customers/import").text
