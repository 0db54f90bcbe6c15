"""Legacy account migration: what the retention purge leaves behind.

- `migration_job.purged_at`: the job's lines (its report) were purged at the end of their
  retention period; its counts remain, and it can no longer be resumed.
- `migrated_account.legacy_purged_at`: the copy of the legacy account's data was cleared at
  the end of the revert window; the migration can no longer be reverted.

Revision ID: migrations_0003
Revises: migrations_0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "migrations_0003"
down_revision = "migrations_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("migration_job") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("migrated_account") as batch:
        batch.add_column(sa.Column("legacy_purged_at", sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("migrated_account") as batch:
        batch.drop_column("legacy_purged_at")
    with op.batch_alter_table("migration_job") as batch:
        batch.drop_column("purged_at")
