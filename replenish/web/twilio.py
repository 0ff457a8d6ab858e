"""Twilio's webhooks: a customer's text (``POST /twilio/sms``) and a text's fate
(``POST /twilio/status``).

Both are form posts that Twilio signs. The ``X-Twilio-Signature`` header is checked with
the ``twilio`` library's ``RequestValidator`` and the account's auth token, against the
URL Twilio was given (``sms.public_url`` + the path + the query string as received) and
every posted field. A missing or bad signature answers 403 and writes nothing. Without
an auth token (the console transport) or a public URL nothing can be checked, so both
endpoints answer 403: replenish never takes an unsigned post.

``/twilio/sms`` stores the text and commits (``record_inbound``; Twilio's retry of the
same MessageSid is stored once and answers 200 without doing anything), answers an empty
TwiML ``<Response>`` at once; the app's worker thread then applies the text
(``replenish.conversation.pending.InboundWorker``): every answer to the customer goes
through the outbox. A text stored but not applied (the process stopped in between) is
applied when the app starts again (``process_pending``). If applying
the text fails, the text is still kept, unhandled, for the owner's inbox. A keyword Twilio
answered itself (``OptOutType`` STOP, START or HELP) is applied without a second answer.

``/twilio/status`` records a status (``record_status``), finding a message whose sid was
never recorded by the ``key`` query parameter of its StatusCallback URL.

The form body is read with the standard library (Twilio posts
``application/x-www-form-urlencoded``), so no multipart parser is needed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from replenish.conversation.pending import apply_stored
from replenish.db.models import Customer, Shop
from replenish.db.queries.messages import record_inbound, record_status
from replenish.db.values import normalize_phone
from replenish.settings import Settings

__all__ = ["EMPTY_TWIML", "router"]

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SMS_PATH = "/twilio/sms"
STATUS_PATH = "/twilio/status"

router = APIRouter(tags=["twilio"])

Form = ImmutableMultiDict[str, str]


async def _signed_form(request: Request, path: str) -> Form:
    """The posted fields, if Twilio signed them; else 403."""
    settings: Settings = request.app.state.settings
    body = (await request.body()).decode("utf-8", errors="replace")
    form: Form = ImmutableMultiDict(parse_qsl(body, keep_blank_values=True))
    token = settings.sms.twilio.auth_token.get_secret_value()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not settings.sms.public_url:
        raise HTTPException(403, "webhooks need sms.twilio.auth_token and sms.public_url")
    query = request.url.query
    url = settings.sms.public_url + path + (f"?{query}" if query else "")
    if not signature or not RequestValidator(token).validate(url, form, signature):
        raise HTTPException(403, "bad or missing X-Twilio-Signature")
    return form


@router.post(SMS_PATH)
async def receive_sms(request: Request) -> Response:
    """A customer's text: stored and committed, then answered at once; the app's worker
    thread applies it right after, and its reply goes through the outbox."""
    form = await _signed_form(request, SMS_PATH)
    sid, from_phone = form.get("MessageSid") or form.get("SmsSid"), form.get("From")
    if not sid or not from_phone:
        raise HTTPException(400, "MessageSid and From are required")
    engine, settings = request.app.state.engine, request.app.state.settings
    stored = await run_in_threadpool(
        _store, engine, sid=sid, from_phone=from_phone, to_phone=form.get("To") or "-",
        body=form.get("Body") or "", now=datetime.now(UTC))
    if stored is not None:  # not a retry: the app's worker applies it, in arrival order
        worker = getattr(request.app.state, "inbound_worker", None)
        if worker is not None:
            worker.submit(stored, form.get("OptOutType"))
        else:  # an app running without its lifespan (no worker): apply it here
            await run_in_threadpool(apply_stored, engine=engine, settings=settings,
                                    inbound_id=stored, provider_answered=form.get("OptOutType"))
    return Response(EMPTY_TWIML, media_type="text/xml")


def _store(engine: Engine, *, sid: str, from_phone: str, to_phone: str, body: str,
           now: datetime) -> int | None:
    """Store the text (once per MessageSid); its id, or None for a retry."""
    with Session(engine) as session:
        shop, customer = _addressee(session, from_phone)
        if shop is None:
            raise HTTPException(503, "no shop yet: run `replenish init`")
        assert shop.id is not None
        inbound, created = record_inbound(
            session=session, shop_id=shop.id, provider_sid=sid, from_phone=from_phone,
            to_phone=to_phone, body=body, received_at=now,
            customer_id=None if customer is None else customer.id)
        session.commit()
        return inbound.id if created else None


def _addressee(session: Session, from_phone: str) -> tuple[Shop | None, Customer | None]:
    """The shop a text is for: the first (by id) with a customer of that phone, else the
    first shop. All shops share one Twilio account, so ``To`` cannot tell them apart."""
    try:
        phone = normalize_phone(from_phone, region=None)
    except ValueError:
        phone = from_phone
    customer = session.exec(select(Customer).where(Customer.phone == phone)
                            .order_by(col(Customer.shop_id))).first()
    if customer is not None:
        return session.get(Shop, customer.shop_id), customer
    return session.exec(select(Shop).order_by(col(Shop.id))).first(), None


@router.post(STATUS_PATH)
async def receive_status(request: Request) -> Response:
    """A text's fate as Twilio reports it: sent, delivered, undelivered, failed."""
    form = await _signed_form(request, STATUS_PATH)
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not status:
        raise HTTPException(400, "MessageSid and MessageStatus are required")
    code = (form.get("ErrorCode") or "").strip()
    await run_in_threadpool(_record, request.app.state.engine, sid=sid, status=status,
                            error_code=int(code) if code.isdigit() else None,
                            error_message=form.get("ErrorMessage") or None,
                            key=request.query_params.get("key"))
    return Response(status_code=200)


def _record(engine: Engine, *, sid: str, status: str, error_code: int | None,
            error_message: str | None, key: str | None) -> None:
    with Session(engine) as session:
        record_status(session=session, provider_sid=sid, status=status, error_code=error_code,
                      error_message=error_message, idempotency_key=key)
        session.commit()
