"""Sends left half-done: rows stuck in ``sending``, settled by asking the provider.

A row is stuck when it has been ``sending`` for longer than ``stuck_after`` (default ten
minutes, well past the transport's own timeout, so that a send still in flight is never
taken for a stuck one). The dispatcher stopped between claiming it and recording the
outcome: a crash, a power cut, or the provider did not answer in time. The provider may or
may not have the text. It is never sent again blindly:

* The transport cannot look messages up (the console): ``review``. The owner decides
  (``replenish messages resend ID`` or ``replenish messages mark-sent ID``).
* ``find`` returns the provider's messages that could be this one; those whose sid
  another row already has are left out.

  - exactly one: adopt it (its sid and status, usually ``sent``);
  - none: the provider never got it, so it goes back to ``queued``, due now (or
    ``failed`` when it has used up its attempts);
  - more than one: ``review`` (which one is ours cannot be told);
  - the lookup itself failed: left as it is, asked again next run (a permanent lookup
    error sends it to ``review``).

A status callback that arrives for such a row (its URL carries the idempotency key)
settles it too, through ``replenish.db.queries.messages.record_status``.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import col

from replenish.db.models.messages import MessageStatus, OutboundMessage
from replenish.sms.base import Finder, SendResult, Transport, TransportError
from replenish.sms.outbox import Claim, DispatchParams, DispatchResult, settle, update_claimed

__all__ = ["reconcile_stuck"]

logger = logging.getLogger(__name__)
T = OutboundMessage


def reconcile_stuck(
    *,
    engine: Engine,
    transport: Transport,
    now: datetime,
    params: DispatchParams,
    result: DispatchResult,
    shop_id: int | None = None,
) -> None:
    """Settle every row ``sending`` since before ``now - stuck_after``; counts go to ``result``."""
    for claim, since in _stuck(engine, now - params.stuck_after, shop_id):
        if not isinstance(transport, Finder):
            _review(
                engine,
                claim,
                now,
                result,
                f"the program stopped while handing this text to {transport.name}, "
                "which cannot tell whether it went out",
            )
            continue
        try:
            candidates = transport.find(
                to=claim.to_phone,
                body=claim.body,
                idempotency_key=claim.idempotency_key,
                since=since,
            )
        except TransportError as error:
            if error.permanent:
                _review(engine, claim, now, result, f"could not ask the provider: {error}")
            else:
                logger.warning(
                    "message %s: lookup failed (%s); asking again later", claim.id, error
                )
                result.problems.append(f"message {claim.id}: lookup failed: {error.message}")
            continue
        fresh = _unknown_to_us(engine, candidates)
        if len(fresh) == 1:
            if settle(engine, claim, fresh[0], now):
                result.reconciled += 1
        elif not fresh:
            _requeue(engine, claim, now, params, result)
        else:
            sids = ", ".join(c.provider_sid for c in fresh)
            _review(
                engine,
                claim,
                now,
                result,
                f"{len(fresh)} messages with this text went to this number ({sids}); "
                "which one is this cannot be told",
            )


def _stuck(engine: Engine, cutoff: datetime, shop_id: int | None) -> list[tuple[Claim, datetime]]:
    statement = (
        sa.select(*Claim.columns(), col(T.updated_at))
        .where(col(T.status) == MessageStatus.SENDING, col(T.updated_at) <= cutoff)
        .order_by(col(T.id))
    )
    if shop_id is not None:
        statement = statement.where(col(T.shop_id) == shop_id)
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return [(Claim.from_row(row), row[5]) for row in rows]


def _unknown_to_us(engine: Engine, candidates: list[SendResult]) -> list[SendResult]:
    """The candidates whose sid no outbox row holds yet."""
    sids = {c.provider_sid for c in candidates}
    if not sids:
        return []
    with engine.connect() as connection:
        known = set(
            connection.execute(
                sa.select(col(T.provider_sid)).where(col(T.provider_sid).in_(sids))
            ).scalars()
        )
    return [c for c in candidates if c.provider_sid not in known]


def _review(
    engine: Engine, claim: Claim, now: datetime, result: DispatchResult, reason: str
) -> None:
    if update_claimed(
        engine, claim, status=MessageStatus.REVIEW, updated_at=now, error_message=reason
    ):
        result.review += 1
        result.problems.append(f"message {claim.id}: {reason}")


def _requeue(
    engine: Engine,
    claim: Claim,
    now: datetime,
    params: DispatchParams,
    result: DispatchResult,
) -> None:
    if claim.attempts >= params.max_attempts:
        reason = (
            f"gave up after {claim.attempts} attempts; the provider has no record of the last one"
        )
        if update_claimed(
            engine, claim, status=MessageStatus.FAILED, updated_at=now, error_message=reason
        ):
            result.failed += 1
            result.problems.append(f"message {claim.id}: {reason}")
        return
    if update_claimed(
        engine, claim, status=MessageStatus.QUEUED, updated_at=now, next_attempt_at=now
    ):
        result.retried += 1
