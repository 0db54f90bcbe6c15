"""Ledger of used single-use tokens.

Revision ID: tokens_0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "tokens_0001"
down_revision = None
branch_labels = ("tokens",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "used_token",
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_used_token")),
    )
    op.create_index(op.f("ix_used_token_expires_at"), "used_token", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_used_token_expires_at"), table_name="used_token")
    op.drop_table("used_token")
