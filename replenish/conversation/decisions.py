"""What a plan did, and why: one ``Decision`` per customer's tank, in the owner's words.

``propose``, ``remind`` (``replenish.conversation.outgoing``) and ``follow_up``
(``replenish.conversation.followups``) each return a result holding their decisions, so
that ``replenish plan`` and the scheduler's log can explain every prompt sent and every
customer skipped ("opted out", "prompt cap: ...", "on hold until 2026-12-03", "no
forecast: ...").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

__all__ = ["Action", "Decision", "FollowUpResult", "ProposeResult", "RemindResult"]


class Action(StrEnum):
    PROMPT = "prompt"  # asked a confirm customer
    BOOK = "book"  # booked an auto customer, with a heads-up
    REMIND = "remind"  # a reminder (a will-call customer's only text, or a nudge)
    CALL_LIST = "call-list"  # the owner should phone them
    MOVE = "move"  # an unanswered proposal's day moved to the first possible one
    CLOSE = "close"  # a proposal closed (snooze due, drop delivered without it)
    FOLLOW_UP = "follow-up"  # asked how the delivery went
    SKIP = "skip"  # nothing done; ``reason`` says why


@dataclass(frozen=True)
class Decision:
    """What was done (or not) for one customer's tank, and why, in the owner's words."""

    customer_id: int
    customer: str
    action: Action
    reason: str
    tank_id: int | None = None
    product: str | None = None
    proposal_id: int | None = None
    drop_on: date | None = None
    quantity: float | None = None
    send_at: datetime | None = None  # when the text goes out (after quiet hours)


@dataclass(frozen=True)
class _Result:
    decisions: tuple[Decision, ...] = ()

    def count(self, action: Action) -> int:
        return sum(1 for d in self.decisions if d.action is action)

    def for_customer(self, customer_id: int) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.customer_id == customer_id)


@dataclass(frozen=True)
class ProposeResult(_Result):
    not_due: int = 0  # tanks whose order-by date is beyond the horizon

    @property
    def prompted(self) -> int:
        return self.count(Action.PROMPT)

    @property
    def booked(self) -> int:
        return self.count(Action.BOOK)

    @property
    def reminded(self) -> int:
        return self.count(Action.REMIND)

    @property
    def skipped(self) -> int:
        return self.count(Action.SKIP)


@dataclass(frozen=True)
class RemindResult(_Result):
    @property
    def reminded(self) -> int:
        return self.count(Action.REMIND)

    @property
    def call_listed(self) -> int:
        return self.count(Action.CALL_LIST)

    @property
    def closed(self) -> int:
        return self.count(Action.CLOSE)


@dataclass(frozen=True)
class FollowUpResult(_Result):
    @property
    def sent(self) -> int:
        return self.count(Action.FOLLOW_UP)
