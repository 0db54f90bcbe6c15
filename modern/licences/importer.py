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

from sqlalchemy import ARRAY, String, any_, bindparam, column, select, table, text
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
        numero: _utc(updated) for numero, updated in session.execute(_stored_dates(session), {
            "numeros": list(numeros)})
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
    if session.get_bind().dialect.name == "postgresql":
        _copy_upsert(session, rows)
    else:
        session.execute(_upsert(), rows)
    session.commit()


COLUMNS = ("numero", "nom", "prenoms", "date_naissance", "etat", "solde", "date_mise_a_jour",
           "document", "imported_at")


def _stored_dates(session: Session) -> Any:
    """Update dates of the batch's stored licences. On PostgreSQL one array parameter
    (`= ANY`), not thousands of IN parameters to render and parse on every batch."""
    query = select(Licence.numero, Licence.date_mise_a_jour)
    if session.get_bind().dialect.name == "postgresql":
        return query.where(Licence.numero == any_(bindparam("numeros", type_=ARRAY(String))))
    return query.where(Licence.numero.in_(bindparam("numeros", expanding=True)))


COLUMN_TYPES = ("varchar", "varchar", "varchar", "date", "varchar", "int2", "timestamptz", "bytea",
                "timestamptz")


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


def _upsert(source: Any = None) -> Any:
    """INSERT … ON CONFLICT DO UPDATE only where the delivery is newer; from `source` (a
    SELECT) on PostgreSQL, from bound rows on SQLite."""
    statement: Any
    if source is None:
        statement = sqlite.insert(Licence)
    else:
        statement = postgresql.insert(Licence).from_select(list(COLUMNS), source)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[Licence.numero],
        set_={name: excluded[name] for name in COLUMNS if name != "numero"},
        where=excluded.date_mise_a_jour > Licence.date_mise_a_jour,
    )


_DELIVERY = table("licence_delivery", *(column(name) for name in COLUMNS))


def _copy_upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: COPY the batch into a temporary table, then one upsert from it. Row by row
    statements, even pipelined, cost several times more per licence."""
    session.execute(text(
        "CREATE TEMPORARY TABLE IF NOT EXISTS licence_delivery "
        "(LIKE licence INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"))
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(
            f"COPY licence_delivery ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(COLUMN_TYPES)
        for row in rows:
            copy.write_row([row[name] for name in COLUMNS])
    session.execute(_upsert(select(*_DELIVERY.c)))
