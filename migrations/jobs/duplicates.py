# ruff: noqa: S608 - the SQL texts below interpolate this module's constants only; every
# value is a bound parameter.
"""Duplicates: the lines of one file number, of which one is migrated.

The rule (contract section 2): among the lines of one file that take part (MIGRE or
IGNORE_CLOS), the most recent `CODE_EMIS_LE` wins, then the first line; the others become
IGNORE_DOUBLON. Closed accounts take part: a closing more recent than the code wins, and
nothing is migrated.

A line can be applied as soon as nothing can take its place any more. So the file number of
every line is read as the job is created, from the chunks on their way to the database
(`RepeatFinder`, some 2 µs a line), and the lines whose file number appears in more than one
chunk are recorded (`migration_repeat`); they alone wait for the barrier between the phases.
A job created by an earlier version, without that record, is scanned by its first worker
before any line is staged (`scan`). A file number repeated inside one chunk is ranked when
that chunk is staged (`rank_within`); every other line is applied in the same transaction as
its staging. After the barrier the recorded lines are ranked
(`mark_duplicates`) and applied.

A job staged before scans existed (its chunks were staged by an earlier version) has no scan:
its lines all wait for the barrier, where its repeated file numbers are found among its
entries, and ranked the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from array import array
from collections import Counter
from collections.abc import Iterator
from itertools import islice, pairwise
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from migrations.export.rows import file_numbers
from migrations.jobs import payloads
from migrations.jobs.models import (
    ENTRY_COLUMNS,
    IGNORE_CLOS,
    IGNORE_DOUBLON,
    MIGRE,
    PENDING,
    MigrationChunk,
)
from modern.db import db


class MigrationScan(db.Model):  # type: ignore[name-defined]
    """The job's file numbers were read before any line was staged (`early`), or the job
    was staged without it and its lines all waited for the barrier (not `early`)."""

    __tablename__ = "migration_scan"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("migration_job.id", ondelete="CASCADE"), primary_key=True)
    early: Mapped[bool] = mapped_column(Boolean)
    repeated: Mapped[int] = mapped_column(Integer)  # lines recorded in migration_repeat
    scanned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class MigrationRepeat(db.Model):  # type: ignore[name-defined]
    """A line whose file number appears in another chunk too: it is ranked and applied
    after the barrier."""

    __tablename__ = "migration_repeat"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("migration_job.id", ondelete="CASCADE"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# -- before the first chunk is staged --------------------------------------------------------

def applies_early(session: Session, job_id: int) -> bool | None:
    """True: the job was scanned, its lines are applied as they are staged; False: it was
    staged without a scan (by an earlier version), every line waits for the barrier; None:
    not scanned yet and nothing staged, `scan` comes first."""
    scan = session.get(MigrationScan, job_id)
    if scan is not None:
        return scan.early
    staged = session.scalar(select(MigrationChunk.seq).where(
        MigrationChunk.job_id == job_id, MigrationChunk.status != PENDING).limit(1))
    return None if staged is None else False


# Taking the scan's row first makes the other workers of the job wait on it (PostgreSQL)
# until the scan is committed; a scanning worker that dies frees it for the next one.
_TAKE_SCAN = text("""
INSERT INTO migration_scan (job_id, early, repeated, scanned_at) VALUES (:job, TRUE, 0, :now)
ON CONFLICT (job_id) DO NOTHING
""")
_CHUNKS = text("SELECT seq, first_line FROM migration_chunk WHERE job_id = :job ORDER BY seq")
_HOLD = text("INSERT INTO migration_repeat (job_id, line) VALUES (:job, :line)")


def scan(session: Session, job_id: int, now: dt.datetime) -> int:
    """Records the lines whose file number appears in more than one chunk, and the scan
    itself, reading the chunks back; returns how many lines were recorded (0 when another
    worker had scanned)."""
    if not session.execute(_TAKE_SCAN, {"job": job_id, "now": now}).rowcount:  # type: ignore[attr-defined]
        return 0
    finder = RepeatFinder()
    for seq, first_line in session.execute(_CHUNKS, {"job": job_id}).all():
        finder.add(first_line, file_numbers(payloads.read(session, job_id, seq)))
    recorded = _hold(session, job_id, finder)
    session.execute(text("UPDATE migration_scan SET repeated = :n WHERE job_id = :job"),
                    {"n": recorded, "job": job_id})
    return recorded


def record_scan(session: Session, job_id: int, finder: RepeatFinder, now: dt.datetime) -> int:
    """Records what `finder` found while a new job's chunks were written, as `scan` would;
    returns how many lines wait for the barrier."""
    recorded = _hold(session, job_id, finder)
    session.add(MigrationScan(job_id=job_id, early=True, repeated=recorded, scanned_at=now))
    return recorded


def _hold(session: Session, job_id: int, finder: RepeatFinder) -> int:
    lines = finder.lines()
    recorded = 0
    while batch := list(islice(lines, 10_000)):
        session.execute(_HOLD, [{"job": job_id, "line": line} for line in batch])
        recorded += len(batch)
    return recorded


_NO_NUMBER = -(2 ** 63)  # the key of a line without a file number: it takes part in nothing
_LOW_BYTE = 255


def _key(numero: str | None) -> int:
    """A file number as a 64-bit integer: the usual digits as their value, other numbers by
    a 56-bit hash (negative). The lines of one file always share their key; should two files
    share one ("0012345" and "12345", or a hash collision), both are merely held for the
    barrier, which ranks by the number itself."""
    if numero is None:
        return _NO_NUMBER
    if len(numero) < 19 and numero.isdigit():  # below 10^18: fits
        return int(numero)
    return -1 - int.from_bytes(hashlib.blake2b(numero.encode(), digest_size=7).digest(), "big")


class RepeatFinder:
    """The lines whose file number appears in more than one chunk. `add` each chunk's first
    line and its lines' file numbers, in file order; then `lines`. Memory: two 8-byte keys
    a line (16 MB for a million lines), freed with the finder."""

    def __init__(self) -> None:
        self._keys = array("q")  # one per line, in file order
        # The distinct keys of each chunk, spread by their low byte so that each share sorts
        # in a short list: equal neighbours then come from two chunks.
        self._shares = [array("q") for _ in range(_LOW_BYTE + 1)]
        self._first: int | None = None

    def add(self, first_line: int, numbers: list[str | None]) -> None:
        if self._first is None:
            self._first = first_line
        chunk_keys = [int(numero) if numero is not None and len(numero) < 19
                      and numero.isdigit() else _key(numero) for numero in numbers]
        self._keys.extend(chunk_keys)
        for key in set(chunk_keys):
            self._shares[key & _LOW_BYTE].append(key)

    def lines(self) -> Iterator[int]:
        crossing: set[int] = set()
        for index, share in enumerate(self._shares):
            ordered = sorted(share)
            self._shares[index] = array("q")
            crossing.update(key for key, following in pairwise(ordered) if key == following)
        crossing.discard(_NO_NUMBER)
        start = self._first or 0
        return (start + index for index, key in enumerate(self._keys) if key in crossing)


# -- while a chunk is staged -----------------------------------------------------------------

_HELD = text("SELECT line FROM migration_repeat WHERE job_id = :job "
             "AND line BETWEEN :first AND :last")

# Where the values of a staged row (worker.stage_rows, ENTRY_COLUMNS order) sit.
_LINE, _OUTCOME, _MOTIF, _NUMERO, _ISSUED_ON = map(
    ENTRY_COLUMNS.index, ("line", "outcome", "motif", "numero", "issued_on"))
_TAKING_PART_OUTCOMES = (MIGRE, IGNORE_CLOS)


def held_lines(session: Session, params: dict[str, Any]) -> set[int]:
    """The chunk's lines that wait for the barrier (their file number is in another chunk
    too); `params`: job, first and last line."""
    return set(session.scalars(_HELD, params))


def rank_within(rows: list[tuple[Any, ...]], held: set[int]) -> list[tuple[Any, ...]]:
    """The chunk's staged rows with the duplicate rule applied to the lines not held: their
    file numbers appear in this chunk only, so every line that could win is here."""
    numeros = [row[_NUMERO] for row in rows]  # None on a rejected line
    repeated = {numero for numero, count in Counter(numeros).items()
                if count > 1 and numero is not None}
    if not repeated:
        return rows
    ranking = [index for index, numero in enumerate(numeros) if numero in repeated
               and rows[index][_OUTCOME] in _TAKING_PART_OUTCOMES
               and rows[index][_LINE] not in held]
    winners: dict[str, tuple[Any, ...]] = {}
    for index in ranking:  # in line order: a tie keeps the first line
        row = rows[index]
        best = winners.get(row[_NUMERO])
        if best is None or row[_ISSUED_ON] > best[_ISSUED_ON]:
            winners[row[_NUMERO]] = row
    ranked = list(rows)
    for index in ranking:
        row, best = rows[index], winners[rows[index][_NUMERO]]
        if best is not row:
            ranked[index] = (*row[:_OUTCOME], IGNORE_DOUBLON, _motif(best[_LINE]),
                             *row[_MOTIF + 1:])
    return ranked


def _motif(winner: int) -> str:
    return f"doublon : ligne {winner} retenue"


# -- at the barrier --------------------------------------------------------------------------

_TAKING_PART = f"job_id = :job AND outcome IN ('{MIGRE}', '{IGNORE_CLOS}')"
# A job staged without a scan: its repeated file numbers are found among its entries.
_RECORD_REPEATS_FROM_ENTRIES = text(f"""
INSERT INTO migration_repeat (job_id, line)
SELECT job_id, line FROM migration_entry WHERE {_TAKING_PART} AND numero IN (
    SELECT numero FROM migration_entry WHERE {_TAKING_PART} GROUP BY numero
    HAVING count(*) > 1)
