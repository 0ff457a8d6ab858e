"""The installation's signing key: from the settings, else made once and kept."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from replenish.db.models import AppSecret
from replenish.settings import Settings

__all__ = ["signing_key"]


def signing_key(*, engine: Engine, settings: Settings) -> str:
    """``web.secret_key`` when set; else the key this database keeps, made and committed
    on first use in a transaction of its own (call it before opening yours: on SQLite a
    second writer would wait for you), so every process of the shop shares it."""
    if settings.web.secret_key:
        return settings.web.secret_key
    with Session(engine) as session:
        row = session.get(AppSecret, "signing")
        if row is not None:
            return row.value
        session.add(AppSecret(name="signing", value=secrets.token_urlsafe(32)))
        try:
            session.commit()
        except IntegrityError:  # another process made it first
            session.rollback()
        made = session.get(AppSecret, "signing")
        assert made is not None
        return made.value
