"""Tank forecasts remember that a visit since the last level found nobody home
(``maybe_away``): the interval may hold days away, not slow eating.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 20:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tank_forecasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("maybe_away", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("tank_forecasts", schema=None) as batch_op:
        batch_op.drop_column("maybe_away")
