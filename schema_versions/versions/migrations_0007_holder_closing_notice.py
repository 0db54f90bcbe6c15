"""Legacy account migration: the holders told that Télépoints closes (once each).

Revision ID: migrations_0007
Revises: migrations_0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "migrations_0007"
down_revision = "migrations_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holder_closing_notice",
        sa.Column("numero", sa.String(19), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("numero", name=op.f("pk_holder_closing_notice")),
    )


def downgrade() -> None:
    op.drop_table("holder_closing_notice")
