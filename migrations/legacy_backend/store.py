"""The legacy backend's own database: accounts as the legacy export describes them, and the
licence summary it answers `ConsulterSolde` with. Its own metadata and engine: nothing here is
shared with the service's database."""

from __future__ import annotations

import datetime as dt
from typing import IO

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    select,
)
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Engine

from migrations.export.reader import chunk_lines, read_chunks
from migrations.export.rows import LegacyAccount, parse_line
from modern.licences.importer import parse_lines
from modern.licences.record import encode_record

metadata = MetaData()
accounts = Table(
    "legacy_account", metadata,
    Column("numero", String(19), primary_key=True),
    Column("empreinte", String(80), nullable=False),
    Column("emis_le", Date, nullable=False),
    Column("valide_jusqu_au", DateTime, nullable=True),  # UTC, exclusive
    Column("echecs", Integer, nullable=False),
    Column("bloque_jusqu_au", DateTime, nullable=True),  # UTC
    Column("statut", String(8), nullable=False),
)
licences = Table(
    "legacy_licence", metadata,
    Column("numero", String(19), primary_key=True),
    Column("document", LargeBinary, nullable=False),
)


def engine_for(path: str) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 10})
    metadata.create_all(engine)
    return engine


def load_export(engine: Engine, stream: IO[bytes]) -> int:
    """Accounts of a legacy export; of two lines for one file, the most recent code wins."""
    count = 0
    with engine.begin() as connection:
        for chunk in read_chunks(stream):
            for _line, raw in chunk_lines(chunk.payload, chunk.first_line):
                row = parse_line(raw)
                if not isinstance(row, LegacyAccount):
                    continue
                values = {"numero": row.numero,
                          "empreinte": f"{row.fingerprint.scheme}:{row.fingerprint.salt or ''}:"
                                       f"{row.fingerprint.inner}",
                          "emis_le": row.issued_on, "valide_jusqu_au": _naive(row.expires_at),
                          "echecs": row.failures, "bloque_jusqu_au": _naive(row.locked_until),
                          "statut": row.statut}
                statement = insert(accounts).values(**values)
                connection.execute(statement.on_conflict_do_update(
                    index_elements=[accounts.c.numero], set_=values,
                    where=accounts.c.emis_le < statement.excluded.emis_le))
                count += 1
    return count


def load_registry(engine: Engine, stream: IO[bytes]) -> int:
    count = 0
    with engine.begin() as connection:
        for record in parse_lines(stream, lambda _n, _r: None):
            statement = insert(licences).values(numero=record.numero_dossier,
                                                document=encode_record(record))
            connection.execute(statement.on_conflict_do_update(
                index_elements=[licences.c.numero],
                set_={"document": statement.excluded.document}))
            count += 1
    return count


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC).replace(tzinfo=None)


def account(engine: Engine, numero: str) -> dict[str, object] | None:
    with engine.connect() as connection:
        row = connection.execute(select(accounts).where(accounts.c.numero == numero)).first()
    return None if row is None else dict(row._mapping)
