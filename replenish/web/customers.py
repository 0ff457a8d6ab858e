"""``/customers``: the shop's customers; add and edit one; holds; import a CSV file.

* ``/customers`` lists the signed-in user's shop only: search (name, address, phone
  digits), filter by mode, courier and product, sorted by order-by date (soonest first,
  customers without a forecast last) or by name. Each row links to ``/customers/{id}``.
* ``/customers/new`` registers a household with its first tank through
  ``register_customer`` (the same checks as ``replenish customer add``); the tank
  calculator on the form shows litres and capacity as the owner types (``core.tank``'s
  formulas, in a few lines of JavaScript). A bad field re-renders the form with the
  message beside it and what was typed; nothing is written unless everything is right.
* ``/customers/{id}/edit`` changes the contact fields (checked by the registration's
  model and the shop's values: phone, courier, time windows) and, when the household
  differs, records a new household row from the effective date (the old rows stay, and
  are listed). ``/customers/{id}/holds`` adds a hold.
* ``/customers/import`` (``replenish.web.customer_import``) takes a CSV file.

After a write the forecasts of the customers written are refreshed (``refresh_forecasts``
for their tanks only), so a new customer shows a level and an order-by date at once.
Another shop's customer is a 404, a form without the session's CSRF token a 403.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from replenish.core.types import DeliveryMode, HoldKind, Locale, TankShape
from replenish.db.errors import DuplicateError, NotFoundError
from replenish.db.models import (
    OPTIONAL_FIELDS,
    SHAPE_FIELDS,
    Courier,
    Customer,
    CustomerUpdate,
    HoldCreate,
    HouseholdChangeCreate,
    Product,
    Shop,
    Tank,
)
from replenish.db.queries import (
    add_hold,
    current_household,
    find_customer_by_phone,
    get_customer,
    household_history,
    list_customers,
    list_holds,
    record_household_change,
    update_customer,
)
from replenish.db.queries.forecasts import list_forecasts, mark_customer_stale
from replenish.db.queries.nightly import refresh_forecasts
from replenish.db.queries.registration import (
    MEASURES,
    CustomerRegistration,
    RegistrationError,
    find_courier,
    format_time_windows,
    parse_phone,
    register_customer,
)
from replenish.db.queries.registration_terms import validation_problems
from replenish.settings import Settings
from replenish.web.auth import CurrentUser, check_csrf, owner_page, read_form
from replenish.web.pages import TEMPLATES

__all__ = ["router", "tank_ids_of"]

router = APIRouter(tags=["customers"])

LIST_LIMIT = 500  # rows shown at once; search or filter for the rest

CONTACT_FIELDS = ("name", "phone", "address", "lat", "lon", "language", "mode", "courier",
                  "time_windows", "notes")
PEOPLE_FIELDS = ("adults", "children", "elders", "eats_at_home")
NEW_FIELDS = (*CONTACT_FIELDS, *PEOPLE_FIELDS, "product", "shape", *MEASURES, "fill_cm",
              "level")
EDIT_FIELDS = (*CONTACT_FIELDS, *PEOPLE_FIELDS, "effective")


def _now() -> datetime:
    return datetime.now(UTC)


def _today(shop: Shop) -> date:
    return _now().astimezone(ZoneInfo(shop.timezone)).date()


def _choices(session: Session, shop: Shop) -> tuple[Sequence[Product], Sequence[Courier]]:
    products = session.exec(select(Product).where(Product.shop_id == shop.id)
                            .order_by(col(Product.id))).all()
    couriers = session.exec(select(Courier).where(Courier.shop_id == shop.id)
                            .order_by(col(Courier.id))).all()
    return products, couriers


def _errors(problems: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Problems by field, for the message next to each field."""
    out: dict[str, list[str]] = {}
    for field, message in problems:
        out.setdefault(field, []).append(message)
    return out


def _int_or_none(text: str | None) -> int | None:
    text = (text or "").strip().removeprefix("#")
    return int(text) if text.isdigit() else None


# --- the list -----------------------------------------------------------------------------