""")
# The recorded lines' entries are read by primary key (scalar subqueries), whatever the
# planner believes of tables filled a moment ago; lines that do not take part read NULL.
_ENTRY_VALUE = ("(SELECT e.{column} FROM migration_entry e WHERE e.job_id = r.job_id "
                f"AND e.line = r.line AND e.outcome IN ('{MIGRE}', '{IGNORE_CLOS}'))")
_LOSERS = text(f"""
SELECT w.l, w.winner FROM (
    SELECT t.l, first_value(t.l) OVER (
        PARTITION BY t.numero ORDER BY t.issued_on DESC, t.l) AS winner
    FROM (SELECT r.line AS l, {_ENTRY_VALUE.format(column="numero")} AS numero,
                 {_ENTRY_VALUE.format(column="issued_on")} AS issued_on
          FROM migration_repeat r WHERE r.job_id = :job) AS t
    WHERE t.numero IS NOT NULL) AS w
WHERE w.winner <> w.l
""").columns(l=Integer(), winner=Integer())
_MARK_LOSERS_PG = text(f"""
UPDATE migration_entry SET outcome = '{IGNORE_DOUBLON}',
    motif = 'doublon : ligne ' || CAST(w.winner AS VARCHAR) || ' retenue'
FROM unnest(CAST(:lines AS INTEGER[]), CAST(:winners AS INTEGER[])) AS w(l, winner)
WHERE migration_entry.job_id = :job AND migration_entry.line = w.l
""")
_MARK_LOSER = text(f"""
UPDATE migration_entry
SET outcome = '{IGNORE_DOUBLON}',
    motif = 'doublon : ligne ' || CAST(:winner AS VARCHAR) || ' retenue'
