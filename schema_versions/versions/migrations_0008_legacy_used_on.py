"""Legacy account migration: the last day a legacy client used a migrated file's code here.

Revision ID: migrations_0008
Revises: migrations_0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "migrations_0008"
down_revision = "migrations_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("migrated_account") as table:
        table.add_column(sa.Column("legacy_used_on", sa.Date(), nullable=True))
        table.create_index(op.f("ix_migrated_account_legacy_used_on"), ["legacy_used_on"])


def downgrade() -> None:
    with op.batch_alter_table("migrated_account") as table:
        table.drop_index(op.f("ix_migrated_account_legacy_used_on"))
        table.drop_column("legacy_used_on")
