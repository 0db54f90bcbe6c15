"""Legacy account migration: the file numbers of a job are read before its lines are staged.

- `migration_scan`: one row per job whose file numbers were read before any line was staged
  (`early`: its lines are applied as they are staged), or, for a job staged without it, made
  at the barrier (not `early`: its lines all waited for it).
- `migration_repeat`: the lines whose file number appears in more than one chunk; they alone
  wait for the barrier, where duplicates are ranked.

Both are deleted with their job.

Revision ID: migrations_0004
Revises: migrations_0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "migrations_0004"
down_revision = "migrations_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "migration_scan",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("early", sa.Boolean(), nullable=False),
        sa.Column("repeated", sa.Integer(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["migration_job.id"], ondelete="CASCADE",
                                name=op.f("fk_migration_scan_job_id_migration_job")),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_migration_scan")),
    )
    op.create_table(
        "migration_repeat",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["migration_job.id"], ondelete="CASCADE",
                                name=op.f("fk_migration_repeat_job_id_migration_job")),
        sa.PrimaryKeyConstraint("job_id", "line", name=op.f("pk_migration_repeat")),
    )


def downgrade() -> None:
    op.drop_table("migration_repeat")
    op.drop_table("migration_scan")
