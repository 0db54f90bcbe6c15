"""The wallet: credentials issued (status list places) and verifiers' presentation requests.

Revision ID: wallet_0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "wallet_0001"
down_revision = None
branch_labels = ("wallet",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_credential",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("numero", sa.String(19), nullable=False),
        sa.Column("status_list", sa.SmallInteger(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("reason", sa.String(20), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_credential")),
        sa.UniqueConstraint("status_list", "status_index",
                            name=op.f("uq_wallet_credential_status_list")),
    )
    op.create_index(op.f("ix_wallet_credential_account_id"), "wallet_credential",
                    ["account_id"])
    op.create_index(op.f("ix_wallet_credential_numero"), "wallet_credential", ["numero"])
    op.create_table(
        "wallet_presentation_request",
        sa.Column("id", sa.String(43), nullable=False),
        sa.Column("state", sa.String(43), nullable=False),
        sa.Column("nonce", sa.String(43), nullable=False),
        sa.Column("claims", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("disclosed", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_presentation_request")),
        sa.UniqueConstraint("state", name=op.f("uq_wallet_presentation_request_state")),
    )
    op.create_index(op.f("ix_wallet_presentation_request_expires_at"),
                    "wallet_presentation_request", ["expires_at"])


def downgrade() -> None:
    op.drop_table("wallet_presentation_request")
    op.drop_table("wallet_credential")
