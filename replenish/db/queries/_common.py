"""Helpers shared by the query modules."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from replenish.db.errors import NotFoundError

T = TypeVar("T", bound=SQLModel)


def get_owned(session: Session, model: type[T], *, shop_id: int, row_id: int) -> T:
    """The row ``row_id`` of ``model`` if it belongs to ``shop_id``, else NotFoundError."""
    row = session.get(model, row_id)
    if row is None or getattr(row, "shop_id", None) != shop_id:
        name = getattr(model, "__tablename__", model.__name__)
        raise NotFoundError(f"no {name} row with id {row_id} in shop {shop_id}")
    return row


def check_reference(
    session: Session, model: type[SQLModel], *, shop_id: int, row_id: int | None, field: str
) -> None:
    """Refuse a reference (``courier_id``, ``product_id`` ...) to another shop's row."""
    if row_id is None:
        return
    row = session.get(model, row_id)
    if row is None or getattr(row, "shop_id", None) != shop_id:
        raise ValueError(f"{field}: no such row (id {row_id}) in this shop")


def validate_update(
    row: T, update_in: SQLModel, *, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The changes in ``update_in`` (fields it sets), validated against the whole row.

    The row is validated again as it would be after the update, so rules that tie
    fields together (a tank's shape and its measurements, open before close) still
    hold. ``row`` is not touched: check what else you need, then ``apply_changes``.
    """
    changes = update_in.model_dump(exclude_unset=True)
    validated = type(row).model_validate(row.model_dump() | changes, context=context)
    return {key: getattr(validated, key) for key in changes}


def apply_changes(row: SQLModel, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        setattr(row, key, value)


def apply_update(
    row: T, update_in: SQLModel, *, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``validate_update`` then ``apply_changes``; returns the changes applied."""
    changes = validate_update(row, update_in, context=context)
    apply_changes(row, changes)
    return changes


def dialect_insert(dialect: str, table: sa.Table) -> Any:
    """An INSERT that knows ON CONFLICT, for this database."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
