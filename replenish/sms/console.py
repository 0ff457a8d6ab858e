"""The console transport: the default when no Twilio account is set.

Nothing leaves the computer. The text is already stored in the outbox (that is where
``replenish messages`` shows it); this transport only logs it, optionally echoes it,
and answers with a made-up id such as ``CONSOLE-1732432800000001``.

It has no ``find``: a console send interrupted by a crash goes to owner review, like
any send whose fate the provider cannot tell.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable

from replenish.db.models.messages import MessageStatus
from replenish.sms.base import SendResult

__all__ = ["ConsoleTransport"]

logger = logging.getLogger(__name__)


class ConsoleTransport:
    """Logs each text instead of sending it.

    ``echo`` (such as ``typer.echo``) also shows each text. The ids count up from
    ``start``; by default from the clock in microseconds, so ids of separate runs differ.
    """

    name = "console"

    def __init__(self, *, echo: Callable[[str], None] | None = None, start: int | None = None):
        self._echo = echo
        self._numbers = itertools.count(time.time_ns() // 1000 if start is None else start)
        self._lock = threading.Lock()

    def send(self, *, to: str, body: str, idempotency_key: str) -> SendResult:
        with self._lock:
            sid = f"CONSOLE-{next(self._numbers)}"
        logger.info("text to %s (%s, %s): %s", to, idempotency_key, sid, body)
        if self._echo is not None:
            self._echo(f"text to {to}: {body}")
        return SendResult(sid, MessageStatus.SENT)

    def close(self) -> None:
        """Nothing to release (the Twilio transport has a connection pool to close)."""
