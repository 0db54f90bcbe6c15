"""Property-based fuzzing of the legacy export's reader (contract section 2): valid lines of the
sample and of the generator, mutated field by field or byte by byte, mixed with arbitrary bytes.

What an administrator relies on: every data line of the file gets exactly one outcome with its
own line number (a parsed account, or a rejection saying why), nothing raises, a line's outcome
does not depend on the lines around it or on where the chunks are cut, what a line stages fits
the columns it is written to (one bad line must not fail the chunk of 5,000 it travels in), and
a file whose header is wrong is refused whole with a clear message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import String

from migrations.export import generator
from migrations.export.reader import MAX_LINE_BYTES, ExportFormatError, read_chunks
from migrations.export.rows import COLUMNS
from migrations.jobs.models import ENTRY_COLUMNS, MigrationEntry
from migrations.jobs.worker import _write_entries, stage_rows
from modern.db import db
from tests.conftest import SAMPLES
from tests.fuzz.budget import fuzz

HEADER = generator.header()
KEY = b"k" * 32
OUTCOMES = {"MIGRE", "IGNORE_CLOS", "REJETE"}
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _sample_lines() -> list[bytes]:
    path = SAMPLES / "legacy-export.csv"
    lines = [line + b"\r\n" for line in path.read_bytes().split(b"\r\n")[1:] if line] \
        if path.exists() else []
    return lines + list(generator.lines(120, seed=3, duplicate_every=7, closed_every=5,
                                        suspended_every=6, rejected_every=11, locked_every=4))


VALID_LINES = _sample_lines()
GOOD = next(generator.lines(1))  # file 700000000000 typed with spaces, a mobile, no e-mail


def _with_field(index: int, value: bytes) -> bytes:
    fields = GOOD.rstrip(b"\r\n").split(b";")
    fields[index] = value
    return b";".join(fields) + b"\r\n"


# Earlier findings, kept as regression examples.
NUL_IN_NUMERO = b"\x00" + GOOD  # failed the whole chunk on PostgreSQL
LONG_EMAIL = _with_field(5, b"x" * 64 + b"@" + b"y" * 190 + b".zz")  # over varchar(254)
SUPERSCRIPT_MOBILE = _with_field(4, "06¹²³¹²³¹²".encode("cp1252"))  # kept as "+336¹²³…"
CR_IN_NUMERO = _with_field(0, b'"700000000000\r"')  # cut the report's CSV line in two
HUGE_FAILURES = _with_field(6, b"9" * 4301)  # int() raised: the chunk could not be staged
# Every character an export can carry (Windows-1252 leaves five bytes undefined).
CP1252 = "".join(ch for ch in map(chr, range(0x2200))
                 if ch.encode("cp1252", "ignore") and len(ch.encode("cp1252", "ignore")) == 1)
cp1252_text = st.text(alphabet=CP1252, max_size=40)

# Values that sit on the edges of what each column accepts.
EDGE_VALUES = [
    "", " ", ";", '"', '""', "\t", "\x00", "\x1f", "\x7f", "0", "-1", "1000", "1001", "+5",
    "²", "１", "31/12/9999", "01/01/1900", "31/12/1899", "00/00/0000", "29/02/2023",
    "29/02/2024", "1/1/2020", "2020-01-01", "31/12/9999 23:59:59", "01/01/1900 00:00:00",
    "31/03/2024 02:30:00", "27/10/2024 02:30:00", "01/01/2020 24:00:00", "01/01/2020 9:00:00",
    "06¹²³¹²³¹²", "06 12 34 56 78", "+33 (0)6 12 34 56 78", "0033612345678", "+3361234567890",
    "+262692123456", "0690123456", "+1 202 555 0143", "+999", "00", "+",
    "a@b.cc", "a\x00b@exemple.fr", "x" * 64 + "@" + "y" * 190 + "." + "z" * 63,
    "MD5::" + "0" * 32, "SHA1:" + "a" * 16 + ":" + "b" * 40, "SHA1::" + "b" * 40,
    "MD5::" + "G" * 32, "ACTIF", "CLOS", "SUSPENDU", "actif", " ACTIF ",
    "ab12345", "1234", "A" * 19, "A" * 20, "99 1091 0100 00", "ÉÀ123", "99109\r1010000",
]
field_values = st.sampled_from(EDGE_VALUES) | cp1252_text | st.builds(
    lambda ch, n: ch * n, st.sampled_from("9A; é\x00"), st.integers(50, MAX_LINE_BYTES + 10))


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@st.composite
def mutated_lines(draw: st.DrawFn) -> bytes:
    """A valid line, with a few of its fields changed, added or dropped, then re-encoded."""
    fields = draw(st.sampled_from(VALID_LINES)).rstrip(b"\r\n").decode("cp1252").split(";")
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["replace", "replace", "quote", "drop", "add"]))
        index = draw(st.integers(0, len(fields) - 1)) if fields else 0
        if kind == "replace" and fields:
            fields[index] = draw(field_values)
        elif kind == "quote" and fields:
            fields[index] = _quote(fields[index] + draw(st.sampled_from(["", ";", '"', "\r"])))
        elif kind == "drop" and fields:
            del fields[index]
        elif kind == "add":
            fields.insert(index, draw(field_values))
    text = ";".join(fields)
    encoding = draw(st.sampled_from(["cp1252"] * 4 + ["utf-8"]))
    return text.encode(encoding, "replace") + draw(st.sampled_from([b"\r\n", b"\n", b"\r\r\n"]))


@st.composite
def byte_mutations(draw: st.DrawFn) -> bytes:
    """A valid line with bytes flipped, inserted or removed."""
    data = bytearray(draw(st.sampled_from(VALID_LINES)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["set", "insert", "delete"]))
        byte = draw(st.integers(0, 255))
        if action == "insert" or position == len(data):
            data.insert(position, byte)
        elif action == "set":
            data[position] = byte
        else:
            del data[position]
    return bytes(data)


any_line = (st.sampled_from(VALID_LINES) | mutated_lines() | byte_mutations()
            | st.binary(max_size=120).map(lambda raw: raw + b"\r\n"))
bodies = st.lists(any_line, max_size=12).map(b"".join)


def _data_lines(body: bytes) -> list[bytes]:
    """The lines as the contract defines them: cut at LF, a CR before it not part of the line,
    the empty text after the final line end not a line."""
    lines = body.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def _staged(body: bytes, per_chunk: int) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for chunk in read_chunks(io.BytesIO(HEADER + body), lines_per_chunk=per_chunk):
        rows += stage_rows(1, chunk.first_line, chunk.payload, "k1", KEY)
    return rows


def _alone(line: bytes, number: int) -> tuple[object, ...]:
    """The entry the line stages when it is the file's only data line."""
    rows = _staged(line + b"\n", 1)
    assert len(rows) == 1
    return (rows[0][0], number, *rows[0][2:])