def _listing(engine: Engine, shop: Shop, *, q: str, mode: str, courier: str, product: str,
             sort: str) -> dict[str, Any]:
    assert shop.id is not None
    with Session(engine) as session:
        products, couriers = _choices(session, shop)
        by_product = {p.id: p for p in products}
        courier_id = _int_or_none(courier)
        customers = list_customers(session=session, shop_id=shop.id, search=q or None,
                                   courier_id=courier_id, limit=None)
        wanted_mode = next((m for m in DeliveryMode if m.value == mode), None)
        wanted_product = next((p for p in products if p.key == product), None)
        tank_products: dict[int, set[int]] = {}
        for customer_id, product_id in session.exec(
                select(Tank.customer_id, Tank.product_id).where(Tank.shop_id == shop.id)):
            tank_products.setdefault(customer_id, set()).add(product_id)
        soonest: dict[int, Any] = {}
        for f, c, _, p in list_forecasts(session=session, shop_id=shop.id):
            soonest.setdefault(c.id or 0, (f, p))  # soonest order-by date first
        rows = []
        for c in customers:
            cid = c.id or 0
            if wanted_mode is not None and c.delivery_mode is not wanted_mode:
                continue
            if wanted_product is not None and wanted_product.id not in (
                    c.preferred_product_id, *tank_products.get(cid, ())):
                continue
            forecast, fproduct = soonest.get(cid, (None, None))
            rows.append({"customer": c, "forecast": forecast,
                         "product": fproduct or by_product.get(c.preferred_product_id),
                         "courier": next((k.name for k in couriers if k.id == c.courier_id),
                                         "")})
        if sort == "name":
            rows.sort(key=lambda r: (r["customer"].name.casefold(), r["customer"].id))
        else:
            far = date.max
            rows.sort(key=lambda r: (
                (r["forecast"].order_by if r["forecast"] is not None else None) or far,
                r["customer"].name.casefold()))
        return {"rows": rows[:LIST_LIMIT], "total": len(rows), "limit": LIST_LIMIT,
                "products": products, "couriers": couriers,
                "filters": {"q": q, "mode": mode, "courier": courier, "product": product,
                            "sort": "name" if sort == "name" else "order_by"}}


@router.get("/customers", response_class=HTMLResponse)
async def customers_page(request: Request, me: CurrentUser, q: str = "", mode: str = "",
                         courier: str = "", product: str = "",
                         sort: str = "order_by") -> HTMLResponse:
    user, shop = me
    context = await run_in_threadpool(_listing, request.app.state.engine, shop,
                                      q=q.strip(), mode=mode, courier=courier,
                                      product=product, sort=sort)
    return TEMPLATES.TemplateResponse(request, "customers.html", context | owner_page(
        request, user, shop, "customers") | {"today": _today(shop)})


# --- add ----------------------------------------------------------------------------------


def _form_context(session: Session, shop: Shop, *, values: Mapping[str, str],
                  problems: Sequence[tuple[str, str]], customer: Customer | None) -> dict[str, Any]:
    products, couriers = _choices(session, shop)
    context: dict[str, Any] = {
        "values": values, "errors": _errors(problems), "customer": customer,
        "products": products, "couriers": couriers, "modes": [m.value for m in DeliveryMode],
        "languages": [loc.value for loc in Locale], "shapes": [s.value for s in TankShape],
        "hold_kinds": [k.value for k in HoldKind], "history": [], "holds": [],
        "hold_values": {}, "hold_errors": {}, "tanks": [], "today": _today(shop),
    }
    if customer is not None and customer.id is not None:
        context["history"] = list(reversed(household_history(session=session,
                                                              customer_id=customer.id)))
        context["holds"] = list_holds(session=session, customer_id=customer.id)
        context["tanks"] = [(t, p) for t, p in session.exec(
            select(Tank, Product).join(Product, col(Product.id) == col(Tank.product_id))
            .where(Tank.customer_id == customer.id).order_by(col(Tank.id))).all()]
    return context


def _new_defaults(engine: Engine, shop: Shop) -> dict[str, Any]:
    with Session(engine) as session:
        products, _ = _choices(session, shop)
        values = {"mode": DeliveryMode.CONFIRM.value, "language": "", "adults": "1",
                  "children": "0", "elders": "0", "eats_at_home": "1",
                  "shape": TankShape.CYLINDER.value,
                  "product": products[0].key if products else ""}
        return _form_context(session, shop, values=values, problems=[], customer=None)


