"""``/``: the owner's morning, in one glance.

* drops booked for today and tomorrow (with the courier, once routes are built);
* customers at risk in the next 7 days, by the chance of running out before then
  (``replenish.core.urgency.runout_chance`` over the forecast's p10/p50/p90), with
  whether a drop is already booked;
* replies that wait for a person (texts not understood), and the call list (prompts
  still unanswered close to the order-by date), each with a "said yes on the phone:
  book it" button (``POST /calls/<proposal>/book``, ``book_by_phone``);
* texts that failed or wait for review, and timed jobs that failed in the last day;
* then every customer's forecast, soonest order-by date first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from replenish.conversation.inbound import book_by_phone
from replenish.core.types import DropStatus
from replenish.core.urgency import runout_chance
from replenish.db.models import (
    Courier,
    Customer,
    Drop,
    InboundMessage,
    JobRun,
    JobStatus,
    MessageStatus,
    OutboundMessage,
    Product,
    Proposal,
    Shop,
    Tank,
)
from replenish.db.queries.forecasts import list_forecasts
from replenish.db.queries.proposals import call_list
from replenish.settings import Settings
from replenish.web.auth import CurrentUser, check_csrf, owner_page, read_form
from replenish.web.pages import TEMPLATES

__all__ = ["RISK_DAYS", "router", "today_view"]

router = APIRouter(tags=["today"])
RISK_DAYS = 7
RISK_SHOWN = 0.05  # below a 5% chance of running out within the week: not at risk


@dataclass(frozen=True)
class AtRisk:
    customer: Customer
    product: Product
    chance: float
    runout: date
    booked: date | None


def today_view(session: Session, shop: Shop, now: datetime) -> dict[str, Any]:
    """Everything the morning page shows, for ``shop`` at ``now``."""
    tz = ZoneInfo(shop.timezone)
    today = now.astimezone(tz).date()
    tomorrow = today + timedelta(days=1)
    drops = session.exec(
        select(Drop, Customer, Product, Courier)
        .join(Tank, col(Tank.id) == col(Drop.tank_id))
        .join(Customer, col(Customer.id) == col(Tank.customer_id))
        .join(Product, col(Product.id) == col(Tank.product_id))
        .outerjoin(Courier, col(Courier.id) == col(Drop.courier_id))
        .where(Drop.shop_id == shop.id, col(Drop.delivered_on).in_([today, tomorrow]),
               col(Drop.status).in_([DropStatus.PLANNED, DropStatus.DELIVERED,
                                     DropStatus.NOT_HOME, DropStatus.REFUSED]))
        .order_by(col(Drop.delivered_on), col(Customer.name))).all()
    booked = {}
    for drop, customer, _, _ in drops:
        if drop.status is DropStatus.PLANNED:
            booked.setdefault(customer.id, drop.delivered_on)
    planned_later = session.exec(
        select(Tank.customer_id, Drop.delivered_on)
        .join(Tank, col(Tank.id) == col(Drop.tank_id))
        .where(Drop.shop_id == shop.id, Drop.status == DropStatus.PLANNED,
               col(Drop.delivered_on) >= today)).all()
    for customer_id, day in planned_later:
        booked.setdefault(customer_id, day)
    forecasts = list_forecasts(session=session, shop_id=shop.id or 0)
    horizon = today + timedelta(days=RISK_DAYS)
    at_risk = []
    for f, customer, _, product in forecasts:
        if f.runout_p10 is None or f.runout_p50 is None or f.runout_p90 is None:
            continue
        chance = runout_chance(horizon, p10=f.runout_p10, p50=f.runout_p50, p90=f.runout_p90)
        if chance >= RISK_SHOWN:
            at_risk.append(AtRisk(customer, product, chance, f.runout_p50,
                                  booked.get(customer.id)))
    at_risk.sort(key=lambda r: (-r.chance, r.runout))
    names = {c.id: c for c in session.exec(select(Customer).where(Customer.shop_id == shop.id))}
    waiting = [(m, names.get(m.customer_id)) for m in session.exec(
        select(InboundMessage).where(
            InboundMessage.shop_id == shop.id, col(InboundMessage.handled).is_(False),
            col(InboundMessage.processed_at).is_not(None))
        .order_by(col(InboundMessage.received_at).desc()).limit(20))]
    failed = [(m, names.get(m.customer_id)) for m in session.exec(
        select(OutboundMessage).where(
            OutboundMessage.shop_id == shop.id,
            col(OutboundMessage.status).in_([MessageStatus.FAILED, MessageStatus.REVIEW,
                                             MessageStatus.UNDELIVERED]),
            col(OutboundMessage.updated_at) >= now - timedelta(days=7))
        .order_by(col(OutboundMessage.updated_at).desc()).limit(20))]
    calls = [(p, names.get(p.customer_id)) for p in call_list(session=session,
                                                              shop_id=shop.id or 0)]
    jobs = session.exec(select(JobRun).where(
        JobRun.status == JobStatus.FAILED, col(JobRun.started_at) >= now - timedelta(days=1))
        .order_by(col(JobRun.started_at).desc()).limit(10)).all()
    return {"today": today, "tomorrow": tomorrow, "tz": tz, "drops": drops,
            "at_risk": at_risk, "waiting": waiting, "failed_texts": failed, "calls": calls,
            "failed_jobs": jobs, "rows": forecasts, "risk_days": RISK_DAYS}


def _view(engine: Engine, shop: Shop) -> dict[str, Any]:
    with Session(engine) as session:
        return today_view(session, shop, datetime.now(UTC))


@router.get("/", response_class=HTMLResponse)
async def today_page(request: Request, me: CurrentUser, booked: int | None = None
                     ) -> HTMLResponse:
    user, shop = me
    context = await run_in_threadpool(_view, request.app.state.engine, shop)
    context["booked"] = None
    if booked is not None:
        context["booked"] = await run_in_threadpool(_booked, request.app.state.engine, shop,
                                                    booked)
    return TEMPLATES.TemplateResponse(request, "today.html", context | owner_page(
        request, user, shop, "today"))


def _booked(engine: Engine, shop: Shop, proposal_id: int) -> tuple[str, date] | None:
    with Session(engine) as session:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None or proposal.shop_id != shop.id:
            return None
        customer = session.get(Customer, proposal.customer_id)
        return (customer.name if customer else "?"), proposal.drop_on


def _book(engine: Engine, settings: Settings, shop: Shop, proposal_id: int) -> int | None:
    """The owner phoned and they said yes: book it (see ``book_by_phone``)."""
    with Session(engine) as session:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None or proposal.shop_id != shop.id:
            raise HTTPException(404, "no such call on your list")
        drop_id = book_by_phone(session=session, proposal=proposal, now=datetime.now(UTC),
                                settings=settings)
        session.commit()
        return drop_id


@router.post("/calls/{proposal_id}/book", response_model=None)
async def book_call(request: Request, me: CurrentUser, proposal_id: int) -> Response:
    """The call list's "said yes on the phone" button."""
    user, shop = me
    form = await read_form(request)
    check_csrf(request, form)
    drop_id = await run_in_threadpool(_book, request.app.state.engine,
                                      request.app.state.settings, shop, proposal_id)
    if drop_id is None:
        raise HTTPException(409, "this proposal is no longer open: it was answered, "
                                 "cancelled or delivered meanwhile")
    return RedirectResponse(f"/?booked={proposal_id}#calls", status_code=303)
