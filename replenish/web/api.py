"""``/api/v1``: JSON for shops that connect a point-of-sale or their own tools.

Every endpoint takes the signed-in session or ``Authorization: Bearer <token>`` (a token
from ``replenish user token``; 401 without either) and sees only the user's shop: another
shop's customer is answered 404, as one that does not exist.

* ``GET /api/v1/customers`` (``q``: name, address or phone digits; ``limit``, ``offset``)
* ``GET /api/v1/customers/{id}``: the customer with their tanks and forecasts
* ``GET|POST /api/v1/customers/{id}/readings``: a level seen (``level`` in the product's
  unit, or ``depth_cm`` by the tape); the forecast learns from it at once
* ``GET|POST /api/v1/customers/{id}/drops``: a drop poured; send an ``idempotency_key``
  so that a retried request is recorded once (answered 200 with the first row, 201 new)
* ``GET /api/v1/forecasts``: every tank's latest forecast, soonest order-by date first
* ``GET /api/v1/routes?day=``: the day's routes (default today in the shop's zone)

Errors: a body that does not fit answers 422 with FastAPI's list naming each field; a
value the shop's rules refuse (a date in the future, more than the tank holds) answers
422 with ``{"detail": "<what is wrong>"}``; an idempotency key already used for another
tank answers 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from replenish.core.types import DropStatus, ReadingSource
from replenish.db.errors import DuplicateError, NotFoundError
from replenish.db.models import (
    Customer,
    CustomerPublic,
    Drop,
    DropPublic,
    Product,
    Reading,
    ReadingPublic,
    Shop,
    Tank,
    TankPublic,
)
from replenish.db.queries.customers import get_customer, list_customers
from replenish.db.queries.forecasts import list_forecasts
from replenish.db.queries.records import add_drop, add_reading, refuse_second_planned
from replenish.db.queries.tanks import find_drop_by_key
from replenish.settings import Settings
from replenish.web.auth import CurrentUser
from replenish.web.routes_page import parse_day, plan_view

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["api"])


def _session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(_session)]


# --- bodies ------------------------------------------------------------------------------


class ReadingIn(BaseModel):
    """A level seen in a tank: give exactly one of ``level`` or ``depth_cm``."""

    tank_id: int | None = Field(None, description="Default: the customer's first tank.")
    level: float | None = Field(None, ge=0, description="The amount, in the product's unit.")
    depth_cm: float | None = Field(None, ge=0, description="The tape measure, in cm.")
    at: datetime | None = Field(None, description="When it was seen (ISO 8601). "
                                "Default: now.")
    source: ReadingSource = ReadingSource.OWNER
    note: str = Field("", max_length=2000)


class DropIn(BaseModel):
    """A drop poured into a tank (as a point-of-sale records a sale)."""

    tank_id: int | None = Field(None, description="Default: the customer's first tank.")
    quantity: float = Field(gt=0, description="In the product's unit.")
    delivered_on: date | None = Field(None, description="Default: the day of ``at``, "
                                      "in the shop's zone.")
    at: datetime | None = Field(None, description="When it was poured. Default: now.")
    level_before: float | None = Field(None, ge=0)
    depth_before_cm: float | None = Field(None, ge=0)
    level_after: float | None = Field(None, ge=0)
    status: DropStatus = DropStatus.DELIVERED
    idempotency_key: str | None = Field(None, min_length=1, max_length=128, description=(
        "Send the same key when retrying: the drop is recorded once."))
    note: str = Field("", max_length=2000)


class ForecastOut(BaseModel):
    customer_id: int
    customer: str
    tank_id: int
    product: str
    unit: str
    level_now: float | None
    rate_per_day: float | None
    runout_p10: date | None
    runout_p50: date | None
    runout_p90: date | None
    order_by: date | None
    drop_size: float | None
    as_of: date | None


class CustomerDetail(CustomerPublic):
    tanks: list[TankPublic]
    forecasts: list[ForecastOut]


class StopOut(BaseModel):
    seq: int
    stop_id: int
    drop_id: int
    customer_id: int
    customer: str
    phone: str
    address: str
    lat: float | None
    lon: float | None
    arrive: str | None
    product: str
    quantity: float
    unit: str
    tank: str
    notes: str
    free: bool
    status: str


class RouteOut(BaseModel):
    route_id: int
    courier_id: int
    courier: str
    km: float
    load: float
    hours: float
    leaves: str | None
    returns: str | None
    stops: list[StopOut]


class RoutePlanOut(BaseModel):
    day: date
    built_at: str
    km: float
    hours: float
    planned: int
    load: float
    unplanned: list[dict[str, Any]]
    warnings: list[str]
    consolidation: dict[str, Any]
    solver_seconds: float
    routes: list[RouteOut]


# --- helpers -----------------------------------------------------------------------------


def _customer(session: Session, shop: Shop, customer_id: int) -> Customer:
    try:
        return get_customer(session=session, shop_id=shop.id or 0, customer_id=customer_id)
    except NotFoundError:
        raise HTTPException(404, f"no customer {customer_id} in your shop") from None


def _tank(session: Session, customer: Customer, tank_id: int | None) -> tuple[Tank, Product]:
    statement = select(Tank).where(Tank.customer_id == customer.id).order_by(col(Tank.id))
    if tank_id is not None:
        statement = statement.where(Tank.id == tank_id)
    tank = session.exec(statement).first()
    if tank is None:
        raise HTTPException(404, f"tank_id: no tank {tank_id} of customer {customer.id}"
                            if tank_id is not None else
                            f"customer {customer.id} has no tank yet")
    product = session.get(Product, tank.product_id)
    assert product is not None
    return tank, product


def _forecasts(session: Session, shop: Shop, customer_id: int | None = None
               ) -> list[ForecastOut]:
    return [ForecastOut(
        customer_id=c.id or 0, customer=c.name, tank_id=f.tank_id, product=p.key,
        unit=p.unit.value, level_now=f.level_now, rate_per_day=f.rate,
        runout_p10=f.runout_p10, runout_p50=f.runout_p50, runout_p90=f.runout_p90,
        order_by=f.order_by, drop_size=f.drop_size, as_of=f.as_of)
        for f, c, _, p in list_forecasts(session=session, shop_id=shop.id or 0,
                                         customer_id=customer_id)]


def _refused(error: ValueError) -> HTTPException:
    if isinstance(error, DuplicateError):
        return HTTPException(409, str(error))
    return HTTPException(422, str(error))


# --- endpoints ---------------------------------------------------------------------------


@router.get("/customers", response_model=list[CustomerPublic], operation_id="list_customers")
def customers(me: CurrentUser, session: SessionDep,
              q: Annotated[str | None, Query(description="Name, address or phone digits.")
                           ] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Annotated[int, Query(ge=0)] = 0) -> Any:
    """Your shop's customers, oldest first."""
    _, shop = me
    return list_customers(session=session, shop_id=shop.id or 0, search=q, limit=limit,
                          offset=offset)