@router.get("/customers/new", response_class=HTMLResponse)
async def new_customer_page(request: Request, me: CurrentUser) -> HTMLResponse:
    user, shop = me
    context = await run_in_threadpool(_new_defaults, request.app.state.engine, shop)
    return TEMPLATES.TemplateResponse(request, "customer_form.html", context | owner_page(
        request, user, shop, "customers"))


def _registration(form: Mapping[str, str]) -> dict[str, str]:
    """The form as a registration: only the measurements the chosen shape takes (the
    page hides the others, but a value typed before switching shape may still come)."""
    values = {k: form.get(k, "").strip() for k in NEW_FIELDS}
    values["time_windows"] = form.get("time_windows", "").strip()
    shape = next((s for s in TankShape if s.value == values["shape"]), None)
    if shape is not None:
        keep = set(SHAPE_FIELDS[shape]) | set(OPTIONAL_FIELDS.get(shape, ()))
        keep |= {"level"} if shape is TankShape.CAPACITY else {"fill_cm"}
        for name in (*MEASURES, "fill_cm", "level"):
            if name not in keep:
                values[name] = ""
    return values


def _register(engine: Engine, settings: Settings, shop: Shop,
              values: dict[str, str]) -> tuple[int | None, dict[str, Any] | None]:
    """The new customer's id, or the form again with every problem (nothing written)."""
    now = _now()
    with Session(engine) as session:
        try:
            result = register_customer(session=session, shop=shop, registration=values,
                                       now=now, settings=settings)
        except RegistrationError as error:
            session.rollback()
            return None, _form_context(session, shop, values=values, problems=error.problems,
                                       customer=None)
        customer_id = result.customer.id
        refresh_forecasts(session=session, shop=shop, now=now, settings=settings,
                          tank_ids=tank_ids_of(session, [customer_id]))
        session.commit()
        return customer_id, None


@router.post("/customers/new", response_model=None)
async def new_customer(request: Request, me: CurrentUser) -> Response:
    user, shop = me
    form = await read_form(request)
    check_csrf(request, form)
    values = _registration(form)
    customer_id, context = await run_in_threadpool(
        _register, request.app.state.engine, request.app.state.settings, shop, values)
    if context is not None:
        return TEMPLATES.TemplateResponse(request, "customer_form.html", context | owner_page(
            request, user, shop, "customers"), status_code=400)
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)


# --- edit ---------------------------------------------------------------------------------


def _owned(session: Session, shop: Shop, customer_id: int) -> Customer:
    try:
        return get_customer(session=session, shop_id=shop.id or 0, customer_id=customer_id)
    except NotFoundError:
        raise HTTPException(404, "no such customer in your shop") from None


def _edit_values(session: Session, shop: Shop, customer: Customer) -> dict[str, str]:
    assert customer.id is not None
    household = (current_household(session=session, customer_id=customer.id,
                                   as_of=_today(shop))
                 or next(iter(household_history(session=session, customer_id=customer.id)),
                         None))
    values = {
        "name": customer.name, "phone": customer.phone, "address": customer.address,
        "lat": "" if customer.lat is None else f"{customer.lat:g}",
        "lon": "" if customer.lon is None else f"{customer.lon:g}",
        "language": customer.language.value, "mode": customer.delivery_mode.value,
        "courier": "" if customer.courier_id is None else str(customer.courier_id),
        "time_windows": format_time_windows(customer.time_windows), "notes": customer.notes,
        "effective": _today(shop).isoformat(),
    }
    if household is not None:
        values |= {"adults": str(household.adults), "children": str(household.children),
                   "elders": str(household.elders),
                   "eats_at_home": f"{household.eats_at_home:g}"}
    return values


def _edit_page(engine: Engine, shop: Shop, customer_id: int) -> dict[str, Any]:
    with Session(engine) as session:
        customer = _owned(session, shop, customer_id)
        return _form_context(session, shop, values=_edit_values(session, shop, customer),
                             problems=[], customer=customer)


