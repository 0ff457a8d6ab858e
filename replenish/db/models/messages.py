"""Text messages: the outbox (what the shop sends) and the inbox (what customers send).

An outgoing message is a row in ``outbound_messages`` written in the same transaction as
the change that causes it; ``replenish.sms.dispatch`` sends it later. Its life::

    queued ──claim──> sending ──provider took it──> sent ──callback──> delivered
      ▲                  │                            └──callback──> undelivered / failed
      └──retryable error─┤
                         ├──permanent error (21211 ...) or out of attempts──> failed
                         └──stuck (a crash mid-send) and the provider cannot tell──> review

``idempotency_key`` (unique) names the message for its caller ("prompt:tank42:2026-11-27"),
so the same message can never be queued twice. ``provider_sid`` is Twilio's MessageSid.
"""

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from replenish.db.columns import UTCDateTime, text_enum, utcnow
from replenish.db.values import normalize_phone


class MessageKind(StrEnum):
    """Why a message is sent (the conversation decides; the sender does not care)."""

    PROMPT = "prompt"  # asks before a drop
    REMINDER = "reminder"  # no answer to a prompt yet
    HEADS_UP = "heads-up"  # auto-mode customer: "we'll bring 10 kg on Thu"
    CONFIRMATION = "confirmation"  # a booking, or the one opt-out confirmation the law allows
    FOLLOWUP = "followup"  # after a drop ("how was today's delivery?")
    COURIER_LINK = "courier-link"  # a courier's signed route link
    AUTO_REPLY = "auto-reply"  # help text, "a person will answer at 8:00"
    OTHER = "other"


class MessageStatus(StrEnum):
    """Where an outgoing message stands (see the module docstring for the moves)."""

    QUEUED = "queued"  # waiting for the dispatcher (maybe for ``not_before``)
    SENDING = "sending"  # claimed by a dispatcher, provider call in flight
    SENT = "sent"  # the provider accepted it (``provider_sid`` is set)
    DELIVERED = "delivered"  # the carrier confirmed delivery
    UNDELIVERED = "undelivered"  # the carrier could not deliver it
    FAILED = "failed"  # never sent: permanent error, or out of attempts
    REVIEW = "review"  # unknown whether it went out: the owner decides


# How far along each status is. A status callback never moves a message backwards, and
# the final statuses (rank 3) never change once reached.
STATUS_RANK: dict[MessageStatus, int] = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.REVIEW: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.UNDELIVERED: 3,
    MessageStatus.FAILED: 3,
}


def _aware_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time needs its time zone (an aware datetime); a naive one is ambiguous")
    return value.astimezone(UTC)


# --- Outbound -----------------------------------------------------------------------------


class OutboundMessageBase(SQLModel):
    customer_id: int | None = Field(
        default=None, foreign_key="customers.id", ondelete="SET NULL", index=True
    )
    to_phone: str = Field(min_length=2, max_length=32)  # E.164
    body: str = Field(min_length=1, max_length=1600)
    kind: MessageKind = Field(sa_type=text_enum(MessageKind))
    idempotency_key: str = Field(min_length=1, max_length=200, unique=True)
    # quiet hours are decided by the caller: the dispatcher only waits until this moment
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)

    _not_before = field_validator("not_before")(_aware_utc)

    @field_validator("to_phone")
    @classmethod
    def _e164(cls, value: str) -> str:
        return normalize_phone(value, region=None)


class OutboundMessageCreate(OutboundMessageBase):
    pass


class OutboundMessage(OutboundMessageBase, table=True):
    """A message in the outbox. Only ``replenish.sms.dispatch`` moves it past ``queued``."""

    __tablename__ = "outbound_messages"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    status: MessageStatus = Field(
        default=MessageStatus.QUEUED, sa_type=text_enum(MessageStatus), index=True
    )
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provider_sid: str | None = Field(default=None, max_length=64, index=True)
    error_code: int | None = None
    error_message: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboundMessagePublic(OutboundMessageBase):
    id: int
    shop_id: int
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime | None
    provider_sid: str | None
    error_code: int | None
    error_message: str | None
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime


# --- Inbound ------------------------------------------------------------------------------


class InboundMessageBase(SQLModel):
    provider_sid: str = Field(min_length=1, max_length=64, unique=True)  # Twilio's MessageSid
    from_phone: str = Field(min_length=1, max_length=32)
    to_phone: str = Field(min_length=1, max_length=32)
    body: str = ""
    received_at: datetime = Field(sa_type=UTCDateTime)
    customer_id: int | None = Field(
        default=None, foreign_key="customers.id", ondelete="SET NULL", index=True
    )

    _received_at = field_validator("received_at")(_aware_utc)


class InboundMessageCreate(InboundMessageBase):
    pass


class InboundMessage(InboundMessageBase, table=True):
    """A text a customer sent. A webhook retried by Twilio (same MessageSid) is one row."""

    __tablename__ = "inbound_messages"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    handled: bool = Field(default=False, index=True)
    # when the text was read and applied (None: stored by the webhook, not applied yet)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # Twilio's OptOutType (STOP, START, HELP) when Twilio answered the keyword itself:
    # applied without a second answer of ours, even after a restart
    opt_out_type: str | None = Field(default=None, max_length=16)


class InboundMessagePublic(InboundMessageBase):
    id: int
    shop_id: int
    handled: bool
