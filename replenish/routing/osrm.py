"""Road distances from an OSRM server's table API, with a haversine fallback.

    GET {base_url}/table/v1/{profile}/{lon},{lat};{lon},{lat};...
        ?annotations=distance,duration&sources=0;1&destinations=2;3

answers ``{"code": "Ok", "distances": [[metres]], "durations": [[seconds]], ...}``;
a cell is ``null`` when OSRM found no road between the two points. A server refuses
tables with more than ``max-table-size``² cells (``code`` "TooBig"; 100 by default in
``osrm-routed``), so bigger matrices are asked for in blocks of at most
``max_table_size`` sources × ``max_table_size`` destinations.

Errors never reach the caller. Inside, everything that goes wrong becomes an
``OsrmError``:

    OsrmError
      ├── an httpx.HTTPError (connection refused, timeout, ...)
      ├── an answer other than 200, or not JSON
      └── "code" other than "Ok", or a table of the wrong shape

and ``OsrmSource.matrix`` answers with the haversine matrix and a warning instead. Cells
OSRM left ``null`` are filled from haversine, with a warning that counts them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from replenish.routing.distances import HaversineSource, Matrix, Point

__all__ = ["OsrmError", "OsrmSource"]


class OsrmError(Exception):
    """OSRM gave no usable table; the message says why."""


class OsrmSource:
    """A ``DistanceSource`` backed by OSRM (``routing.osrm_url`` in the settings)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 10.0,
        profile: str = "driving",
        max_table_size: int = 100,
        fallback: HaversineSource | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout must be positive, got {timeout_s!r}")
        if max_table_size < 2:
            raise ValueError(f"max table size must be at least 2, got {max_table_size!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.profile = profile
        self.max_table_size = max_table_size
        self.fallback = fallback or HaversineSource()
        self._client = client

    def matrix(self, points: Sequence[Point]) -> Matrix:
        if len(points) < 2:
            return self.fallback.matrix(points)
        try:
            distance, duration = self._fetch(points)
        except OsrmError as error:
            guess = self.fallback.matrix(points)
            warning = f"OSRM failed ({error}); used {self.fallback.describe()} instead"
            return Matrix(guess.distance_m, guess.duration_s, (warning,))
        missing = np.isnan(distance) | np.isnan(duration)
        np.fill_diagonal(missing, False)
        warnings: tuple[str, ...] = ()
        if missing.any():
            guess = self.fallback.matrix(points)
            distance = np.where(missing, guess.distance_m, distance)
            duration = np.where(missing, guess.duration_s, duration)
            warnings = (
                f"OSRM found no road for {int(missing.sum())} of {missing.size - len(points)}"
                f" pairs; used {self.fallback.describe()} for them",
            )
        np.fill_diagonal(distance, 0)
        np.fill_diagonal(duration, 0)
        return Matrix(
            np.rint(distance).astype(np.int64), np.rint(duration).astype(np.int64), warnings
        )

    # --- the wire ---

    def _fetch(
        self, points: Sequence[Point]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        n = len(points)
        distance = np.full((n, n), np.nan)
        duration = np.full((n, n), np.nan)
        try:
            with self._session() as client:
                for rows in _blocks(n, self.max_table_size):
                    for cols in _blocks(n, self.max_table_size):
                        dist, dur = self._block(client, points, rows, cols)
                        distance[np.ix_(rows, cols)] = dist
                        duration[np.ix_(rows, cols)] = dur
        except httpx.HTTPError as error:
            name = type(error).__name__
            raise OsrmError(f"{name}: {error}" if str(error) else name) from error
        return distance, duration

    def _session(self) -> contextlib.AbstractContextManager[httpx.Client]:
        if self._client is not None:  # the caller's: used, not closed
            return contextlib.nullcontext(self._client)
        return httpx.Client(timeout=self.timeout_s)

    def _block(
        self, client: httpx.Client, points: Sequence[Point], rows: list[int], cols: list[int]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        wanted = sorted(set(rows) | set(cols))
        where = {index: position for position, index in enumerate(wanted)}
        coordinates = ";".join(f"{points[i].lon:.6f},{points[i].lat:.6f}" for i in wanted)
        query = {"annotations": "distance,duration"}
        if len(wanted) != len(rows) or len(wanted) != len(cols):
            query["sources"] = ";".join(str(where[i]) for i in rows)
            query["destinations"] = ";".join(str(where[i]) for i in cols)
        url = f"{self.base_url}/table/v1/{self.profile}/{coordinates}"
        response = client.get(url, params=query, timeout=self.timeout_s)
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            detail = _describe(body) or response.reason_phrase
            raise OsrmError(f"HTTP {response.status_code}: {detail}")
        if not isinstance(body, dict):
            raise OsrmError("the answer is not a JSON object")
        if body.get("code") != "Ok":
            raise OsrmError(_describe(body) or "no code in the answer")
        shape = (len(rows), len(cols))
        return _table(body, "distances", shape), _table(body, "durations", shape)


def _blocks(n: int, size: int) -> Iterator[list[int]]:
    for start in range(0, n, size):
        yield list(range(start, min(start + size, n)))


def _describe(body: Any) -> str:
    if not isinstance(body, dict) or "code" not in body:
        return ""
    message = body.get("message")
    return f"{body['code']}: {message}" if message else str(body["code"])


def _table(body: dict[str, Any], key: str, shape: tuple[int, int]) -> npt.NDArray[np.float64]:
    rows = body.get(key)
    if not isinstance(rows, list) or len(rows) != shape[0]:
        raise OsrmError(f"'{key}' is missing or has the wrong number of rows")
    table = np.full(shape, np.nan)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != shape[1]:
            raise OsrmError(f"'{key}' row {i} has the wrong length")
        for j, cell in enumerate(row):
            if cell is None:
                continue
            if not isinstance(cell, int | float) or isinstance(cell, bool) or cell < 0:
                raise OsrmError(f"'{key}' has a bad cell {cell!r}")
            table[i, j] = float(cell)
    return table
