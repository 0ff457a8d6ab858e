"""A local HTTP server that speaks OSRM's table API, for ``OsrmSource``.

    with FakeOsrm() as osrm:
        source = OsrmSource(osrm.base_url, timeout_s=1)
        ...
        osrm.received           # every request: path, query, number of coordinates

Wire format (as ``osrm-routed`` 5.x):

* ``GET /table/v1/{profile}/{lon},{lat};{lon},{lat}...?annotations=distance,duration
  &sources=0;1&destinations=2;3``: 200 and ``{"code": "Ok", "distances": [[m]],
  "durations": [[s]], "sources": [...], "destinations": [...]}`` (rows are sources).
  Without ``annotations`` only ``durations`` comes back, as OSRM does.
* Its roads: great-circle metres × ``ROAD_FACTOR`` (1.2, on purpose not the client's
  1.3, so a test can tell the two apart), driven at ``SPEED_KMH`` (36 km/h: 10 m/s),
  both rounded to 0.1 as OSRM does.
* More than ``max_table_size``² cells: 400 ``{"code": "TooBig"}``. A malformed
  query: 400 ``{"code": "InvalidQuery"}``. Another path: 400 ``{"code": "InvalidUrl"}``.

Failing on demand: ``fail_next(n, status=500)``, ``hang_next(n, seconds)`` (answers
too late), ``answer_code_next(n, "InvalidQuery")`` (a 400 with that code),
``no_road_to(lat, lon)`` (cells to and from that point are ``null``).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ROAD_FACTOR = 1.2
SPEED_KMH = 36.0
EARTH_RADIUS_M = 6_371_008.8
TABLE = re.compile(r"/table/v1/(?P<profile>[a-z]+)/(?P<coordinates>[^/?]+)")


def road_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The fake's road distance between two (lon, lat) points, before rounding."""
    (lon1, lat1), (lon2, lat2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return ROAD_FACTOR * 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass
class Received:
    path: str
    query: dict[str, str]
    coordinates: int


@dataclass
class _Fault:
    kind: str  # "status", "hang" or "code"
    status: int = 500
    seconds: float = 0.0
    code: str = ""


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[Received] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)
    cut_off: list[tuple[float, float]] = field(default_factory=list)  # (lon, lat)
    stop: threading.Event = field(default_factory=threading.Event)


class FakeOsrm:
    """The server, on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, *, max_table_size: int = 100) -> None:
        self.max_table_size = max_table_size
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

    def start(self) -> FakeOsrm:
        self._thread.start()
        return self

    def close(self) -> None:
        self._state.stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOsrm:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- failing on demand ---

    def fail_next(self, n: int = 1, *, status: int = 500) -> None:
        with self._state.lock:
            self._state.faults += [_Fault("status", status=status) for _ in range(n)]

    def hang_next(self, n: int = 1, *, seconds: float = 5.0) -> None:
        with self._state.lock:
            self._state.faults += [_Fault("hang", seconds=seconds) for _ in range(n)]

    def answer_code_next(self, n: int = 1, code: str = "InvalidQuery") -> None:
        with self._state.lock:
            self._state.faults += [_Fault("code", status=400, code=code) for _ in range(n)]

    def no_road_to(self, lat: float, lon: float) -> None:
        """Cells to and from this point come back ``null`` (an island, a closed road)."""
        with self._state.lock:
            self._state.cut_off.append((round(lon, 6), round(lat, 6)))

    @property
    def received(self) -> list[Received]:
        with self._state.lock:
            return list(self._state.received)

    def _take_fault(self) -> _Fault | None:
        with self._state.lock:
            return self._state.faults.pop(0) if self._state.faults else None


def _handler_for(fake: FakeOsrm, state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeOsrm/5.27"
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

        def handle(self) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            found = TABLE.fullmatch(unquote(parts.path))
            coordinates = _coordinates(found.group("coordinates")) if found else None
            with state.lock:
                state.received.append(Received(parts.path, query, len(coordinates or [])))
            fault = fake._take_fault()
            if fault is not None and fault.kind == "hang":
                if state.stop.wait(fault.seconds):
                    return
            elif fault is not None and fault.kind == "status":
                return self._json(fault.status, {"message": "Internal Server Error"})
            elif fault is not None:
                return self._error(fault.code, "failing on purpose")
            if found is None:
                return self._error("InvalidUrl", f"URL string malformed close to {parts.path}")
            if coordinates is None or len(coordinates) < 2:
                return self._error("InvalidQuery", "Query string malformed close to position 0")
            try:
                sources = _indices(query.get("sources"), len(coordinates))
                destinations = _indices(query.get("destinations"), len(coordinates))
            except ValueError:
                return self._error("InvalidQuery", "Query string malformed close to sources")
            limit = fake.max_table_size
            if len(sources) * len(destinations) > limit * limit:
                return self._error("TooBig", "Too many table coordinates")
            annotations = query.get("annotations", "duration").split(",")
            self._json(200, _table(coordinates, sources, destinations, annotations, state))

        def _error(self, code: str, message: str) -> None:
            self._json(400, {"code": code, "message": message})

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _coordinates(text: str) -> list[tuple[float, float]] | None:
    points = []
    for pair in text.split(";"):
        try:
            lon, lat = (float(v) for v in pair.split(","))
        except ValueError:
            return None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return None
        points.append((lon, lat))
    return points


def _indices(text: str | None, n: int) -> list[int]:
    if text is None or text == "all":
        return list(range(n))
    indices = [int(v) for v in text.split(";")]
    if any(not 0 <= i < n for i in indices):
        raise ValueError(text)
    return indices


def _table(
    points: list[tuple[float, float]], sources: list[int], destinations: list[int],
    annotations: list[str], state: _State,
) -> dict[str, Any]:
    with state.lock:
        cut_off = set(state.cut_off)

    def cell(i: int, j: int, per_metre: float) -> float | None:
        a, b = points[i], points[j]
        if i != j and ({(round(a[0], 6), round(a[1], 6)), (round(b[0], 6), round(b[1], 6))}
                       & cut_off):
            return None
        return round(road_m(a, b) * per_metre, 1)

    def waypoint(i: int) -> dict[str, Any]:
        return {"hint": "", "distance": 0.0, "name": "", "location": list(points[i])}

    body: dict[str, Any] = {"code": "Ok"}
    if "duration" in annotations:
        body["durations"] = [[cell(i, j, 3.6 / SPEED_KMH) for j in destinations]
                             for i in sources]
    if "distance" in annotations:
        body["distances"] = [[cell(i, j, 1.0) for j in destinations] for i in sources]
    body["sources"] = [waypoint(i) for i in sources]
    body["destinations"] = [waypoint(j) for j in destinations]
    return body