@router.get("/customers/{customer_id}/edit", response_class=HTMLResponse)
async def edit_customer_page(request: Request, me: CurrentUser,
                             customer_id: int) -> HTMLResponse:
    user, shop = me
    context = await run_in_threadpool(_edit_page, request.app.state.engine, shop, customer_id)
    return TEMPLATES.TemplateResponse(request, "customer_form.html", context | owner_page(
        request, user, shop, "customers") | {"saved": request.query_params.get("saved") == "1"})


def _check_edit(session: Session, shop: Shop, customer: Customer, values: Mapping[str, str],
                couriers: Sequence[Courier]) -> tuple[
        list[tuple[str, str]], CustomerUpdate | None, HouseholdChangeCreate | None]:
    """Every problem of the edit, or the update and the household (None: unchanged).

    The fields are read by the registration's own model (``CustomerRegistration``: the
    same words for the same mistakes as at registration) and the shop's values."""
    problems: list[tuple[str, str]] = []
    fields = {k: values[k] for k in (*CONTACT_FIELDS, *PEOPLE_FIELDS) if k != "courier"}
    reg: CustomerRegistration | None = None
    try:  # the tank is not edited here: a placeholder shape stands in
        reg = CustomerRegistration.model_validate(fields | {"shape": "capacity"})
    except ValidationError as error:
        problems.extend(validation_problems(error))
    bad = {field for field, _ in problems}
    phone = None
    if "phone" not in bad:
        try:
            phone = parse_phone(values["phone"], region=shop.region)
        except RegistrationError as error:
            problems.extend(error.problems)
        else:
            other = find_customer_by_phone(session=session, shop=shop, phone=phone)
            if other is not None and other.id != customer.id:
                problems.append(("phone", f"{phone} is already registered to customer "
                                          f"#{other.id} ({other.name}): the same household "
                                          "typed twice?"))
    courier_id = None
    if values["courier"].strip():
        try:
            courier_id = find_courier(couriers, values["courier"]).id
        except RegistrationError as error:
            problems.extend(error.problems)
    if not bad & {"lat", "lon"} and (values["lat"].strip() == "") != (values["lon"].strip() == ""):
        missing, given = ("lon", "lat") if values["lon"].strip() == "" else ("lat", "lon")
        problems.append((missing, f"{given} is given without {missing}; give both or neither"))
    effective = None
    try:
        effective = date.fromisoformat(values["effective"].strip())
    except ValueError:
        problems.append(("effective", f"{values['effective']!r} is not a date; write it like "
                                      "2026-12-01"))
    if reg is not None and not bad & set(PEOPLE_FIELDS) and (
            reg.adults + reg.children + reg.elders < 1):
        problems.append(("adults", "the household has nobody in it: adults + children + "
                                   "elders is 0; write how many people live there"))
    if problems or reg is None or phone is None or effective is None:
        return problems, None, None
    update = CustomerUpdate(
        name=reg.name, phone=phone, address=reg.address, lat=reg.lat, lon=reg.lon,
        language=reg.language or customer.language, notes=reg.notes,
        delivery_mode=reg.mode, time_windows=reg.time_windows, courier_id=courier_id)
    assert customer.id is not None
    household: HouseholdChangeCreate | None = HouseholdChangeCreate(
        effective_date=effective, adults=reg.adults, children=reg.children,
        elders=reg.elders, eats_at_home=reg.eats_at_home)
    base = current_household(session=session, customer_id=customer.id, as_of=effective)
    if base is not None and all(getattr(base, k) == getattr(household, k)
                                for k in PEOPLE_FIELDS):
        household = None  # the same people: no new row
    return problems, update, household


