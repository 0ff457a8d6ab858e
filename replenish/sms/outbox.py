"""The outbox as the dispatcher sees it: its knobs, its tally, and rows it has claimed.

A claimed row is the dispatcher's while it is ``sending`` with the ``attempts`` the claim
set; every write after the claim is conditional on that, so a late writer (a slow send,
a second dispatcher reconciling) cannot undo what another one settled.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import col

from replenish.db.models.messages import MessageStatus, OutboundMessage
from replenish.settings import SmsSettings
from replenish.sms.base import SendResult

__all__ = ["Claim", "DispatchParams", "DispatchResult", "settle", "update_claimed"]

logger = logging.getLogger(__name__)
T = OutboundMessage


@dataclass(frozen=True)
class DispatchParams:
    """How hard the dispatcher tries (the ``[sms]`` settings)."""

    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(hours=1)
    retry_jitter: float = 0.5
    stuck_after: timedelta = timedelta(minutes=10)
    batch_size: int = 100

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not timedelta(0) < self.retry_base <= self.retry_max:
            raise ValueError("retry_base must be positive and at most retry_max")
        if not 0 <= self.retry_jitter <= 1:
            raise ValueError("retry_jitter must be between 0 and 1")
        if self.stuck_after <= timedelta(0) or self.batch_size < 1:
            raise ValueError("stuck_after must be positive and batch_size at least 1")

    @classmethod
    def from_settings(cls, sms: SmsSettings) -> DispatchParams:
        return cls(
            max_attempts=sms.max_attempts,
            retry_base=timedelta(seconds=sms.retry_base_seconds),
            retry_max=timedelta(seconds=sms.retry_max_seconds),
            retry_jitter=sms.retry_jitter,
            stuck_after=timedelta(seconds=sms.stuck_after_seconds),
            batch_size=sms.batch_size,
        )


@dataclass
class DispatchResult:
    """What one run did. ``stopped`` says why a run ended early (bad account settings)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    review: int = 0
    reconciled: int = 0
    stopped: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Claim:
    """A row this dispatcher owns while ``status='sending'`` and ``attempts`` match."""

    id: int
    to_phone: str
    body: str
    idempotency_key: str
    attempts: int

    @classmethod
    def columns(cls) -> list[Any]:
        """The columns to select, in order, for ``from_row``."""
        return [col(T.id), col(T.to_phone), col(T.body), col(T.idempotency_key), col(T.attempts)]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Claim:
        return cls(int(row[0]), str(row[1]), str(row[2]), str(row[3]), int(row[4]))


def _owned(claim: Claim) -> list[Any]:
    return [
        col(T.id) == claim.id,
        col(T.status) == MessageStatus.SENDING,
        col(T.attempts) == claim.attempts,
    ]


def update_claimed(engine: Engine, claim: Claim, **values: Any) -> bool:
    """Apply ``values`` if the row is still this claim's; False if someone settled it."""
    with engine.begin() as connection:
        done = connection.execute(sa.update(T).where(*_owned(claim)).values(**values))
    if done.rowcount != 1:
        logger.info("message %s was settled elsewhere (a status callback?)", claim.id)
        return False
    return True


def settle(engine: Engine, claim: Claim, sent: SendResult, now: datetime) -> bool:
    """The provider has the message: record its sid and status."""
    status = sent.status if sent.status is not MessageStatus.SENDING else MessageStatus.SENT
    return update_claimed(
        engine,
        claim,
        status=status,
        provider_sid=sent.provider_sid,
        sent_at=now,
        updated_at=now,
        next_attempt_at=None,
        error_code=sent.error_code,
        error_message=sent.error_message,
    )


def settle_many(engine: Engine, settled: Sequence[tuple[Claim, SendResult]],
                now: datetime) -> int:
    """Record the sids the provider gave, in one transaction; returns how many were still
    this dispatcher's to record (a status callback may have settled one first)."""
    if not settled:
        return 0
    done = 0
    with engine.begin() as connection:
        for claim, sent in settled:
            status = sent.status if sent.status is not MessageStatus.SENDING else MessageStatus.SENT
            result = connection.execute(sa.update(T).where(*_owned(claim)).values(
                status=status, provider_sid=sent.provider_sid, sent_at=now, updated_at=now,
                next_attempt_at=None, error_code=sent.error_code,
                error_message=sent.error_message))
            if result.rowcount == 1:
                done += 1
            else:
                logger.info("message %s was settled elsewhere (a status callback?)", claim.id)
    return done
