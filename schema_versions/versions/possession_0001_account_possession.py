"""Proof of possession of an account: how the account proved the file is its holder's, and
the activation code sent to the contact on file, kept as a keyed hash.

Its own branch, without a foreign key to `account` (see modern/accounts/README.md). Accounts
already there keep what they proved: FranceConnect (linked only on a matching identity) and
the Télépoints code or activation link; an account opened on identity alone proved nothing.

Revision ID: possession_0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "possession_0001"
down_revision = None
branch_labels = ("possession",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_possession",
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("numero", sa.String(19), nullable=False),
        sa.Column("proof", sa.String(16), nullable=True),
        sa.Column("proved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_digest", sa.String(64), nullable=True),
        sa.Column("code_channel", sa.String(10), nullable=True),
        sa.Column("code_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sends_day", sa.Date(), nullable=True),
        sa.Column("sends", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_possession")),
    )
    op.create_index(op.f("ix_account_possession_numero"), "account_possession", ["numero"])
    # The accounts branch may run after this one on an empty database: nothing to carry then.
    if sa.inspect(op.get_bind()).has_table("account"):
        op.execute(
            "INSERT INTO account_possession (account_id, numero, proof, proved_at, sends) "
            "SELECT id, numero, CASE WHEN fc_sub IS NOT NULL THEN 'franceconnect' ELSE proof "
            "END, COALESCE(fc_linked_at, created_at), 0 FROM account "
            "WHERE fc_sub IS NOT NULL OR proof IN ('code', 'activation', 'franceconnect')")


def downgrade() -> None:
    op.drop_index(op.f("ix_account_possession_numero"), table_name="account_possession")
    op.drop_table("account_possession")