WHERE job_id = :job AND line = :line
""")


def mark_duplicates(session: Session, job_id: int, now: dt.datetime) -> int:
    """Ranks the lines that waited for the barrier and marks those that lose; returns their
    count. What travels through this process is the losing lines only."""
    params: dict[str, Any] = {"job": job_id}
    if _postgres(session):
        session.execute(text("SET LOCAL work_mem = '64MB'"))  # hashes and sorts in memory
    if session.get(MigrationScan, job_id) is None:  # staged without a scan
        recorded = session.execute(_RECORD_REPEATS_FROM_ENTRIES, params).rowcount  # type: ignore[attr-defined]
        session.add(MigrationScan(job_id=job_id, early=False, repeated=int(recorded),
                                  scanned_at=now))
        session.flush()
    losers = session.execute(_LOSERS, params).all()
    if not losers:
        return 0
    if _postgres(session):
        session.execute(_MARK_LOSERS_PG, {**params, "lines": [line for line, _ in losers],
                                          "winners": [winner for _, winner in losers]})
    else:
        session.execute(_MARK_LOSER, [{"job": job_id, "line": line, "winner": winner}
                                      for line, winner in losers])
    return len(losers)


# -- which lines a statement covers ---------------------------------------------------------

def scope(table: str, held: bool) -> str:
    """A condition on the lines of `table` (a name or an alias of migration_entry): held for
    the barrier (`held`), or not."""
    return (f"(SELECT 1 FROM migration_repeat r WHERE r.job_id = {table}.job_id "
            f"AND r.line = {table}.line) IS {'NOT ' if held else ''}NULL")

