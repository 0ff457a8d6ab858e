"""The people who sign in to the web app: a shop's owner and staff.

Each user belongs to one shop and sees only that shop. ``password_hash`` is argon2id
(argon2-cffi); the password itself is never stored. ``api_token_hash`` is the SHA-256 of
the user's API token (shown once when made) for ``/api/v1`` with ``Authorization:
Bearer``.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from replenish.core.types import Locale
from replenish.db.columns import UTCDateTime, text_enum, utcnow

__all__ = ["User"]


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    email: str = Field(max_length=254, unique=True)  # lower case
    name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=200)
    locale: Locale = Field(default=Locale.ZH_TW, sa_type=text_enum(Locale))
    api_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
