"""The outbox dispatcher: send queued texts once, through a transport, whatever happens.

    result = dispatch_outbox(engine=engine, transport=transport, now=datetime.now(UTC))

Each run first reconciles sends left half-done by an earlier run (``replenish.sms.
reconcile``), then sends what is due, ``CLAIM_CHUNK`` texts at a time:

1. Claim: ``UPDATE ... SET status='sending', attempts=attempts+1 WHERE id IN (...) AND
   status='queued' RETURNING ...`` and COMMIT. Only the rows this dispatcher's UPDATE
   touched are its to send; two dispatchers running at once never send one row twice.
2. Call the transport for each (outside any transaction).
3. Record the outcomes and COMMIT (the accepted ones together, once per chunk; a failure
   at once): the provider's sid and ``sent``; or ``queued`` again with
   a later ``next_attempt_at`` (exponential backoff with jitter, up to
   ``max_attempts``); or ``failed`` with the provider's code and reason.

A crash between 1 and 3 leaves the row in ``sending``; so does ``OutcomeUnknown`` (no
answer in time). Such a row is never sent again blindly: after ``stuck_after`` the next
run asks the provider about it (see ``reconcile``). Every update after the claim is
conditional on the row still being ``sending`` with the same ``attempts``, so a late
writer cannot undo what another one settled.

Quiet hours are the caller's business: the dispatcher only respects ``not_before``.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import col

from replenish.db.models.messages import MessageStatus, OutboundMessage
from replenish.sms.base import (
    ConfigurationError,
    OutcomeUnknown,
    SendResult,
    Transport,
    TransportError,
)
from replenish.sms.outbox import (
    Claim,
    DispatchParams,
    DispatchResult,
    settle_many,
    update_claimed,
)
from replenish.sms.reconcile import reconcile_stuck

__all__ = ["DispatchParams", "DispatchResult", "backoff", "dispatch_outbox"]

logger = logging.getLogger(__name__)
T = OutboundMessage
CLAIM_CHUNK = 50  # rows claimed per transaction; a crash leaves at most this many to reconcile


def backoff(attempts: int, params: DispatchParams, rng: random.Random) -> timedelta:
    """The wait after the ``attempts``-th failed try: base * 2^(n-1), capped, less jitter.

    With jitter j the wait is uniform in [(1 - j) * d, d], so texts that failed together
    spread out, and no wait is ever longer than ``retry_max``.
    """
    exponent = min(max(attempts - 1, 0), 32)
    delay = min(params.retry_base * (2**exponent), params.retry_max)
    wait: timedelta = delay * (1 - params.retry_jitter * rng.random())
    return wait


def dispatch_outbox(
    *,
    engine: Engine,
    transport: Transport,
    now: datetime,
    limit: int | None = None,
    params: DispatchParams | None = None,
    rng: random.Random | None = None,
    shop_id: int | None = None,
) -> DispatchResult:
    """Reconcile stuck sends, then send up to ``limit`` due texts (all shops or one).

    ``rng`` draws the jitter (pass ``random.Random(seed)`` for repeatable tests). Errors
    other than TransportError (a bug, an interrupt) propagate; a row being sent at that
    moment stays ``sending`` and the next run reconciles it.
    """
    params = params or DispatchParams()
    rng = rng or random.Random()
    result = DispatchResult()
    reconcile_stuck(
        engine=engine,
        transport=transport,
        now=now,
        params=params,
        result=result,
        shop_id=shop_id,
    )
    due = _due_ids(engine, now, limit or params.batch_size, shop_id)
    for start in range(0, len(due), CLAIM_CHUNK):
        claims = _claim(engine, due[start:start + CLAIM_CHUNK], now)  # others took the rest
        settled: list[tuple[Claim, SendResult]] = []
        try:
            for claim in claims:
                try:
                    sent = transport.send(
                        to=claim.to_phone, body=claim.body,
                        idempotency_key=claim.idempotency_key,
                    )
                except OutcomeUnknown as error:
                    logger.warning("message %s: %s; it is reconciled later", claim.id, error)
                    _note(engine, claim, error)
                    result.problems.append(f"message {claim.id}: {error.message}")
                except ConfigurationError as error:
                    _release_rest(engine, claims[claims.index(claim):], now + params.retry_base,
                                  error)
                    result.stopped = error.message
                    logger.error("stopping: %s", error.message)
                    break
                except TransportError as error:
                    _after_error(engine, claim, error, now, params, rng, result)
                else:
                    settled.append((claim, sent))
        finally:  # what the provider accepted is recorded even if a later send blew up
            result.sent += settle_many(engine, settled, now)
        if result.stopped:
            break
    return result


def _due(now: datetime) -> list[Any]:
    return [
        col(T.status) == MessageStatus.QUEUED,
        sa.or_(col(T.not_before).is_(None), col(T.not_before) <= now),
        sa.or_(col(T.next_attempt_at).is_(None), col(T.next_attempt_at) <= now),
    ]


def _due_ids(engine: Engine, now: datetime, limit: int, shop_id: int | None) -> list[int]:
    statement = sa.select(col(T.id)).where(*_due(now)).order_by(col(T.id)).limit(limit)
    if shop_id is not None:
        statement = statement.where(col(T.shop_id) == shop_id)
    with engine.connect() as connection:
        return [i for i in connection.execute(statement).scalars() if i is not None]


def _claim(engine: Engine, ids: list[int], now: datetime) -> list[Claim]:
    """Claim the due rows among ``ids`` in one transaction; those another dispatcher
    claimed first are not returned (the UPDATE only touches rows still queued)."""
    if not ids:
        return []
    with engine.begin() as connection:  # the UPDATE comes first: SQLite takes the write lock
        rows = connection.execute(
            sa.update(T)
            .where(col(T.id).in_(ids), *_due(now))
            .values(status=MessageStatus.SENDING, attempts=col(T.attempts) + 1, updated_at=now)
            .returning(*Claim.columns())
        ).all()
    return sorted((Claim.from_row(row) for row in rows), key=lambda c: c.id)


def _note(engine: Engine, claim: Claim, error: TransportError) -> None:
    """Keep the row ``sending`` (to be reconciled) but say why."""
    update_claimed(engine, claim, error_code=error.code, error_message=error.message)


def _release_rest(engine: Engine, claims: list[Claim], at: datetime,
                  error: TransportError) -> None:
    """Back to the queue without counting the attempt (the account, not the text, is wrong)."""
    for claim in claims:
        update_claimed(
            engine,
            claim,
            status=MessageStatus.QUEUED,
            attempts=claim.attempts - 1,
            next_attempt_at=at,
            error_code=error.code,
            error_message=error.message,
        )


def _after_error(
    engine: Engine,
    claim: Claim,
    error: TransportError,
    now: datetime,
    params: DispatchParams,
    rng: random.Random,
    result: DispatchResult,
) -> None:
    if error.permanent or claim.attempts >= params.max_attempts:
        reason = error.message
        if not error.permanent:
            reason = f"gave up after {claim.attempts} attempts; last error {reason}"
        if update_claimed(
            engine,
            claim,
            status=MessageStatus.FAILED,
            updated_at=now,
            error_code=error.code,
            error_message=reason,
        ):
            result.failed += 1
            result.problems.append(f"message {claim.id}: {reason}")
        return
    wait = backoff(claim.attempts, params, rng)
    if update_claimed(
        engine,
        claim,
        status=MessageStatus.QUEUED,
        next_attempt_at=now + wait,
        updated_at=now,
        error_code=error.code,
        error_message=error.message,
    ):
        result.retried += 1