LIMITS = {name: MigrationEntry.__table__.c[name].type.length for name in ENTRY_COLUMNS
          if isinstance(MigrationEntry.__table__.c[name].type, String)}


def _storable(entry: dict[str, object]) -> None:
    """What PostgreSQL will take: no NUL in text, no text longer than its column, timestamps
    with a zone, a mobile number in E.164."""
    for name, value in entry.items():
        if isinstance(value, str):
            assert "\x00" not in value, (name, value)
            assert "\r" not in value, (name, value)
            assert len(value) <= LIMITS[name], (name, len(value))
        if isinstance(value, dt.datetime):
            assert value.tzinfo is not None, name
    if entry["mobile"] is not None:
        assert E164.fullmatch(str(entry["mobile"])), entry["mobile"]


@fuzz(300)
@given(bodies, st.integers(1, 7))
@example(NUL_IN_NUMERO + GOOD, 5000)
@example(LONG_EMAIL, 1)
@example(SUPERSCRIPT_MOBILE, 1)
@example(CR_IN_NUMERO, 1)
@example(HUGE_FAILURES, 1)
def test_every_line_gets_one_outcome_whatever_its_neighbours(body: bytes,
                                                             per_chunk: int) -> None:
    rows = _staged(body, per_chunk)
    lines = _data_lines(body)
    assert [row[1] for row in rows] == list(range(2, len(lines) + 2))
    for line, row in zip(lines, rows, strict=True):
        entry = dict(zip(ENTRY_COLUMNS, row, strict=True))
        assert entry["outcome"] in OUTCOMES
        if entry["outcome"] == "REJETE":
            assert entry["motif"], "a rejection says why"
        else:
            assert entry["numero"] and entry["issued_on"] is not None
        _storable(entry)
        # The same line alone in a file stages the very same entry: a bad line never
        # changes the outcome of the lines around it, nor does the cut between chunks.
        assert row == _alone(line, entry["line"])  # type: ignore[arg-type]


@fuzz(200)
@given(st.lists(st.sampled_from(VALID_LINES), min_size=1, max_size=6),
       st.lists(any_line, min_size=1, max_size=4), st.integers(1, 7),
       st.randoms(use_true_random=False))
