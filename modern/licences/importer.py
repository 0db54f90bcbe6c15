"""Import of a registry extract (JSON Lines): streaming, idempotent, never stopped by a bad line.

Lines are read one at a time with a length cap, so memory depends on the batch size and not
on the file. Each batch is one transaction: the stored update dates of its licences are read
once, every line gets its outcome in file order, and one upsert writes what is newer
(`ON CONFLICT … DO UPDATE … WHERE` the delivery is newer, so a concurrent import cannot
overwrite a newer row with an older one either).

A caller that wants to know which stored licences changed balance or status (holder alerts)
passes `on_changes`: it is called in the batch's transaction, before the commit, with the old
and new figures of every licence that batch replaced with a different balance or status, so
what it records commits with the rows or not at all. The pre-select that reads the stored
update dates reads the stored balance and status too: knowing what changed costs two columns
per stored licence, and a RETURNING of the rows written when there are changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, Protocol

from sqlalchemy import ARRAY, String, any_, bindparam, column, select, table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from modern.licences.models import Licence
from modern.licences.record import LicenceRecord, RecordError, decode_delivery, encode_record

MAX_LINE_BYTES = 1024 * 1024
BATCH_SIZE = 5000


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


@dataclass(frozen=True)
class Change:
    """A stored licence that a newer delivery gave another balance or status."""

    numero: str
    date_mise_a_jour: dt.datetime  # of the new delivery, UTC: identifies the change
    solde_avant: int
    solde: int
    etat_avant: str
    etat: str


ChangeListener = Callable[[Session, Sequence[Change]], None]


class ImportHooks(Protocol):
    """What another package attaches to registry imports (`app.extensions[IMPORT_HOOKS]`,
    a list): `changed` is the `on_changes` listener; `finished` runs once the whole extract
    is in, in its own transaction, and may return one line for the command's output."""

    def changed(self, session: Session, changes: Sequence[Change]) -> None: ...

    def finished(self, session: Session) -> str | None: ...


IMPORT_HOOKS = "registry_import_hooks"


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
            yield decode_delivery(line)
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
    on_changes: ChangeListener | None = None,
) -> ImportSummary:
    """Imports every valid line of `stream` and commits batch by batch; `on_changes` hears,
    inside each batch's transaction, of the stored licences whose balance or status changed."""
    summary = ImportSummary()

    def reject(number: int, reason: str) -> None:
        summary.rejected += 1
        on_reject(number, reason)

    batch: list[LicenceRecord] = []
    position = 0
    for record in parse_lines(stream, reject):
        batch.append(record)
        if len(batch) >= batch_size:
            _write_batch(session, batch, summary, now, on_changes)
            batch = []
        if on_progress is not None and hasattr(stream, "tell"):
            new_position = stream.tell()
            on_progress(new_position - position)
            position = new_position
    if batch:
        _write_batch(session, batch, summary, now, on_changes)
    summary.read = summary.inserted + summary.replaced + summary.unchanged + summary.rejected
    return summary


def _utc(value: dt.datetime) -> dt.datetime:
    """Update dates are compared in UTC; SQLite hands them back without a zone."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _write_batch(session: Session, batch: list[LicenceRecord], summary: ImportSummary,
                 now: dt.datetime | None, on_changes: ChangeListener | None = None) -> None:
    numeros = {record.numero_dossier for record in batch}
    # numero -> (update date, balance, status) as stored, then as this batch leaves it.
    latest: dict[str, tuple[dt.datetime, int, str]] = {
        numero: (_utc(updated), solde, etat)
        for numero, updated, solde, etat in session.execute(_stored_dates(session), {
            "numeros": list(numeros)})
    }
    winners: dict[str, LicenceRecord] = {}
    # numero -> (balance, status) stored before this batch, for the licences it replaces.
    before: dict[str, tuple[int, str]] = {}
    for record in batch:
        numero = record.numero_dossier
        updated = _utc(record.date_mise_a_jour)
        previous = latest.get(numero)
        if previous is None:
            summary.inserted += 1
        elif updated > previous[0]:
            summary.replaced += 1
            if on_changes is not None and numero not in before:
                before[numero] = (previous[1], previous[2])
        else:
            summary.unchanged += 1
            continue
        latest[numero] = (updated, record.solde, record.etat_permis)
        winners[numero] = record
    if not winners:
        session.rollback()
        return
    changes = [Change(numero, _utc(winners[numero].date_mise_a_jour), solde, winners[numero].solde,
                      etat, winners[numero].etat_permis)
               for numero, (solde, etat) in before.items()
               if (solde, etat) != (winners[numero].solde, winners[numero].etat_permis)]
    imported_at = now or dt.datetime.now(dt.UTC)
    rows = [_row(record, imported_at) for record in winners.values()]
    if session.get_bind().dialect.name == "postgresql":
        written = _copy_upsert(session, rows, returning=bool(changes))
    elif changes:
        written = set(session.connection().execute(
            _upsert().returning(Licence.numero), rows).scalars())
    else:
        session.execute(_upsert(), rows)
        written = None
    if written is not None:
        # A concurrent import may have stored a newer delivery since the pre-select: the
        # upsert skipped those rows, and their change is that import's to report.
        changes = [change for change in changes if change.numero in written]
    if changes and on_changes is not None:
        on_changes(session, changes)
    session.commit()


COLUMNS = ("numero", "nom", "prenoms", "date_naissance", "etat", "solde", "date_mise_a_jour",
           "document", "imported_at")


def _stored_dates(session: Session) -> Any:
    """Update dates, balances and statuses of the batch's stored licences. On PostgreSQL one
    array parameter (`= ANY`), not thousands of IN parameters to render and parse on every
    batch."""
    query = select(Licence.numero, Licence.date_mise_a_jour, Licence.solde, Licence.etat)
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


def _copy_upsert(session: Session, rows: list[dict[str, Any]], *,
                 returning: bool = False) -> set[str] | None:
    """PostgreSQL: COPY the batch into a temporary table, then one upsert from it. Row by row
    statements, even pipelined, cost several times more per licence. With `returning`, the
    file numbers the upsert actually wrote."""
    session.execute(text(
        "CREATE TEMPORARY TABLE IF NOT EXISTS licence_delivery "
        "(LIKE licence INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"))
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(
            f"COPY licence_delivery ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(COLUMN_TYPES)
        for row in rows:
            copy.write_row([row[name] for name in COLUMNS])
    statement = _upsert(select(*_DELIVERY.c))
    if not returning:
        session.execute(statement)
        return None
    # Core, not the ORM: the file numbers come back without ORM result processing.
    return set(session.connection().execute(statement.returning(Licence.numero)).scalars())
