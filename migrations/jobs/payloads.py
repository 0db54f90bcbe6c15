"""The raw lines a chunk holds until it is staged."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from migrations.jobs.models import MigrationChunk

_PAYLOAD_PG = "SELECT payload FROM migration_chunk WHERE job_id = %s AND seq = %s"


def read(session: Session, job_id: int, seq: int) -> bytes:
    """The chunk's lines, in the session's transaction. PostgreSQL sends them in its binary
    format: the text format would double them into hexadecimal, encoded by the server and
    decoded here (about a second of both for a million lines)."""
    if session.get_bind().dialect.name == "postgresql":
        raw = session.connection().connection.driver_connection
        with raw.cursor(binary=True) as cursor:  # type: ignore[union-attr]
            row = cursor.execute(_PAYLOAD_PG, (job_id, seq)).fetchone()
        return bytes(row[0]) if row is not None and row[0] is not None else b""
    return session.scalar(select(MigrationChunk.payload).where(
        MigrationChunk.job_id == job_id, MigrationChunk.seq == seq)) or b""
