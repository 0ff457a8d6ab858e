"""Text messages out of the shop: transports and the outbox dispatcher.

    from replenish.sms import make_transport, dispatch_outbox, DispatchParams

    transport = make_transport(settings.sms)          # Twilio, or the console
    result = dispatch_outbox(engine=engine, transport=transport, now=datetime.now(UTC),
                             params=DispatchParams.from_settings(settings.sms))

Texts are queued with ``replenish.db.queries.messages.queue_message`` in the same
transaction as the change that causes them; only the dispatcher sends them.

    base.py       the Transport protocol, SendResult, and the error tree
    console.py    the default: logs texts, sends nothing
    twilio.py     Twilio's Messages API through the official client
    dispatch.py   claim -> send -> record, with retries and backoff
    reconcile.py  sends interrupted mid-way: ask the provider, or owner review
    outbox.py     the dispatcher's parameters, result and claimed rows
"""

from __future__ import annotations

from collections.abc import Callable

from replenish.settings import SmsSettings
from replenish.sms.base import (
    ConfigurationError,
    Finder,
    OutcomeUnknown,
    SendResult,
    Transport,
    TransportError,
)
from replenish.sms.console import ConsoleTransport
from replenish.sms.dispatch import backoff, dispatch_outbox
from replenish.sms.outbox import DispatchParams, DispatchResult
from replenish.sms.twilio import TwilioTransport

__all__ = [
    "ConfigurationError",
    "ConsoleTransport",
    "DispatchParams",
    "DispatchResult",
    "Finder",
    "OutcomeUnknown",
    "SendResult",
    "Transport",
    "TransportError",
    "TwilioTransport",
    "backoff",
    "dispatch_outbox",
    "make_transport",
]


def make_transport(
    sms: SmsSettings, *, echo: Callable[[str], None] | None = None
) -> TwilioTransport | ConsoleTransport:
    """The transport the ``[sms]`` settings choose: Twilio when its account is set
    (``transport = "auto"``) or required (``"twilio"``), else the console.

    ``echo`` shows each console text (for the CLI). Close the transport when done.
    """
    if sms.use_twilio:
        return TwilioTransport(sms.twilio, public_url=sms.public_url)
    return ConsoleTransport(echo=echo)
