"""``replenish messages``: the outbox, and sending it (``dispatch``, ``resend``, ``mark-sent``);
``reply`` types a customer's answer for the console transport."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import Engine
from sqlmodel import Session

from replenish.cli.common import (
    JsonOption,
    ShopOption,
    current_shop,
    database,
    display_width,
    fail,
    friendly_errors,
    print_json,
    print_table,
    settings,
)
from replenish.conversation.inbound import handle_inbound
from replenish.db import NotFoundError
from replenish.db.models import MessageStatus, OutboundMessage, OutboundMessagePublic
from replenish.db.queries.customers import get_customer
from replenish.db.queries.inbound import record_inbound
from replenish.db.queries.messages import (
    get_message,
    list_messages,
    mark_message_sent,
    requeue_message,
)
from replenish.sms import DispatchParams, dispatch_outbox, make_transport

messages_app = typer.Typer(no_args_is_help=False)

MessageId = Annotated[int, typer.Argument(help="Message id (the first column of `replenish messages`).", show_default=False)]


def register(app: typer.Typer) -> None:
    app.add_typer(messages_app, name="messages")


@messages_app.callback(invoke_without_command=True)
def messages(
    ctx: typer.Context,
    status: Annotated[MessageStatus | None, typer.Option(case_sensitive=False, help="Only texts in this state: queued, sending, sent, delivered, undelivered, failed, review.")] = None,
    customer: Annotated[int | None, typer.Option("--customer", help="Only texts to this customer id.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many, newest first.")] = 50,
    shop_id: ShopOption = None,
    as_json: JsonOption = False,
) -> None:
    """The outbox: every text the shop sends, newest first, and where it stands.

    Texts wait as "queued" until `replenish messages dispatch` (or the scheduler) sends
    them. "failed" shows why (a wrong number, a customer who texted STOP); "review" means
    the program stopped mid-send and the provider could not say whether the text went
    out: check with the customer, then `resend` or `mark-sent` it.

    Examples:

      replenish messages

      replenish messages --status failed

      replenish messages --customer 12 --json

      replenish messages dispatch
    """
    if ctx.invoked_subcommand is not None:
        return
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        assert shop.id is not None
        rows = list_messages(session=session, shop_id=shop.id, status=status,
                             customer_id=customer, limit=limit)
        tz = ZoneInfo(shop.timezone)
        if as_json:
            print_json([OutboundMessagePublic.model_validate(m).model_dump(mode="json") for m in rows])
            return
        if not rows:
            typer.echo("no messages" + (f" ({status.value})" if status else ""))
            return
        print_table(("id", "created", "status", "kind", "to", "customer", "tries", "text", "note"),
                    [_table_row(m, tz) for m in rows])


def _short(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    if display_width(text) <= width:
        return text
    out = ""
    for ch in text:
        if display_width(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


def _table_row(m: OutboundMessage, tz: ZoneInfo) -> list[str]:
    return [str(m.id), m.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), m.status.value,
            m.kind.value, m.to_phone, "" if m.customer_id is None else str(m.customer_id),
            str(m.attempts), _short(m.body, 36), _short(m.error_message, 40)]


@messages_app.command("dispatch")
def dispatch(
    shop_id: Annotated[int | None, typer.Option("--shop", help="Only this shop's texts (default: every shop).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for the random spread of retry waits (for repeatable runs).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Send the texts that are due, once, through the transport the settings choose.

    Twilio when [sms.twilio] is filled in, else the console (texts are shown here and
    nothing leaves the computer). Texts a crash left half-sent are first settled by
    asking Twilio; a text is never sent twice. Exits with 1 when the Twilio account
    settings are wrong.

    Examples:

      replenish messages dispatch

      replenish messages dispatch --shop 2 --json
    """
    cfg = settings()
    with database(cfg) as session:
        if shop_id is not None:
            current_shop(session, shop_id)
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        transport = make_transport(cfg.sms, echo=lambda line: typer.echo(line, err=as_json))
        try:
            result = dispatch_outbox(engine=engine, transport=transport, now=datetime.now(UTC),
                                     params=DispatchParams.from_settings(cfg.sms),
                                     rng=random.Random(seed), shop_id=shop_id)
        finally:
            transport.close()
    summary: dict[str, Any] = {"transport": transport.name, "sent": result.sent,
                               "retried": result.retried, "failed": result.failed,
                               "review": result.review, "reconciled": result.reconciled,
                               "stopped": result.stopped, "problems": result.problems}
    if as_json:
        print_json(summary)
    else:
        typer.echo(f"{transport.name}: sent {result.sent}, to retry {result.retried}, "
                   f"failed {result.failed}, to review {result.review}, "
                   f"settled after a crash {result.reconciled}")
        for line in result.problems:
            typer.echo(f"  {line}")
    if result.stopped:
        fail(f"stopped: {result.stopped}; fix [sms.twilio] in the settings", code=1)


