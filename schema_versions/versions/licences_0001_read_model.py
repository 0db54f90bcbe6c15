"""Licence read model.

Revision ID: licences_0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "licences_0001"
down_revision = None
branch_labels = ("licences",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "licence",
        sa.Column("numero", sa.String(19), nullable=False),
        sa.Column("nom", sa.String(100), nullable=False),
        sa.Column("prenoms", sa.String(200), nullable=False),
        sa.Column("date_naissance", sa.Date(), nullable=False),
        sa.Column("etat", sa.String(10), nullable=False),
        sa.Column("solde", sa.SmallInteger(), nullable=False),
        sa.Column("date_mise_a_jour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("numero", name=op.f("pk_licence")),
    )


def downgrade() -> None:
    op.drop_table("licence")
