"""The Twilio transport: the official ``twilio`` library's ``Client`` and Messages API.

    POST {api_base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json
         To, Body, From or MessagingServiceSid, StatusCallback (when public_url is set)

``api_base_url`` is a setting so that tests point the real client at a local server that
speaks the same wire format (``tests/fakes/twilio_server.py``).

Reconciliation. Twilio has no idempotency key and cannot list messages by one, so:

* the StatusCallback URL carries the key (``<public_url>/twilio/status?key=<key>``): a
  status callback for a send whose sid was never recorded finds its row by the key
  (``replenish.db.queries.messages.record_status(idempotency_key=...)``);
* ``find`` lists the account's messages to the same number (and from the same number when
  a From number is set) and keeps those with the same text created since the send was
  claimed. The dispatcher adopts a single match it does not already know, and sends the
  row to owner review when more than one could be it.

Errors (see ``replenish.sms.base``): 429 and 5xx are retried; a connection that could not
be opened is retried; no answer in time or a connection cut mid-request is
``OutcomeUnknown``; bad credentials or sender are ``ConfigurationError``; 21211, 21610,
21614, 21408 and other refusals of the request itself are permanent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from replenish.db.models.messages import MessageStatus
from replenish.db.queries.messages import provider_status
from replenish.settings import TwilioParams
from replenish.sms.base import ConfigurationError, OutcomeUnknown, SendResult, TransportError

__all__ = ["CONFIGURATION_CODES", "PERMANENT_CODES", "TwilioTransport", "transport_error"]

# Twilio refuses the message itself: the same request would be refused again.
PERMANENT_CODES: dict[int, str] = {
    21211: "invalid 'To' phone number",
    21408: "sending to this country is not enabled (Twilio Console: Messaging Geo Permissions)",
    21610: "the customer has unsubscribed (replied STOP to this number)",
    21612: "this number cannot be reached from the shop's sender",
    21614: "the number is not a mobile number",
    21617: "the message is too long (more than 1600 characters)",
    21602: "the message body is empty",
    21635: "the number cannot receive text messages",
    30004: "the message was blocked",
    30005: "unknown destination number",
    30006: "the number is a landline or cannot be reached",
    30007: "the carrier filtered the message as spam",
}
# The shop's account or sender is wrong: nothing will go out until settings are fixed.
CONFIGURATION_CODES: dict[int, str] = {
    20003: "Twilio refused the account SID or auth token",
    20005: "the Twilio account is not active",
    20404: "the Twilio account was not found (check account_sid)",
    21212: "the From number is not valid",
    21603: "no sender: set from_number or messaging_service_sid",
    21606: "the From number cannot send text messages",
    21659: "the From number is not a Twilio number of this account",
}
MATCH_CLOCK_SKEW = timedelta(minutes=5)
FIND_LIMIT = 200


def transport_error(error: TwilioException) -> TransportError:
    """A Twilio API error -> the TransportError that carries the dispatcher's decision."""
    if isinstance(error, TwilioRestException | TwilioServiceException):
        status = int(error.status)
        code = int(error.code) if error.code is not None else None
        if code == status:  # an error body without a Twilio code
            code = None
        text = _reason(error)
    else:
        return OutcomeUnknown(f"Twilio's answer could not be read: {error}")
    if code is not None and code in CONFIGURATION_CODES:
        return ConfigurationError(
            f"{code}: {CONFIGURATION_CODES[code]} ({text})", code=code, status=status
        )
    if status == 429 or code == 20429:
        return TransportError(
            f"{code or status}: Twilio asked to slow down ({text})", code=code, status=status
        )
    if status >= 500:
        return TransportError(f"{status}: Twilio had a problem ({text})", code=code, status=status)
    if status in (401, 403, 404):
        return ConfigurationError(f"{code or status}: {text}", code=code, status=status)
    if code is not None and code in PERMANENT_CODES:
        return TransportError(f"{code}: {PERMANENT_CODES[code]}", True, code, status=status)
    return TransportError(f"{code or status}: {text}", True, code, status=status)


def _reason(error: TwilioRestException | TwilioServiceException) -> str:
    if isinstance(error, TwilioServiceException):
        return str(error.detail or error.title)
    text = str(error.msg)
    for prefix in ("Unable to create record: ", "Unable to fetch record: "):
        text = text.removeprefix(prefix)
    return text


