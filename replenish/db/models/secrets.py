"""Keys the installation makes for itself (the key that signs courier links and
sessions), kept in the database so that every process of one shop shares them."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from replenish.db.columns import UTCDateTime, utcnow

__all__ = ["AppSecret"]


class AppSecret(SQLModel, table=True):
    __tablename__ = "app_secrets"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
