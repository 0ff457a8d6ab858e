"""Twilio's webhooks: a customer's text (``POST /twilio/sms``) and a text's fate
(``POST /twilio/status``).

Both are form posts that Twilio signs. The ``X-Twilio-Signature`` header is checked with
the ``twilio`` library's ``RequestValidator`` and the account's auth token, against the
URL Twilio was given (``sms.public_url`` + the path + the query string as received) and
every posted field. A missing or bad signature answers 403 and writes nothing. Without
an auth token (the console transport) or a public URL nothing can be checked, so both
endpoints answer 403: replenish never takes an unsigned post.

``/twilio/sms`` stores the text and commits (``store_inbound``: one ``INSERT ... ON
CONFLICT DO NOTHING RETURNING`` that also finds the shop and the customer; Twilio's retry
of the same MessageSid is stored once and answers 200 without doing anything), answers an
empty TwiML ``<Response>`` at once; the app's worker thread then applies the text, with
whatever else is waiting, in one transaction
(``replenish.conversation.pending.InboundWorker``): every answer to the customer goes
through the outbox. On SQLite the store takes its turn at the write lock from the
worker's ``WriteTurns``, before the worker's next text. A text stored but not applied
(the process stopped in between) is applied when the app starts again
(``process_pending``). If applying the text fails, the text is still kept, unhandled,
for the owner's inbox. A keyword Twilio answered itself (``OptOutType`` STOP, START or
HELP) is applied without a second answer; the ``OptOutType`` is stored with the text, so
this holds for a text applied after a restart too.

``/twilio/status`` records a status (``record_status``), finding a message whose sid was
never recorded by the ``key`` query parameter of its StatusCallback URL (on SQLite it
too takes its turn at the write lock before the worker's next text).

The form body is read with the standard library (Twilio posts
``application/x-www-form-urlencoded``), so no multipart parser is needed.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from replenish.conversation.pending import WriteTurns, apply_stored
from replenish.db.errors import NotFoundError
from replenish.db.queries.inbound import store_inbound
from replenish.db.queries.messages import record_status
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
    worker = getattr(request.app.state, "inbound_worker", None)
    stored = await run_in_threadpool(
        _store, engine, sid=sid, from_phone=from_phone, to_phone=form.get("To") or "-",
        body=form.get("Body") or "", now=datetime.now(UTC),
        opt_out_type=form.get("OptOutType"), turns=getattr(worker, "turns", None))
    if stored is not None:  # not a retry: the app's worker applies it, in arrival order
        if worker is not None:
            worker.submit(stored, form.get("OptOutType"))
        else:  # an app running without its lifespan (no worker): apply it here
            await run_in_threadpool(apply_stored, engine=engine, settings=settings,
                                    inbound_id=stored, provider_answered=form.get("OptOutType"))
    return Response(EMPTY_TWIML, media_type="text/xml")


def _store(engine: Engine, *, sid: str, from_phone: str, to_phone: str, body: str,
           now: datetime, opt_out_type: str | None = None,
           turns: WriteTurns | None = None) -> int | None:
    """Store the text (once per MessageSid) and commit; its id, or None for a retry."""
    try:
        with turns.store() if turns is not None else nullcontext(), engine.begin() as conn:
            return store_inbound(connection=conn, provider_sid=sid, from_phone=from_phone,
                                 to_phone=to_phone, body=body, received_at=now,
                                 opt_out_type=opt_out_type)
    except NotFoundError:
        raise HTTPException(503, "no shop yet: run `replenish init`") from None


@router.post(STATUS_PATH)
async def receive_status(request: Request) -> Response:
    """A text's fate as Twilio reports it: sent, delivered, undelivered, failed."""
    form = await _signed_form(request, STATUS_PATH)
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not status:
        raise HTTPException(400, "MessageSid and MessageStatus are required")
    code = (form.get("ErrorCode") or "").strip()
    worker = getattr(request.app.state, "inbound_worker", None)
    await run_in_threadpool(_record, request.app.state.engine, sid=sid, status=status,
                            error_code=int(code) if code.isdigit() else None,
                            error_message=form.get("ErrorMessage") or None,
                            key=request.query_params.get("key"),
                            turns=getattr(worker, "turns", None))
    return Response(status_code=200)


def _record(engine: Engine, *, sid: str, status: str, error_code: int | None,
            error_message: str | None, key: str | None, turns: WriteTurns | None) -> None:
    with turns.store() if turns is not None else nullcontext(), Session(engine) as session:
        record_status(session=session, provider_sid=sid, status=status, error_code=error_code,
                      error_message=error_message, idempotency_key=key)
        session.commit()
