"""Legacy account migration: a lease on running jobs, and no foreign key on each line.

- `migration_job.heartbeat_at`: renewed by every live worker of the job; a running job whose
  heartbeat is older than the lease has no worker left, and the next worker takes it up.
- `migration_entry` loses its foreign key to the job: checked row by row, it cost more than
  the COPY of the lines itself (a million trigger calls on a million-line export). The lines
  of a job are only ever written by its workers and deleted with it (`delete_job`).

Revision ID: migrations_0002
Revises: migrations_0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "migrations_0002"
down_revision = "migrations_0001"
branch_labels = None
depends_on = None

ENTRY_FK = "fk_migration_entry_job_id_migration_job"


def upgrade() -> None:
    with op.batch_alter_table("migration_job") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("migration_entry") as batch:
        batch.drop_constraint(op.f(ENTRY_FK), type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("migration_entry") as batch:
        batch.create_foreign_key(op.f(ENTRY_FK), "migration_job", ["job_id"], ["id"],
                                 ondelete="CASCADE")
    with op.batch_alter_table("migration_job") as batch:
        batch.drop_column("heartbeat_at")