@router.get("/customers/{customer_id}", response_model=CustomerDetail,
            operation_id="get_customer")
def customer(customer_id: int, me: CurrentUser, session: SessionDep) -> Any:
    """One customer with their tanks and the tanks' forecasts."""
    _, shop = me
    found = _customer(session, shop, customer_id)
    tanks = session.exec(select(Tank).where(Tank.customer_id == found.id)
                         .order_by(col(Tank.id))).all()
    return CustomerDetail.model_validate(found.model_dump() | {
        "tanks": [TankPublic.model_validate(t.model_dump()) for t in tanks],
        "forecasts": _forecasts(session, shop, customer_id)})


@router.get("/customers/{customer_id}/readings", response_model=list[ReadingPublic],
            operation_id="list_readings")
def readings(customer_id: int, me: CurrentUser, session: SessionDep) -> Any:
    """The levels seen in the customer's tanks, oldest first."""
    _, shop = me
    found = _customer(session, shop, customer_id)
    return session.exec(select(Reading).join(Tank, col(Tank.id) == col(Reading.tank_id))
                        .where(Tank.customer_id == found.id)
                        .order_by(col(Reading.at), col(Reading.id))).all()


@router.post("/customers/{customer_id}/readings", response_model=ReadingPublic,
             status_code=201, operation_id="add_reading")
