"""The words of a registration: its columns, how each value is written, and its errors.

``COLUMNS`` are the fields of ``CustomerRegistration`` in order (the CSV columns and,
spelled with ``-``, the options of ``replenish customer add``); ``REQUIRED_COLUMNS``
must be in every file; ``MEASURES`` are a tank's sizes; ``EXAMPLES`` show how a value
is written, after "write it like" when one is wrong or missing, and
``validation_problems`` words pydantic's errors that way. The two errors carry every
problem found, named by the field as the owner typed it.

Exception tree::

    ValueError
     ├── RegistrationError     one customer: problems = [(field, message), ...]
     └── CustomerImportError   a file: problems = [(line, field, message), ...];
                               nothing was written
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

__all__ = [
    "COLUMNS",
    "EXAMPLES",
    "MEASURES",
    "REQUIRED_COLUMNS",
    "WINDOW_EXAMPLE",
    "CustomerImportError",
    "RegistrationError",
    "column_order",
    "validation_problems",
]

# The fields of CustomerRegistration, in order (a test holds the two together).
COLUMNS: tuple[str, ...] = (
    "name", "phone", "address", "lat", "lon", "language", "notes", "habits", "product",
    "mode", "courier", "time_windows", "adults", "children", "elders", "eats_at_home",
    "shape", "diameter_cm", "width_cm", "depth_cm", "height_cm", "capacity", "fill_cm",
    "level", "measured_at",
)
REQUIRED_COLUMNS = ("name", "phone", "shape")
MEASURES = ("diameter_cm", "width_cm", "depth_cm", "height_cm", "capacity")

# How a value is written, shown after "write it like" when one is wrong or missing.
EXAMPLES = {
    "name": "王太太 or Dave Miller",
    "phone": "0912 345 678 or +886 912 345 678",
    "lat": "22.9908 (read it off a map)",
    "lon": "120.2133 (read it off a map)",
    "adults": "2",
    "children": "1",
    "elders": "0",
    "eats_at_home": "1 (every meal at home), 0.5 or 50%",
    "shape": "cylinder, box or capacity",
    "diameter_cm": "40 (the inside diameter, in cm)",
    "width_cm": "30 (inside, in cm)",
    "depth_cm": "40 (inside, front to back, in cm)",
    "height_cm": "60 (inside, in cm)",
    "capacity": "3 (how much the tank holds, in the product's unit)",
    "fill_cm": "20 (depth of product standing in the tank, in cm)",
    "level": "8.5 (the amount in the tank now, in the product's unit)",
    "measured_at": "2026-11-20T10:00 (shop time) or 2026-11-20",
    "time_windows": "mon-fri 17:00-21:00; sat 09:00-12:00",
}
WINDOW_EXAMPLE = f"write windows like '{EXAMPLES['time_windows']}'"


def column_order(field: str) -> int:
    """Problems are listed in the order of the columns (others last)."""
    return COLUMNS.index(field) if field in COLUMNS else len(COLUMNS)


class RegistrationError(ValueError):
    """One customer cannot be registered (or changed). ``problems``: ``[(field, message)]``."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.problems))


class CustomerImportError(ValueError):
    """A file that cannot be imported; nothing was written.

    ``problems``: ``[(line, field, message)]``, by line, every problem of every row.
    """

    def __init__(self, problems: Iterable[tuple[int, str, str]]) -> None:
        self.problems = sorted(problems, key=lambda p: (p[0], column_order(p[1])))
        super().__init__("\n".join(f"line {n}: {field}: {msg}" for n, field, msg in self.problems))


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _explain(field: str, item: ErrorDetails) -> str:
    """A pydantic error as the owner should read it."""
    kind, value, ctx = item["type"], item.get("input"), item.get("ctx") or {}
    like = f"; write it like {EXAMPLES[field]}" if field in EXAMPLES else ""
    if kind == "missing":
        return f"is required{like}"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"{value!r} is not a whole number{like}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"{value!r} is not a number{like}"
    if kind == "greater_than":
        return f"{_show(value)} must be more than {_show(ctx['gt'])}{like}"
    if kind == "greater_than_equal":
        bound = "cannot be negative" if ctx["ge"] == 0 else f"must be {_show(ctx['ge'])} or more"
        return f"{_show(value)} {bound}{like}"
    if kind == "less_than_equal":
        return f"{_show(value)} must be at most {_show(ctx['le'])}{like}"
    if kind == "enum":
        return f"{value!r} is not one of {ctx['expected']}"
    if kind == "string_too_long":
        return f"is too long: at most {ctx['max_length']} characters"
    if kind.startswith(("datetime", "date")):
        return f"{value!r} is not a date and time{like}"
    if kind == "extra_forbidden":
        return f"is not a known column; the columns are: {', '.join(COLUMNS)}"
    return str(item["msg"]).removeprefix("Value error, ")


def validation_problems(error: ValidationError) -> list[tuple[str, str]]:
    """Every problem pydantic found, as ``(field, message)`` the owner can act on."""
    problems = []
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "row"
        problems.append((field, _explain(field, item)))
    return problems