def test_valid_lines_come_out_identical_around_bad_ones(valid: list[bytes], bad: list[bytes],
                                                        per_chunk: int, rng: random.Random) -> None:
    alone = _staged(b"".join(valid), per_chunk)
    mixed: list[tuple[bool, bytes]] = [(True, line) for line in valid]
    for line in bad:
        mixed.insert(rng.randrange(len(mixed) + 1), (False, line))
    # Each bad line stays one line: its own line end, none inside.
    body = b"".join(line if is_valid else line.replace(b"\n", b"") + b"\r\n"
                    for is_valid, line in mixed)
    rows = _staged(body, per_chunk)
    kept = [row[2:] for (is_valid, _), row in zip(mixed, rows, strict=True) if is_valid]
    assert kept == [row[2:] for row in alone]


header_names = st.lists(st.sampled_from([*COLUMNS, "NOM_COMPLET", "", " ", "num_dossier"]),
                        max_size=16)


@st.composite
def headers(draw: st.DrawFn) -> bytes:
    names = list(COLUMNS) if draw(st.booleans()) else draw(header_names)
    if draw(st.booleans()):
        names = [draw(st.sampled_from([name, name.lower(), f" {name} ", name + "\t"]))
                 for name in names]
    text = draw(st.sampled_from([";", ",", "\t", "; "])).join(names)
    encoding = draw(st.sampled_from(["cp1252", "cp1252", "utf-8-sig", "utf-16", "utf-32"]))
    raw = text.encode(encoding)
    if draw(st.booleans()):
        raw = draw(st.binary(max_size=30)) + raw[draw(st.integers(0, len(raw))):]
    return raw + draw(st.sampled_from([b"\r\n", b"\n", b"\r", b""]))


@fuzz(300)
@given(headers(), st.sampled_from([b"", VALID_LINES[0]]))
@example(b"", b"")
@example(b"\xef\xbb\xbf" + HEADER, b"")
def test_a_wrong_header_is_refused_whole_with_a_clear_message(header: bytes,
                                                              body: bytes) -> None:
    try:
        chunks = list(read_chunks(io.BytesIO(header + body)))
    except ExportFormatError as error:
        assert str(error)
        assert "\n" not in str(error)
        return
    names = [name.strip().upper() for name in header.rstrip(b"\r\n").decode("cp1252").split(";")]
    assert tuple(names) == COLUMNS
    assert sum(chunk.line_count for chunk in chunks) == len(_data_lines(body))


@pytest.fixture
def entries_writer(app: Flask) -> Callable[[list[tuple[object, ...]]], None]:
    def write(rows: list[tuple[object, ...]]) -> None:
        with app.app_context():
            try:
                _write_entries(db.session, rows)
                db.session.flush()
            finally:
                db.session.rollback()
    return write


@fuzz(60)
@given(st.lists(mutated_lines() | byte_mutations() | st.sampled_from(VALID_LINES),
                min_size=1, max_size=30))
@example([GOOD, NUL_IN_NUMERO, LONG_EMAIL, SUPERSCRIPT_MOBILE, CR_IN_NUMERO, HUGE_FAILURES])
def test_the_staged_entries_are_written_whatever_the_lines(
        entries_writer: Callable[[list[tuple[object, ...]]], None], lines: list[bytes]) -> None:
    """The database (PostgreSQL in the second CI pass) takes a chunk's entries whatever its
    lines held; the transaction is rolled back afterwards."""
    entries_writer(_staged(b"".join(lines), 5000))


@fuzz(12)
@given(st.lists(any_line, min_size=1, max_size=15))
@example([GOOD, NUL_IN_NUMERO, LONG_EMAIL, CR_IN_NUMERO])
def test_a_migration_run_reports_every_line(app: Flask, runner: FlaskCliRunner,
                                            tmp_path: Path, lines: list[bytes]) -> None:
    """The real command: the job ends, and its report has one line per input line, in order."""
    body = b"".join(lines)
    export = tmp_path / "export.csv"
    export.write_bytes(HEADER + body)
    report = tmp_path / "report.csv"
    result = runner.invoke(args=["migrations", "run", str(export), "--report", str(report)])
    assert result.exit_code == 0, result.output
    # newline="": a value may hold a CR, which the report quotes.
    with report.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0] == ["ligne", "numero", "resultat", "motif"]
    assert [int(row[0]) for row in rows[1:]] == list(range(2, len(_data_lines(body)) + 2))
    assert all(row[2] != "REJETE" or row[3] for row in rows[1:])
