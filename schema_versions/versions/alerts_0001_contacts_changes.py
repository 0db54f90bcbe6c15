"""Holder alerts: confirmed contacts (e-mail, SMS) and the registry changes still to tell.

Revision ID: alerts_0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "alerts_0001"
down_revision = None
branch_labels = ("alerts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_contact",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("numero", sa.String(19), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_contact")),
        sa.UniqueConstraint("account_id", "channel", name=op.f("uq_alert_contact_account_id")),
    )
    op.create_index(op.f("ix_alert_contact_account_id"), "alert_contact", ["account_id"])
    op.create_index(op.f("ix_alert_contact_numero"), "alert_contact", ["numero"])
    op.create_table(
        "alert_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("numero", sa.String(19), nullable=False),
        sa.Column("date_mise_a_jour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("solde_avant", sa.SmallInteger(), nullable=False),
        sa.Column("solde", sa.SmallInteger(), nullable=False),
        sa.Column("etat_avant", sa.String(10), nullable=False),
        sa.Column("etat", sa.String(10), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("messages", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_change")),
        sa.UniqueConstraint("numero", "date_mise_a_jour", name=op.f("uq_alert_change_numero")),
    )
    op.create_index("ix_alert_change_pending", "alert_change", ["id"],
                    sqlite_where=sa.text("sent_at IS NULL"),
                    postgresql_where=sa.text("sent_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_alert_change_pending", table_name="alert_change")
    op.drop_table("alert_change")
    op.drop_index(op.f("ix_alert_contact_numero"), table_name="alert_contact")
    op.drop_index(op.f("ix_alert_contact_account_id"), table_name="alert_contact")
    op.drop_table("alert_contact")
