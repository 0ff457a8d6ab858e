"""The timed jobs of the SMS conversation, each thin: load -> core -> save -> send.

Arguments are a database URL, a moment and the settings (no live objects), so a job can
run in another process later; the engine for the URL is shared by every run in the
process (``shared_engine``). Each shop is its own transaction.

* ``nightly_plan``: refresh every forecast, remind the unanswered, propose new drops
  (prompts, heads-ups, reminders queued for the next allowed send time).
* ``reminders``: the hourly pass: reminders and the call list.
* ``followups``: one satisfaction question per drop recorded as delivered.
* ``send_outbox``: the dispatcher, every few seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from replenish.conversation.decisions import ProposeResult, RemindResult
from replenish.conversation.followups import follow_up
from replenish.conversation.outgoing import propose, remind
from replenish.db import shared_engine
from replenish.db.models import Shop
from replenish.db.queries.nightly import RefreshResult, refresh_forecasts
from replenish.settings import Settings
from replenish.sms import DispatchParams, dispatch_outbox, make_transport
from replenish.sms.outbox import DispatchResult

__all__ = ["followups", "nightly_plan", "plan_shop", "reminders", "send_outbox"]


def _each_shop(database_url: str, work: Callable[[Session, Shop], Any]) -> dict[int, Any]:
    engine = shared_engine(database_url)
    results: dict[int, Any] = {}
    with Session(engine) as session:
        shop_ids = session.exec(select(Shop.id).order_by(col(Shop.id))).all()
    for shop_id in shop_ids:
        with Session(engine) as session:
            shop = session.get(Shop, shop_id)
            assert shop is not None and shop.id is not None
            results[shop.id] = work(session, shop)
            session.commit()
    return results


def plan_shop(*, session: Session, shop: Shop, now: datetime,
              settings: Settings) -> tuple[RefreshResult, RemindResult, ProposeResult]:
    """One shop's nightly plan: forecasts, then reminders, then new proposals (flush, no
    commit: ``replenish plan`` shows it and rolls back)."""
    refreshed = refresh_forecasts(session=session, shop=shop, now=now, settings=settings)
    reminded = remind(session=session, shop=shop, now=now, settings=settings)
    proposed = propose(session=session, shop=shop, now=now, settings=settings)
    return refreshed, reminded, proposed


def nightly_plan(*, database_url: str, now: datetime, settings: Settings) -> dict[int, Any]:
    """The nightly plan for every shop, each in its own transaction."""
    return _each_shop(database_url, lambda session, shop: plan_shop(
        session=session, shop=shop, now=now, settings=settings))


def reminders(*, database_url: str, now: datetime, settings: Settings) -> dict[int, Any]:
    return _each_shop(database_url, lambda session, shop: remind(
        session=session, shop=shop, now=now, settings=settings))


def followups(*, database_url: str, now: datetime, settings: Settings) -> dict[int, Any]:
    return _each_shop(database_url, lambda session, shop: follow_up(
        session=session, shop=shop, now=now, settings=settings))


def send_outbox(*, database_url: str, now: datetime, settings: Settings) -> DispatchResult:
    """Send what is due through the transport the settings choose."""
    transport = make_transport(settings.sms)
    try:
        return dispatch_outbox(engine=shared_engine(database_url), transport=transport,
                               now=now, params=DispatchParams.from_settings(settings.sms))
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            close()
