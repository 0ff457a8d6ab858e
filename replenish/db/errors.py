"""Errors raised by the query functions.

Exception tree::

    ValueError
     ├── pydantic.ValidationError   a field is invalid (loc names the field: ``phone``, ...)
     └── DuplicateError             the row already exists (same phone in the shop, ...)
    LookupError
     └── NotFoundError              no such row in this shop
"""

from __future__ import annotations

__all__ = ["DuplicateError", "NotFoundError"]


class DuplicateError(ValueError):
    """The row would repeat one that exists. ``existing_id`` is the row already there."""

    def __init__(self, message: str, *, field: str, existing_id: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.existing_id = existing_id


class NotFoundError(LookupError):
    """No such row in this shop (rows of other shops are never found)."""