def post_reading(customer_id: int, body: ReadingIn, me: CurrentUser, request: Request,
                 session: SessionDep) -> Any:
    """Record a level seen; the tank's forecast learns from it at once."""
    _, shop = me
    settings: Settings = request.app.state.settings
    found = _customer(session, shop, customer_id)
    tank, product = _tank(session, found, body.tank_id)
    now = datetime.now(UTC)
    try:
        reading = add_reading(session=session, tank=tank, product=product,
                              at=body.at or now, source=body.source, settings=settings,
                              level=body.level, depth_cm=body.depth_cm, note=body.note,
                              now=now)
    except ValueError as error:
        raise _refused(error) from None
    session.commit()
    session.refresh(reading)
    return reading


@router.get("/customers/{customer_id}/drops", response_model=list[DropPublic],
            operation_id="list_drops")
def drops(customer_id: int, me: CurrentUser, session: SessionDep) -> Any:
    """The customer's drops (planned and done), by day."""
    _, shop = me
    found = _customer(session, shop, customer_id)
    return session.exec(select(Drop).join(Tank, col(Tank.id) == col(Drop.tank_id))
                        .where(Tank.customer_id == found.id)
                        .order_by(col(Drop.delivered_on), col(Drop.id))).all()


@router.post("/customers/{customer_id}/drops", response_model=DropPublic, status_code=201,
             operation_id="add_drop",
             responses={200: {"description": "A retry: the drop recorded the first time."},
                        409: {"description": "The idempotency key was used for another "
                                             "tank."}})
def post_drop(customer_id: int, body: DropIn, me: CurrentUser, request: Request,
              response: Response, session: SessionDep) -> Any:
    """Record a drop; a retry with the same ``idempotency_key`` is recorded once."""
    _, shop = me
    settings: Settings = request.app.state.settings
    found = _customer(session, shop, customer_id)
    tank, product = _tank(session, found, body.tank_id)
    now = datetime.now(UTC)
    at = body.at or (now if body.status is DropStatus.DELIVERED else None)
    day = body.delivered_on or (at or now).astimezone(ZoneInfo(shop.timezone)).date()
    if body.idempotency_key is not None:
        earlier = find_drop_by_key(session=session, idempotency_key=body.idempotency_key)
        if earlier is not None:
            if earlier.tank_id != tank.id:
                raise HTTPException(409, f"idempotency_key: {body.idempotency_key!r} was "
                                    "already used for a drop into another tank")
            response.status_code = 200
            return earlier
    try:
        if body.status is DropStatus.PLANNED:
            refuse_second_planned(session=session, tank=tank,
                                  today=now.astimezone(ZoneInfo(shop.timezone)).date())
        drop = add_drop(session=session, tank=tank, product=product, delivered_on=day,
                        quantity=body.quantity, settings=settings, at=at,
                        level_before=body.level_before, depth_before_cm=body.depth_before_cm,
                        level_after=body.level_after, status=body.status,
                        idempotency_key=body.idempotency_key, note=body.note, now=now)
    except ValueError as error:
        raise _refused(error) from None
    session.commit()
    session.refresh(drop)
    return drop


@router.get("/forecasts", response_model=list[ForecastOut], operation_id="list_forecasts")
def forecasts(me: CurrentUser, session: SessionDep) -> Any:
    """Every tank's latest forecast in your shop, soonest order-by date first."""
    _, shop = me
    return _forecasts(session, shop)


@router.get("/routes", response_model=RoutePlanOut, operation_id="get_routes")
def routes(me: CurrentUser, request: Request, session: SessionDep,
           day: Annotated[str | None, Query(description="YYYY-MM-DD; default today.")
                          ] = None) -> Any:
    """The day's routes: each courier's stops in order, the totals, the stops left out."""
    _, shop = me
    wanted = parse_day(day, shop)
    plan = plan_view(session, shop=shop, day=wanted, settings=request.app.state.settings)
    if plan is None:
        raise HTTPException(404, f"no routes for {wanted} yet")
    return plan
