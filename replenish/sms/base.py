"""What every SMS transport provides, and the errors it raises.

A transport hands one text to a provider::

    class Transport(Protocol):
        name: str
        def send(self, *, to, body, idempotency_key) -> SendResult

and may help the dispatcher find out what happened to a send that was interrupted::

    class Finder(Protocol):      # optional: without it a stuck send goes to owner review
        def find(self, *, to, body, idempotency_key, since) -> list[SendResult]

``find`` returns every message the provider holds that could be this one (an empty list
means the provider is sure it has none). A transport may also offer
``fetch(provider_sid) -> SendResult`` to read one message's current status.

Errors carry the decision the dispatcher needs::

    TransportError                 the provider did not take the text
     │   .permanent = False        try again later, with backoff (429, 5xx, cannot connect)
     │   .permanent = True         never again: 21211 invalid number, 21610 the customer
     │                             texted STOP, 21614 not a mobile, 21408 region blocked
     │   .code                     the provider's error code (Twilio's 21211 ...), or None
     │   .status                   the HTTP status, or None
     ├── ConfigurationError        the shop's account is wrong (bad credentials or sender):
     │                             every text would fail alike, so the dispatcher keeps
     │                             this one queued and stops the run
     └── OutcomeUnknown            the request may have reached the provider (no answer in
                                   time, connection cut mid-way): the text stays "sending"
                                   and is reconciled with ``find``, never blindly re-sent
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from replenish.db.models.messages import MessageStatus

__all__ = [
    "ConfigurationError",
    "Finder",
    "OutcomeUnknown",
    "SendResult",
    "Transport",
    "TransportError",
]


@dataclass(frozen=True)
class SendResult:
    """What the provider said about one message: its id and where it stands."""

    provider_sid: str
    status: MessageStatus = MessageStatus.SENT
    error_code: int | None = None
    error_message: str | None = None

    def __post_init__(self) -> None:
        if not self.provider_sid:
            raise ValueError("a provider message id (sid) is required")


@runtime_checkable
class Transport(Protocol):
    """Hands one text to a provider. ``send`` raises TransportError when it cannot."""

    name: str

    def send(self, *, to: str, body: str, idempotency_key: str) -> SendResult: ...


@runtime_checkable
class Finder(Protocol):
    """A transport that can look for a message it may have sent (for reconciliation)."""

    def find(
        self, *, to: str, body: str, idempotency_key: str, since: datetime
    ) -> list[SendResult]: ...


class TransportError(Exception):
    """The provider did not take the text; ``permanent`` says whether to try again."""

    def __init__(
        self,
        message: str,
        permanent: bool = False,
        code: int | None = None,
        *,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
        self.status = status


class ConfigurationError(TransportError):
    """The account or sender is wrong: no text can go out until the owner fixes settings."""


class OutcomeUnknown(TransportError):
    """The provider may or may not have taken the text: ask it before any retry."""
