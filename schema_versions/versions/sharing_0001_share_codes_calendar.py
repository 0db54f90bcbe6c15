"""Share codes for third parties, their looks, and calendar subscriptions.

Revision ID: sharing_0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "sharing_0001"
down_revision = None
branch_labels = ("sharing",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_code",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("numero", sa.String(19), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("name_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_share_code_code_hash")),
    )
    op.create_index(op.f("ix_share_code_account_id"), "share_code", ["account_id"])
    op.create_index(op.f("ix_share_code_expires_at"), "share_code", ["expires_at"])
    op.create_table(
        "share_look",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("looked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(["share_id"], ["share_code.id"], ondelete="CASCADE",
                                name=op.f("fk_share_look_share_id_share_code")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_look")),
    )
    op.create_index(op.f("ix_share_look_share_id"), "share_look", ["share_id"])
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("numero", sa.String(19), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("points_in_titles", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_token_hash")),
    )
    op.create_index(op.f("ix_calendar_feed_account_id"), "calendar_feed", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_calendar_feed_account_id"), table_name="calendar_feed")
    op.drop_table("calendar_feed")
    op.drop_index(op.f("ix_share_look_share_id"), table_name="share_look")
    op.drop_table("share_look")
    op.drop_index(op.f("ix_share_code_expires_at"), table_name="share_code")
    op.drop_index(op.f("ix_share_code_account_id"), table_name="share_code")
    op.drop_table("share_code")
