"""Users of the web app: made with a hashed password, checked at sign-in."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from replenish.core.types import Locale
from replenish.db.errors import DuplicateError
from replenish.db.models import Shop, User

__all__ = ["MIN_PASSWORD", "authenticate", "create_user", "new_api_token", "user_for_token"]

MIN_PASSWORD = 8
_HASHER = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# a hash to verify against when the email is unknown, so that both take as long
_DUMMY = _HASHER.hash("not a password of anyone")


def create_user(*, session: Session, shop: Shop, email: str, password: str, name: str = "",
                locale: Locale | None = None) -> User:
    """A new user of ``shop`` (flush, no commit). ValueError names the field to fix."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ValueError(f"email {email!r} is not an email address; write it like "
                         "owner@example.com")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password: at least {MIN_PASSWORD} characters, please")
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise DuplicateError(f"email {email!r} already has an account")
    user = User(shop_id=shop.id or 0, email=email, name=name.strip(),
                password_hash=_HASHER.hash(password), locale=locale or shop.locale)
    session.add(user)
    session.flush()
    return user


def authenticate(*, session: Session, email: str, password: str, now: datetime) -> User | None:
    """The active user with this email and password, or None (flush, no commit)."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    try:
        if user is None or not user.active:
            _HASHER.verify(_DUMMY, password)  # the same work either way
            return None
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    user.last_login_at = now
    session.add(user)
    session.flush()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token(*, session: Session, user: User) -> str:
    """A new API token for ``user`` (the old one stops working); shown once, kept hashed."""
    token = "rpl_" + secrets.token_urlsafe(32)
    user.api_token_hash = _digest(token)
    session.add(user)
    session.flush()
    return token


def user_for_token(*, session: Session, token: str) -> User | None:
    user = session.exec(select(User).where(User.api_token_hash == _digest(token))).first()
    return user if user is not None and user.active else None
