"""Reading a customer CSV file into rows, before any row is checked.

``read_customers_csv`` finds the delimiter, reads the header (any case, ``-`` or ``_``)
and returns one ``CsvRow`` a customer, numbered by its line in the file. The header is
checked here: an unknown column gets a "did you mean" (from ``_LIKELY``, names other
systems use, or the closest column), a repeated or missing required column is refused.
Problems are raised together as CustomerImportError; the rows themselves are checked by
``import_customers``.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass

from replenish.db.queries.registration_terms import (
    COLUMNS,
    REQUIRED_COLUMNS,
    CustomerImportError,
)

__all__ = ["CsvRow", "read_customers_csv"]


@dataclass(frozen=True)
class CsvRow:
    """One customer row of a CSV file: its line number and its cells by column."""

    line: int
    values: dict[str, str]


def _column(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def read_customers_csv(text: str) -> list[CsvRow]:
    """The rows of a customer CSV file (UTF-8 text, with or without a BOM).

    The first non-blank line names the columns (any case; ``-`` or ``_``; ``,``, ``;``
    or tab between them). Blank lines are skipped. Raises CustomerImportError when a
    column is unknown, repeated or missing, or a row has more cells than the header.
    """
    text = text.removeprefix("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    problems: list[tuple[int, str, str]] = []
    rows: list[CsvRow] = []
    start = 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [_column(cell) for cell in cells]
            problems.extend(_header_problems(header, line))
            continue
        extra = [cell for cell in cells[len(header):] if cell.strip()]
        if extra:
            problems.append((line, "row", f"has {len(cells)} cells but the header names "
                                          f"{len(header)} columns; quote cells that contain "
                                          f"{delimiter!r}, like \"台南市, 東區\""))
        rows.append(CsvRow(line, {name: cell for name, cell in zip(header, cells, strict=False)
                                  if name}))
    if header is None:
        problems.append((1, "file", f"is empty; the first line names the columns: "
                                    f"{', '.join(COLUMNS)}"))
    if problems:
        raise CustomerImportError(problems)
    return rows


# Column names other systems use, for "did you mean" (the file itself is never guessed at).
_LIKELY = {"phone_number": "phone", "mobile": "phone", "cell": "phone", "tel": "phone",
           "telephone": "phone", "latitude": "lat", "longitude": "lon", "lng": "lon",
           "kids": "children", "seniors": "elders", "delivery_mode": "mode", "lang": "language"}


def _header_problems(header: list[str], line: int) -> list[tuple[int, str, str]]:
    problems = []
    for name in header:
        if name and name not in COLUMNS:
            close = [_LIKELY[name]] if name in _LIKELY else difflib.get_close_matches(
                name, COLUMNS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append((line, name, f"is not a known column; {hint}"
                                         f"the columns are: {', '.join(COLUMNS)}"))
        elif name and header.count(name) > 1:
            problems.append((line, name, "is named twice; keep one of the columns"))
    for name in REQUIRED_COLUMNS:
        if name not in header:
            problems.append((line, name, f"the file has no {name} column; it is required"))
    return list(dict.fromkeys(problems))  # a column named three times is one problem
