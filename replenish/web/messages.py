"""``/messages``: the conversation inbox, and, with the console transport, a phone panel
to answer as the customer.

The left column lists the shop's customers with texts, the newest conversation first,
marking those with a text that waits for a person (not understood, so left unhandled).
The thread shows every text both ways in time order, with each outgoing text's state.
The phone panel posts a reply the way Twilio's webhook would deliver it: stored, then
applied by the same code (``handle_inbound``), so it can book a drop, record a level,
stop the texts or land in the inbox. With Twilio configured the panel is not shown: the
customer's own phone answers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from replenish.conversation.inbound import handle_inbound
from replenish.db.models import Customer, InboundMessage, OutboundMessage, Shop, User
from replenish.db.queries.inbound import record_inbound
from replenish.settings import Settings
from replenish.web.auth import CurrentUser, check_csrf, owner_page, read_form

__all__ = ["router"]

from replenish.web.pages import TEMPLATES

router = APIRouter(tags=["messages"])


def _inbox(engine: Engine, shop: Shop, customer_id: int | None) -> dict[str, Any]:
    tz = ZoneInfo(shop.timezone)
    with Session(engine) as session:
        last_out = dict(session.exec(
            select(OutboundMessage.customer_id, func.max(OutboundMessage.created_at))
            .where(OutboundMessage.shop_id == shop.id,
                   col(OutboundMessage.customer_id).is_not(None))
            .group_by(col(OutboundMessage.customer_id))).all())
        last_in = dict(session.exec(
            select(InboundMessage.customer_id, func.max(InboundMessage.received_at))
            .where(InboundMessage.shop_id == shop.id,
                   col(InboundMessage.customer_id).is_not(None))
            .group_by(col(InboundMessage.customer_id))).all())
        waiting = set(session.exec(
            select(InboundMessage.customer_id).where(
                InboundMessage.shop_id == shop.id, col(InboundMessage.handled).is_(False),
                col(InboundMessage.processed_at).is_not(None))).all())
        ids = set(last_out) | set(last_in)
        customers = {c.id: c for c in session.exec(
            select(Customer).where(Customer.shop_id == shop.id, col(Customer.id).in_(ids)))}
        latest = {i: max(t for t in (last_out.get(i), last_in.get(i)) if t is not None)
                  for i in ids}
        people = sorted(ids, key=lambda i: (i not in waiting, -latest[i].timestamp()))
        conversations = [{"customer": customers[i], "latest": latest[i].astimezone(tz),
                          "waiting": i in waiting} for i in people if i in customers]
        selected = None
        thread: list[dict[str, Any]] = []
        if customer_id is not None:
            selected = session.get(Customer, customer_id)
            if selected is None or selected.shop_id != shop.id:
                raise HTTPException(404, "no such customer in your shop")
            for m in session.exec(select(OutboundMessage).where(
                    OutboundMessage.customer_id == customer_id)):
                thread.append({"at": (m.sent_at or m.created_at).astimezone(tz), "out": True,
                               "body": m.body, "state": m.status.value, "kind": m.kind.value})
            for m in session.exec(select(InboundMessage).where(
                    InboundMessage.customer_id == customer_id)):
                thread.append({"at": m.received_at.astimezone(tz), "out": False,
                               "body": m.body, "state": "" if m.handled else (
                                   "waiting for you" if m.processed_at else "arriving"),
                               "kind": "reply"})
            thread.sort(key=lambda t: t["at"])
        return {"conversations": conversations, "selected": selected, "thread": thread}


@router.get("/messages", response_class=HTMLResponse)
async def messages_page(request: Request, me: CurrentUser,
                        customer: int | None = None) -> HTMLResponse:
    user, shop = me
    settings: Settings = request.app.state.settings
    context = await run_in_threadpool(_inbox, request.app.state.engine, shop, customer)
    return TEMPLATES.TemplateResponse(request, "messages.html", context | owner_page(
        request, user, shop, "messages") | {"phone_panel": not settings.sms.use_twilio})


def _reply(engine: Engine, settings: Settings, user: User, customer_id: int,
           text: str) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session:
        customer = session.get(Customer, customer_id)
        if customer is None or customer.shop_id != user.shop_id:
            raise HTTPException(404, "no such customer in your shop")
        inbound, _ = record_inbound(
            session=session, shop_id=customer.shop_id,
            provider_sid=f"CONSOLE-IN-{uuid.uuid4().hex}", from_phone=customer.phone,
            to_phone=settings.sms.twilio.from_number or "console", body=text,
            received_at=now, customer_id=customer.id)
        handle_inbound(session=session, inbound=inbound, now=now, settings=settings)
        session.commit()


@router.post("/messages/reply", response_model=None)
async def phone_reply(request: Request, me: CurrentUser) -> Response:
    """The phone panel: a text as if the customer had sent it (console transport only)."""
    user, _ = me
    form = await read_form(request)
    check_csrf(request, form)
    settings: Settings = request.app.state.settings
    if settings.sms.use_twilio:
        raise HTTPException(409, "texts come from customers' phones when Twilio is set up")
    try:
        customer_id = int(form.get("customer", ""))
    except ValueError:
        raise HTTPException(400, "customer: which customer is answering?") from None
    text = form.get("text", "").strip()
    if not text:
        raise HTTPException(400, "text: type what the customer answers")
    await run_in_threadpool(_reply, request.app.state.engine, settings, user, customer_id,
                            text[:1600])
    return RedirectResponse(f"/messages?customer={customer_id}", status_code=303)
