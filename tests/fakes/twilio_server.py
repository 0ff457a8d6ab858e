"""A local HTTP server that speaks Twilio's Messages API, for the real ``twilio`` client.

    with FakeTwilio() as twilio:
        params = twilio.params(from_number="+15005550006")   # api_base_url points here
        ...
        twilio.posts            # every POST it received, as form fields
        twilio.messages         # every message it created

Wire format (as https://api.twilio.com/2010-04-01):

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with Basic auth and form fields
  ``To``, ``Body``, ``From`` or ``MessagingServiceSid``, optional ``StatusCallback``:
  201 and the message as JSON (``sid`` "SM" + 32 hex, ``status`` "queued", or "accepted"
  through a Messaging Service).
* ``GET .../Messages/{MessageSid}.json``: 200 and the message, or 404 (code 20404).
* ``GET .../Messages.json?To=&From=&PageSize=``: a page ``{"messages": [...], ...}``,
  newest first.
* Errors: ``{"code": 21211, "message": "...", "more_info": "...", "status": 400}``.

Failing on demand: ``fail_next(n, status=500)`` (or 429), ``hang_next(n, seconds,
create=True)`` (answers late, after creating the message or not, so the client times
out), ``refuse(number, code=21211)`` (a permanent error for one number).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from replenish.settings import TwilioParams

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token"
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
ERROR_TEXT = {
    20003: "Authenticate",
    20404: "The requested resource {path} was not found",
    20429: "Too Many Requests",
    21211: "The 'To' number {to} is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    authorized: bool


@dataclass
class _Fault:
    kind: str  # "status" or "hang"
    status: int = 500
    code: int | None = None
    seconds: float = 0.0
    create: bool = True


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[Received] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[_Fault] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)


class FakeTwilio:
    """The server, on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, *, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self, self._state))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def params(self, **changes: Any) -> TwilioParams:
        """Twilio settings that point the real client here (``from_number`` by default)."""
        values: dict[str, Any] = {
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            "from_number": "+15005550006",
            "api_base_url": self.base_url,
            "timeout_seconds": 2.0,
        }
        return TwilioParams.model_validate(values | changes)

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def close(self) -> None:
        self._state.stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- failing on demand ---

    def fail_next(self, n: int = 1, *, status: int = 500, code: int | None = None) -> None:
        """Answer the next ``n`` requests with ``status`` (500, 503, 429 ...)."""
        with self._state.lock:
            self._state.faults += [_Fault("status", status=status, code=code) for _ in range(n)]

    def hang_next(self, n: int = 1, *, seconds: float = 5.0, create: bool = True) -> None:
        """Answer the next ``n`` requests only after ``seconds``; a POST creates its message
        first when ``create`` (Twilio took it but the answer never arrived in time)."""
        with self._state.lock:
            self._state.faults += [_Fault("hang", seconds=seconds, create=create) for _ in range(n)]

    def refuse(self, number: str, *, code: int = 21211) -> None:
        """Refuse every message to ``number`` with a permanent Twilio error."""
        with self._state.lock:
            self._state.refused[number] = code

    def set_status(self, sid: str, status: str, *, error_code: int | None = None) -> None:
        with self._state.lock:
            self._state.messages[sid] |= {"status": status, "error_code": error_code}

    # --- what it received ---

    @property
    def received(self) -> list[Received]:
        with self._state.lock:
            return list(self._state.received)

    @property
    def posts(self) -> list[dict[str, str]]:
        return [r.form for r in self.received if r.method == "POST"]

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self._state.lock:
            return list(self._state.messages.values())

    def take_fault(self) -> _Fault | None:
        with self._state.lock:
            return self._state.faults.pop(0) if self._state.faults else None


def _handler_for(fake: FakeTwilio, state: _State) -> type[BaseHTTPRequestHandler]:
    prefix = f"/2010-04-01/Accounts/{fake.account_sid}/Messages"

    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeTwilio/1.0"
        protocol_version = "HTTP/1.1"  # keep-alive, as api.twilio.com does
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

        def handle(self) -> None:
            # the client may have given up waiting (a hang on purpose)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            authorized = self._authorized()
            with state.lock:
                state.received.append(Received(method, parts.path, query, form, authorized))
            if not authorized:
                return self._error(401, 20003)
            fault = fake.take_fault()
            if fault is not None and fault.kind == "status":
                code = fault.code or (20429 if fault.status == 429 else None)
                return self._error(fault.status, code)
            if method == "POST" and parts.path == prefix + ".json":
                if fault is not None and not fault.create:
                    return self._hang(fault.seconds, None)
                answer = _create(fake, state, form)
                if fault is not None:
                    return self._hang(fault.seconds, answer)
                return self._json(*answer)
            if fault is not None:
                return self._hang(fault.seconds, None)
            if method == "GET" and parts.path == prefix + ".json":
                return self._json(200, _page(fake, state, query, parts.path))
            found = re.fullmatch(re.escape(prefix) + r"/(SM[0-9a-f]{32})\.json", parts.path)
            if method == "GET" and found:
                with state.lock:
                    message = state.messages.get(found.group(1))
                if message is not None:
                    return self._json(200, message)
            return self._error(404, 20404, path=parts.path)

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode())
            return header == "Basic " + expected.decode()

        def _hang(self, seconds: float, answer: tuple[int, dict[str, Any]] | None) -> None:
            if state.stop.wait(seconds) or answer is None:
                return self._json(504, {"message": "too late"})
            self._json(*answer)

        def _error(self, status: int, code: int | None, **fill: str) -> None:
            self._json(status, _error_body(status, code, **fill))

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _create(fake: FakeTwilio, state: _State, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    to, body = form.get("To", ""), form.get("Body", "")
    sender, service = form.get("From"), form.get("MessagingServiceSid")
    problem = None
    if not to:
        problem = 21604
    elif not E164.fullmatch(to):
        problem = 21211
    elif not body:
        problem = 21602
    elif not (sender or service):
        problem = 21603
    elif to in state.refused:
        problem = state.refused[to]
    if problem is not None:
        return 400, _error_body(400, problem, to=to)
    sid = "SM" + secrets.token_hex(16)
    now = format_datetime(datetime.now(UTC), usegmt=True)
    message = {
        "account_sid": fake.account_sid,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sender,
        "messaging_service_sid": service,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued" if sender else "accepted",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{sid}/Media.json"
        },
        "to": to,
        "uri": f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{sid}.json",
    }
    with state.lock:
        state.messages[sid] = message
    return 201, message


def _error_body(status: int, code: int | None, **fill: str) -> dict[str, Any]:
    if code is None:  # an error without a Twilio code (a 500 from a proxy, say)
        return {"message": "Internal Server Error", "more_info": None, "status": status}
    return {
        "code": code,
        "message": ERROR_TEXT.get(code, "Error").format(**fill),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _page(fake: FakeTwilio, state: _State, query: dict[str, str], path: str) -> dict[str, Any]:
    size = int(query.get("PageSize", "50"))
    with state.lock:
        found = [
            m
            for m in reversed(list(state.messages.values()))
            if m["to"] == query.get("To", m["to"]) and m["from"] == query.get("From", m["from"])
        ][:size]
    return {
        "messages": found,
        "end": max(len(found) - 1, 0),
        "first_page_uri": f"{path}?PageSize={size}&Page=0",
        "next_page_uri": None,
        "page": 0,
        "page_size": size,
        "previous_page_uri": None,
        "start": 0,
        "uri": f"{path}?PageSize={size}&Page=0",
    }
