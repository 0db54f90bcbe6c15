"""Legacy account migration: parallel run, client census, brownouts.

- `parallel_run_day`, `parallel_run_mismatch`: comparisons of answers given here with the
  legacy backend's, counted per day, kind and result; each mismatch with the masked file
  number and both values.
- `legacy_client`, `legacy_client_day`: each client of the legacy interface (user agent,
  source network, SOAP version, channel) and its requests and failures per day and operation.
- `brownout_window`: planned windows during which a share of legacy requests is refused.

Revision ID: migrations_0006
Revises: migrations_0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "migrations_0006"
down_revision = "migrations_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parallel_run_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "kind", "result", name=op.f("pk_parallel_run_day")),
    )
    op.create_table(
        "parallel_run_mismatch",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("numero", sa.String(24), nullable=False),
        sa.Column("field", sa.String(120), nullable=False),
        sa.Column("here", sa.String(200), nullable=True),
        sa.Column("legacy", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parallel_run_mismatch")),
    )
    op.create_index(op.f("ix_parallel_run_mismatch_at"), "parallel_run_mismatch", ["at"])
    op.create_table(
        "legacy_client",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("user_agent", sa.String(200), nullable=False),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("soap_version", sa.String(4), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legacy_client")),
    )
    op.create_index(op.f("ix_legacy_client_last_seen"), "legacy_client", ["last_seen"])
    op.create_table(
        "legacy_client_day",
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("operation", sa.String(40), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "day", "operation",
                                name=op.f("pk_legacy_client_day")),
    )
    op.create_table(
        "brownout_window",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brownout_window")),
    )


def downgrade() -> None:
    op.drop_table("brownout_window")
    op.drop_table("legacy_client_day")
    op.drop_index(op.f("ix_legacy_client_last_seen"), table_name="legacy_client")
    op.drop_table("legacy_client")
    op.drop_index(op.f("ix_parallel_run_mismatch_at"), table_name="parallel_run_mismatch")
    op.drop_table("parallel_run_mismatch")
    op.drop_table("parallel_run_day")
