"""Télépoints compatibility: confidential codes (keyed hashes) and holders' contact details.

Revision ID: compat_0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "compat_0001"
down_revision = None
branch_labels = ("compat",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "confidential_code",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("numero", sa.String(19), nullable=False),
        sa.Column("scheme", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("salt", sa.String(32), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(10), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_for_modern_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confidential_code")),
    )
    op.create_index(op.f("ix_confidential_code_numero"), "confidential_code", ["numero"])
    op.create_table(
        "holder_contact",
        sa.Column("numero", sa.String(19), nullable=False),
        sa.Column("mobile", sa.String(16), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("numero", name=op.f("pk_holder_contact")),
    )


def downgrade() -> None:
    op.drop_table("holder_contact")
    op.drop_index(op.f("ix_confidential_code_numero"), table_name="confidential_code")
    op.drop_table("confidential_code")