def _never_left(error: requests.ConnectionError) -> bool:
    """True when the request never reached Twilio (no connection could be opened)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    cause = error.args[0] if error.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError)


def _network_error(error: requests.RequestException) -> TransportError:
    if isinstance(error, requests.ConnectionError) and _never_left(error):
        return TransportError(f"cannot reach Twilio: {error}")
    return OutcomeUnknown(f"no answer from Twilio in time, or the connection broke: {error}")


class TwilioTransport:
    """Sends through Twilio's Messages API with the official client.

    ``public_url`` (the shop's address on the internet) turns on status callbacks.
    Call ``close()`` when done (it closes the connection pool).
    """

    name = "twilio"

    def __init__(self, params: TwilioParams, *, public_url: str = "") -> None:
        if not params.configured:
            raise ValueError("the Twilio transport needs sms.twilio.account_sid and auth_token")
        if not (params.from_number or params.messaging_service_sid):
            raise ValueError("the Twilio transport needs from_number or messaging_service_sid")
        self._params = params
        self._public_url = public_url.rstrip("/")
        self._http = TwilioHttpClient(timeout=params.timeout_seconds)
        # An explicit environment: TWILIO_EDGE / TWILIO_REGION from the shell would rewrite
        # the host name and bypass api_base_url.
        self._client = Client(
            params.account_sid,
            params.auth_token.get_secret_value(),
            http_client=self._http,
            environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
        )
        self._client.api.base_url = params.api_base_url
        self._messages = self._client.api.v2010.accounts(params.account_sid).messages

    def status_callback(self, idempotency_key: str) -> str | None:
        """Where Twilio reports this message's status, or None without a public URL."""
        if not self._public_url:
            return None
        return f"{self._public_url}/twilio/status?{urlencode({'key': idempotency_key})}"

    def send(self, *, to: str, body: str, idempotency_key: str) -> SendResult:
        p = self._params
        fields: dict[str, Any] = {
            "to": to,
            "body": body,
            "from_": p.from_number or values.unset,
            "messaging_service_sid": p.messaging_service_sid or values.unset,
            "status_callback": self.status_callback(idempotency_key) or values.unset,
        }
        try:
            message = self._messages.create(**fields)
        except TwilioException as error:
            raise transport_error(error) from error
        except requests.RequestException as error:
            raise _network_error(error) from error
        if not message.sid:
            raise OutcomeUnknown("Twilio answered without a message sid")
        return self._result(message)

    def fetch(self, provider_sid: str) -> SendResult:
        """The current status of one message."""
        try:
            message = self._messages(provider_sid).fetch()
        except TwilioException as error:
            raise transport_error(error) from error
        except requests.RequestException as error:
            raise TransportError(f"cannot reach Twilio: {error}") from error
        return self._result(message)

    def find(
        self, *, to: str, body: str, idempotency_key: str, since: datetime
    ) -> list[SendResult]:
        """Messages to ``to`` with this ``body`` created since ``since`` (minus clock skew)."""
        try:
            listed = self._messages.list(
                to=to,
                from_=self._params.from_number or values.unset,
                limit=FIND_LIMIT,
                page_size=FIND_LIMIT,
            )
        except TwilioRestException as error:
            raise transport_error(error) from error
        except TwilioException as error:  # a page that could not be read
            raise TransportError(f"cannot list Twilio messages: {error}") from error
        except requests.RequestException as error:
            raise TransportError(f"cannot reach Twilio: {error}") from error
        earliest = since - MATCH_CLOCK_SKEW
        found = []
        for message in listed:
            if not str(message.direction or "").startswith("outbound"):
                continue
            if message.date_created is not None and message.date_created < earliest:
                continue
            text = message.body or ""
            if text == body or text.startswith(body):  # a service may append opt-out text
                found.append(self._result(message))
        return found

    def close(self) -> None:
        if self._http.session is not None:
            self._http.session.close()

    def __enter__(self) -> TwilioTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def _result(message: Any) -> SendResult:
        status = provider_status(str(message.status or "")) or MessageStatus.SENT
        return SendResult(
            message.sid,
            status,
            error_code=message.error_code,
            error_message=message.error_message,
        )