def _save_edit(engine: Engine, settings: Settings, shop: Shop, customer_id: int,
               values: dict[str, str]) -> dict[str, Any] | None:
    """None when saved; else the form again with every problem (nothing written)."""
    with Session(engine) as session:
        customer = _owned(session, shop, customer_id)
        _, couriers = _choices(session, shop)
        problems, update, household = _check_edit(session, shop, customer, values, couriers)
        if not problems and update is not None:
            try:
                with session.begin_nested():
                    update_customer(session=session, shop=shop, customer=customer,
                                    customer_in=update)
                    if household is not None:
                        record_household_change(session=session, customer=customer,
                                                change_in=household)
            except DuplicateError as error:
                problems = [("phone", str(error).removeprefix("phone: "))]
            except ValidationError as error:
                problems = validation_problems(error)
            except ValueError as error:
                problems = [("row", str(error))]
        if problems:
            session.rollback()
            customer = _owned(session, shop, customer_id)
            return _form_context(session, shop, values=values, problems=problems,
                                 customer=customer)
        if household is not None:
            mark_customer_stale(session=session, customer_id=customer_id)
            refresh_forecasts(session=session, shop=shop, now=_now(), settings=settings,
                              tank_ids=tank_ids_of(session, [customer_id]))
        session.commit()
        return None


@router.post("/customers/{customer_id}/edit", response_model=None)
async def edit_customer(request: Request, me: CurrentUser, customer_id: int) -> Response:
    user, shop = me
    form = await read_form(request)
    check_csrf(request, form)
    values = {k: form.get(k, "") for k in EDIT_FIELDS}
    context = await run_in_threadpool(_save_edit, request.app.state.engine,
                                      request.app.state.settings, shop, customer_id, values)
    if context is not None:
        return TEMPLATES.TemplateResponse(request, "customer_form.html", context | owner_page(
            request, user, shop, "customers"), status_code=400)
    return RedirectResponse(f"/customers/{customer_id}/edit?saved=1", status_code=303)


# --- holds --------------------------------------------------------------------------------


def _hold(engine: Engine, settings: Settings, shop: Shop, customer_id: int,
          values: dict[str, str]) -> dict[str, Any] | None:
    """None when the hold was added; else the edit page with the hold's problems."""
    problems: list[tuple[str, str]] = []
    kind = next((k for k in HoldKind if k.value == values["kind"]), None)
    if kind is None:
        problems.append(("kind", f"{values['kind']!r} is not one of "
                                 f"{', '.join(k.value for k in HoldKind)}"))
    days: dict[str, date] = {}
    for field in ("start", "end"):
        try:
            days[field] = date.fromisoformat(values[field].strip())
        except ValueError:
            problems.append((field, f"{values[field]!r} is not a date; write it like "
                                    "2026-01-20"))
    with Session(engine) as session:
        customer = _owned(session, shop, customer_id)
        if not problems and kind is not None:
            try:
                hold_in = HoldCreate(kind=kind, start_date=days["start"], end_date=days["end"],
                                     note=values["note"].strip())
            except ValidationError as error:
                problems.append(("end", str(error.errors(include_url=False)[0]["msg"])
                                 .removeprefix("Value error, ")))
            else:
                add_hold(session=session, customer=customer, hold_in=hold_in)
                mark_customer_stale(session=session, customer_id=customer_id)
                refresh_forecasts(session=session, shop=shop, now=_now(), settings=settings,
                                  tank_ids=tank_ids_of(session, [customer_id]))
                session.commit()
                return None
        context = _form_context(session, shop, values=_edit_values(session, shop, customer),
                                problems=[], customer=customer)
        return context | {"hold_values": values, "hold_errors": _errors(problems)}


@router.post("/customers/{customer_id}/holds", response_model=None)
async def add_customer_hold(request: Request, me: CurrentUser, customer_id: int) -> Response:
    user, shop = me
    form = await read_form(request)
    check_csrf(request, form)
    values = {k: form.get(k, "") for k in ("kind", "start", "end", "note")}
    context = await run_in_threadpool(_hold, request.app.state.engine,
                                      request.app.state.settings, shop, customer_id, values)
    if context is not None:
        return TEMPLATES.TemplateResponse(request, "customer_form.html", context | owner_page(
            request, user, shop, "customers"), status_code=400)
    return RedirectResponse(f"/customers/{customer_id}/edit?saved=1#holds", status_code=303)


def tank_ids_of(session: Session, customer_ids: list[int | None]) -> list[int]:
    """The tanks of these customers (whose forecasts a write changed)."""
    ids = [i for i in customer_ids if i is not None]
    return [t for t in session.exec(select(Tank.id).where(col(Tank.customer_id).in_(ids)))
            if t is not None]