def _shop_message(session: Session, shop_id: int | None, message_id: int) -> OutboundMessage:
    shop = current_shop(session, shop_id)
    assert shop.id is not None
    try:
        return get_message(session=session, shop_id=shop.id, message_id=message_id)
    except NotFoundError:
        fail(f"no message {message_id} in this shop")


@messages_app.command("resend")
def resend(message_id: MessageId, shop_id: ShopOption = None) -> None:
    """Queue a text in review (or failed) again, after checking it never arrived.

    Examples:

      replenish messages resend 42
    """
    with database(settings()) as session:
        message = _shop_message(session, shop_id, message_id)
        with friendly_errors():
            requeue_message(session=session, message=message, now=datetime.now(UTC))
    typer.echo(f"message {message_id} is queued again; `replenish messages dispatch` sends it")


@messages_app.command("mark-sent")
def mark_sent(message_id: MessageId, shop_id: ShopOption = None) -> None:
    """Close a text in review as sent, after checking that it arrived.

    Examples:

      replenish messages mark-sent 42
    """
    with database(settings()) as session:
        message = _shop_message(session, shop_id, message_id)
        with friendly_errors():
            mark_message_sent(session=session, message=message, now=datetime.now(UTC))
    typer.echo(f"message {message_id} is marked sent")


@messages_app.command("reply")
def reply(
    text: Annotated[str, typer.Argument(help="The customer's reply, as they would write it (quote it).", show_default=False)],
    customer: Annotated[int, typer.Option("--customer", help="Customer id: who is answering.", show_default=False)],
    shop_id: ShopOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer as if you were the customer (for the console transport, and for trying
    replenish out): the text goes the same way as a real one through Twilio, so it can
    book a drop, record a level, stop the texts, or land in your inbox.

    Prints what was understood and what will be sent back (`replenish messages dispatch`
    sends it; quiet hours still apply).

    Examples:

      replenish messages reply --customer 12 "好喔 這次要15公斤"

      replenish messages reply --customer 12 "還有一半"

      replenish messages reply --customer 3 STOP --json
    """
    cfg = settings()
    now = datetime.now(UTC)
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        assert shop.id is not None
        try:
            who = get_customer(session=session, shop_id=shop.id, customer_id=customer)
        except NotFoundError:
            fail(f"--customer {customer}: no such customer in this shop")
        with friendly_errors():
            inbound, _ = record_inbound(
                session=session, shop_id=shop.id, provider_sid=f"CONSOLE-IN-{uuid.uuid4().hex}",
                from_phone=who.phone, to_phone=cfg.sms.twilio.from_number or "console",
                body=text, received_at=now, customer_id=who.id)
            result = handle_inbound(session=session, inbound=inbound, now=now, settings=cfg)
        queued = [get_message(session=session, shop_id=shop.id, message_id=i) for i in result.queued]
        tz = ZoneInfo(shop.timezone)
        understood = result.reply.summary() if result.reply is not None else "not read"
        out: dict[str, Any] = {
            "inbound_id": inbound.id, "understood": understood,
            "reply": None if result.reply is None else result.reply.as_dict(),
            "answer": result.message or None, "to_inbox": result.to_inbox,
            "proposal_id": result.proposal_id, "drop_id": result.drop_id,
            "reading_id": result.reading_id,
            "queued": [{"id": m.id, "kind": m.kind.value, "body": m.body,
                        "not_before": m.not_before} for m in queued],
        }
        waits = [m.not_before is not None and m.not_before > now for m in queued]
    if as_json:
        print_json(out)
        return
    typer.echo(f"understood: {understood}")
    if result.drop_id is not None:
        typer.echo(f"booked: drop {result.drop_id} (planned)")
    if result.reading_id is not None:
        typer.echo(f"recorded: reading {result.reading_id}")
    if result.to_inbox:
        typer.echo("left in your inbox: a person should answer it")
    for text_out, wait in zip(out["queued"], waits, strict=True):
        when = f" (after {text_out['not_before'].astimezone(tz):%Y-%m-%d %H:%M})" if wait else ""
        typer.echo(f"will send{when}: {text_out['body']}")
    if not queued:
        typer.echo("nothing to send back")
