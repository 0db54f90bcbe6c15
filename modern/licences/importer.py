"""Import of a registry extract (JSON Lines): streaming, idempotent, never stopped by a bad line.

Lines are read one at a time with a length cap, so memory depends on the batch size and not
on the file. Each batch is one transaction: the stored update dates of its licences are read
once, every line gets its outcome in file order, and one upsert writes what is newer
(`ON CONFLICT … DO UPDATE … WHERE` the delivery is newer, so a concurrent import cannot
overwrite a newer row with an older one either).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from modern.licences.models import Licence
from modern.licences.record import LicenceRecord, RecordError, decode_record, encode_record

MAX_LINE_BYTES = 1024 * 1024
BATCH_SIZE = 2000


@dataclass
class ImportSummary:
    read: int = 0
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    rejected: int = 0

    def as_text(self) -> str:
        return (f"read {self.read}, inserted {self.inserted}, replaced {self.replaced}, "
                f"unchanged {self.unchanged}, rejected {self.rejected}")


Rejection = Callable[[int, str], None]


def read_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """Yields (line number, content); content is None for a line over MAX_LINE_BYTES, whose
    bytes are skipped in chunks and never held whole."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (chunk := stream.readline(65536)) and not chunk.endswith(b"\n"):
                pass
            yield number, None
            continue
        yield number, line


def parse_lines(stream: IO[bytes], on_reject: Rejection) -> Iterator[LicenceRecord]:
    """The valid licences of an extract; every other non-blank line is reported once."""
    for number, line in read_lines(stream):
        if line is None:
            on_reject(number, f"line longer than {MAX_LINE_BYTES} bytes")
            continue
        if not line.strip():
            continue
        try:
            yield decode_record(line)
        except RecordError as exc:
            on_reject(number, str(exc))


def import_extract(
    session: Session,
    stream: IO[bytes],
    on_reject: Rejection,
    *,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
    now: dt.datetime | None = None,
) -> ImportSummary:
    """Imports every valid line of `stream` and commits batch by batch."""
    summary = ImportSummary()

    def reject(number: int, reason: str) -> None:
        summary.rejected += 1
        on_reject(number, reason)

    batch: list[LicenceRecord] = []
    position = 0
    for record in parse_lines(stream, reject):
        batch.append(record)
        if len(batch) >= batch_size:
            _write_batch(session, batch, summary, now)
            batch = []
        if on_progress is not None and hasattr(stream, "tell"):
            new_position = stream.tell()
            on_progress(new_position - position)
            position = new_position
    if batch:
        _write_batch(session, batch, summary, now)
    summary.read = summary.inserted + summary.replaced + summary.unchanged + summary.rejected
    return summary


def _utc(value: dt.datetime) -> dt.datetime:
    """Update dates are compared in UTC; SQLite hands them back without a zone."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _write_batch(session: Session, batch: list[LicenceRecord], summary: ImportSummary,
                 now: dt.datetime | None) -> None:
    numeros = {record.numero_dossier for record in batch}
    latest: dict[str, dt.datetime] = {
        numero: _utc(updated) for numero, updated in session.execute(
            select(Licence.numero, Licence.date_mise_a_jour).where(Licence.numero.in_(numeros)))
    }
    winners: dict[str, LicenceRecord] = {}
    for record in batch:
        numero = record.numero_dossier
        updated = _utc(record.date_mise_a_jour)
        previous = latest.get(numero)
        if previous is None:
            summary.inserted += 1
        elif updated > previous:
            summary.replaced += 1
        else:
            summary.unchanged += 1
            continue
        latest[numero] = updated
        winners[numero] = record
    if not winners:
        session.rollback()
        return
    imported_at = now or dt.datetime.now(dt.UTC)
    rows = [_row(record, imported_at) for record in winners.values()]
    session.execute(_upsert(session), rows)
    session.commit()


def _row(record: LicenceRecord, imported_at: dt.datetime) -> dict[str, Any]:
    return {
        "numero": record.numero_dossier,
        "nom": record.titulaire.nom,
        "prenoms": record.titulaire.prenoms,
        "date_naissance": record.titulaire.date_naissance,
        "etat": record.etat_permis,
        "solde": record.solde,
        "date_mise_a_jour": _utc(record.date_mise_a_jour),
        "document": encode_record(record),
        "imported_at": imported_at,
    }


def _upsert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Licence)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[Licence.numero],
        set_={name: excluded[name] for name in (
            "nom", "prenoms", "date_naissance", "etat", "solde", "date_mise_a_jour",
            "document", "imported_at")},
        where=excluded.date_mise_a_jour > Licence.date_mise_a_jour,
    )
