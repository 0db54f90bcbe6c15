"""Legacy account migration: later exports.

- `migration_chunk.updated`: the chunk's lines `MIS_A_JOUR` (a file already migrated whose
  code the legacy operator reissued since; the line's code replaced the one held here).

Revision ID: migrations_0005
Revises: migrations_0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "migrations_0005"
down_revision = "migrations_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("migration_chunk") as batch:
        batch.add_column(sa.Column("updated", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("migration_chunk") as batch:
        batch.drop_column("updated")
