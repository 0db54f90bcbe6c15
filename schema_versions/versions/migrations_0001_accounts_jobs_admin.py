"""Legacy account migration: migrated accounts, jobs, chunks, entries, cutover, admin.

Revision ID: migrations_0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "migrations_0001"
down_revision = None
branch_labels = ("migrations",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "migrated_account",
        sa.Column("numero", sa.String(19), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("migrated_at", TZ, nullable=False),
        sa.Column("legacy_statut", sa.String(8), nullable=False),
        sa.Column("legacy_issued_on", sa.Date(), nullable=True),
        sa.Column("legacy_failures", sa.Integer(), nullable=False),
        sa.Column("legacy_locked_until", TZ, nullable=True),
        sa.Column("legacy_created_at", TZ, nullable=True),
        sa.Column("legacy_last_login", TZ, nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("code_imported", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("numero", name=op.f("pk_migrated_account")),
    )
    op.create_index(op.f("ix_migrated_account_migrated_at"), "migrated_account",
                    ["migrated_at"])
    op.create_table(
        "migration_job",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("phase", sa.String(8), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("source_bytes", sa.BigInteger(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migration_job")),
    )
    op.create_table(
        "migration_chunk",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("first_line", sa.Integer(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("migrated", sa.Integer(), nullable=False),
        sa.Column("ignored_doublon", sa.Integer(), nullable=False),
        sa.Column("ignored_clos", sa.Integer(), nullable=False),
        sa.Column("ignored_deja_migre", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["migration_job.id"], ondelete="CASCADE",
                                name=op.f("fk_migration_chunk_job_id_migration_job")),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("pk_migration_chunk")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Raw export lines do not compress enough to pay for it: stored as they are.
        op.execute("ALTER TABLE migration_chunk ALTER COLUMN payload SET STORAGE EXTERNAL")
    op.create_table(
        "migration_entry",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("numero_raw", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("motif", sa.String(200), nullable=True),
        sa.Column("numero", sa.String(19), nullable=True),
        sa.Column("statut", sa.String(8), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("scheme", sa.String(16), nullable=True),
        sa.Column("salt", sa.String(32), nullable=True),
        sa.Column("key_id", sa.String(16), nullable=True),
        sa.Column("digest", sa.String(64), nullable=True),
        sa.Column("issued_at", TZ, nullable=True),
        sa.Column("expires_at", TZ, nullable=True),
        sa.Column("mobile", sa.String(16), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=True),
        sa.Column("locked_until", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=True),
        sa.Column("last_login", TZ, nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["migration_job.id"], ondelete="CASCADE",
                                name=op.f("fk_migration_entry_job_id_migration_job")),
        sa.PrimaryKeyConstraint("job_id", "line", name=op.f("pk_migration_entry")),
    )
    op.create_table(
        "migration_cutover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migration_cutover")),
    )
    op.create_table(
        "migration_legacy_traffic",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "result", name=op.f("pk_migration_legacy_traffic")),
    )
    op.create_table(
        "admin_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_token")),
        sa.UniqueConstraint("name", name=op.f("uq_admin_token_name")),
        sa.UniqueConstraint("digest", name=op.f("uq_admin_token_digest")),
    )
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("client", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit")),
    )
    op.create_index(op.f("ix_admin_audit_at"), "admin_audit", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_admin_audit_at"), table_name="admin_audit")
    op.drop_table("admin_audit")
    op.drop_table("admin_token")
    op.drop_table("migration_legacy_traffic")
    op.drop_table("migration_cutover")
    op.drop_table("migration_entry")
    op.drop_table("migration_chunk")
    op.drop_table("migration_job")
    op.drop_index(op.f("ix_migrated_account_migrated_at"), table_name="migrated_account")
    op.drop_table("migrated_account")
