"""Duplicates, wherever the chunks are cut: a line is applied as soon as its chunk is staged
unless its file number appears in another chunk too; either way every line ends with the
outcome the contract's rule gives (most recent CODE_EMIS_LE, then the first line), checked
against a reference computed here from the parsed lines. A job staged by an earlier version
(no scan of its file numbers) ends the same. The file numbers read ahead of the parsing are
those the parser reads."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from migrations.accounts.models import MigratedAccount
from migrations.export import generator
from migrations.export.rows import LegacyAccount, file_numbers, parse_line
from migrations.jobs import runner as job_runner
from migrations.jobs import services, worker
from migrations.jobs.duplicates import MigrationRepeat, MigrationScan, RepeatFinder
from migrations.jobs.models import MigrationChunk, MigrationJob
from modern.db import db
from tests.migrations.conftest import expected_outcomes, report_rows, sample


def run(runner_: FlaskCliRunner, *args: str) -> str:
    result = runner_.invoke(args=["migrations", *args])
    assert result.exit_code == 0, result.output
    return result.output


def report(path: Path) -> list[tuple[str, str, str, str]]:
    return [(row[0], row[1], row[2], row[3])
            for row in report_rows(path.read_text(encoding="utf-8"))[1:]]


@pytest.mark.parametrize("chunk_lines", ["1", "2", "3", "7", "5000"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_the_sample_ends_the_same_however_its_chunks_are_cut(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path, chunk_lines: str,
        dry_run: bool) -> None:
    """Lines 32 and 33 are one file: in one chunk they are ranked as it is staged, in two
    they wait for the barrier."""
    out = tmp_path / "report.csv"
    run(runner, "run", str(sample("legacy-export.csv")), "--chunk-lines", chunk_lines,
        "--report", str(out), *(["--dry-run"] if dry_run else []))
    lines = report(out)
    assert [line[:3] for line in lines] == expected_outcomes()
    assert dict((line[0], line[3]) for line in lines)["32"] == "doublon : ligne 33 retenue"
    with app.app_context():
        migrated = db.session.scalar(select(func.count()).select_from(MigratedAccount))
        assert migrated == (0 if dry_run else 33)
        if dry_run:  # the dry run's job is deleted, and what its scan recorded with it
            assert db.session.scalar(select(func.count()).select_from(MigrationScan)) == 0
            assert db.session.scalar(select(func.count()).select_from(MigrationRepeat)) == 0


def _line(numero: str, index: int, issued: dt.date, statut: str, *, bad: bool = False) -> bytes:
    """A line of the export for `numero`, its code issued on `issued` (unreadable if `bad`)."""
    values = next(generator.lines(1, seed=index)).decode("cp1252").rstrip("\r\n").split(";")
    values[0] = numero if index % 3 else f" {numero[:4]} {numero[4:]} ".lower()
    values[2] = "31/02/2019" if bad else issued.strftime("%d/%m/%Y")
    values[8] = statut
    return (";".join(values) + "\r\n").encode("cp1252")


def _export_with_duplicates(count: int, seed: int) -> bytes:
    """Lines drawn from a few file numbers, so that most files appear several times, near
    and far apart; dates drawn from a few days, so that ties are frequent; some closed
    accounts and some unreadable lines among them."""
    rng = random.Random(seed)
    numeros = [generator.numero_for(i) for i in range(count // 3)]
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(6)) for _ in range(count)]
    body = b"".join(
        _line(rng.choice(numeros), index, days[index],
              rng.choice(["ACTIF"] * 6 + ["CLOS", "SUSPENDU"]), bad=rng.random() < 0.05)
        for index in range(count))
    return generator.header() + body


def _reference(data: bytes) -> dict[int, tuple[str, str]]:
    """The outcome and reason of each line by the contract's rule, from the parsed lines."""
    outcomes: dict[int, tuple[str, str]] = {}
    best: dict[str, tuple[dt.date, int]] = {}
    parsed: dict[int, LegacyAccount] = {}
    for line, raw in enumerate(data.split(b"\r\n")[1:-1], 2):
        account = parse_line(raw)
        if not isinstance(account, LegacyAccount):
            outcomes[line] = ("REJETE", account.motif)
            continue
        parsed[line] = account
        current = best.get(account.numero)
        if current is None or account.issued_on > current[0]:
            best[account.numero] = (account.issued_on, line)
    for line, account in parsed.items():
        winner = best[account.numero][1]
        if winner != line:
            outcomes[line] = ("IGNORE_DOUBLON", f"doublon : ligne {winner} retenue")
        elif account.statut == "CLOS":
            outcomes[line] = ("IGNORE_CLOS", "compte clos")
        else:
            outcomes[line] = ("MIGRE", account.notes or "")
    return outcomes


@pytest.mark.parametrize("chunk_lines", ["1", "9", "40", "5000"])
def test_files_repeated_within_and_across_chunks_follow_the_rule(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path, chunk_lines: str) -> None:
    data = _export_with_duplicates(300, seed=int(chunk_lines))
    export = tmp_path / "export.csv"
    export.write_bytes(data)
    out = tmp_path / "report.csv"
    run(runner, "run", str(export), "--chunk-lines", chunk_lines, "--report", str(out))
    expected = _reference(data)
    got = {int(line): (outcome, motif) for line, _numero, outcome, motif in report(out)}
    assert got == expected
    assert sum(outcome == "IGNORE_DOUBLON" for outcome, _ in got.values()) > 50
    with app.app_context():
        migrated = set(db.session.execute(select(MigratedAccount.numero, MigratedAccount.line)))
        held = db.session.scalar(select(func.count()).select_from(MigrationRepeat))
    by_line = {line: parse_line(raw) for line, raw in
               enumerate(data.split(b"\r\n")[1:-1], 2)}
    assert migrated == {(by_line[line].numero, line)  # type: ignore[union-attr]
                        for line, (outcome, _) in expected.items() if outcome == "MIGRE"}
    # Only the files that appear in more than one chunk waited for the barrier.
    assert (held == 0) == (chunk_lines == "5000")


def test_a_job_staged_without_a_scan_ends_as_the_others(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    """An earlier version staged some chunks of this job, then stopped: the lines all wait
    for the barrier, where the repeated file numbers are found among the staged lines."""
    output = run(runner, "run", str(sample("legacy-export.csv")), "--chunk-lines", "4",
                 "--no-start")
    job_id = int(output.strip().splitlines()[-1])
    with app.app_context():
        session = db.session()
        forget_the_scan(session, job_id)
        job = services.start(session, job_id)
        first = session.get(MigrationChunk, (job_id, 0))
        assert first is not None
        worker.stage_chunk(session, job, first, job_runner.dependencies(app), early=False)
        session.commit()
    out = tmp_path / "report.csv"
    run(runner, "resume", str(job_id), "--report", str(out))
    assert [line[:3] for line in report(out)] == expected_outcomes()
    with app.app_context():
        scan = db.session.get(MigrationScan, job_id)
        assert scan is not None and not scan.early
        held = set(db.session.scalars(select(MigrationRepeat.line).where(
            MigrationRepeat.job_id == job_id)))
        assert held == {32, 33}  # the one file of the sample that appears twice
        state = db.session.get(MigrationJob, job_id)
        assert state is not None and state.state == "succeeded"


def forget_the_scan(session: Any, job_id: int) -> None:
    """The job as an earlier version created it: its file numbers were not read."""
    session.execute(delete(MigrationRepeat).where(MigrationRepeat.job_id == job_id))
    session.execute(delete(MigrationScan).where(MigrationScan.job_id == job_id))
    session.commit()


def test_a_job_created_without_its_file_numbers_is_scanned_by_its_worker(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    """A job created by an earlier version, not staged yet: its first worker reads the file
    numbers back before any line is staged, and finds what the creation would have found
    (one line a chunk: the file repeated on lines 32 and 33 spans two chunks)."""
    output = run(runner, "run", str(sample("legacy-export.csv")), "--chunk-lines", "1",
                 "--no-start")
    job_id = int(output.strip().splitlines()[-1])
    with app.app_context():
        recorded_at_creation = set(db.session.scalars(select(MigrationRepeat.line).where(
            MigrationRepeat.job_id == job_id)))
        forget_the_scan(db.session(), job_id)
    out = tmp_path / "report.csv"
    run(runner, "resume", str(job_id), "--report", str(out))
    assert [line[:3] for line in report(out)] == expected_outcomes()
    with app.app_context():
        scan = db.session.get(MigrationScan, job_id)
        assert scan is not None and scan.early
        assert set(db.session.scalars(select(MigrationRepeat.line).where(
            MigrationRepeat.job_id == job_id))) == recorded_at_creation == {32, 33}


# -- the file numbers read ahead --------------------------------------------------------------

GOOD = next(generator.lines(1, seed=5)).decode("cp1252").rstrip("\r\n").split(";")
first_fields = st.sampled_from([
    "991091010000", " 9910 9101 0000 ", "ab12345", "AB 12 345", "\xa09910910100\xa0",
    "stra\xdfe12", '"9910 9101 0000"', '"99;10"', '"99""10"', "9910\x009101", "1234",
    "A" * 19, "A" * 20, "", "\t991091010000\t", "\xb2\xb3123456",
]) | st.text(alphabet="0123456789 aAbB\xa0\xdf\"\t;", max_size=22)


@given(st.lists(first_fields, min_size=1, max_size=8),
       st.sampled_from([b"", b"\x81"]))
@example(["991091010000", '"12;34"'], b"\x81")
def test_the_numbers_read_ahead_are_those_the_parser_reads(
        firsts: list[str], damage: bytes) -> None:
    raws = [(";".join([first, *GOOD[1:]])).encode("cp1252") for first in firsts]
    if damage:
        raws[-1] += damage  # a byte Windows-1252 leaves undefined: that line has no number
    payload = b"".join(raw + b"\r\n" for raw in raws)
    ahead = list(file_numbers(payload))
    assert len(ahead) == len(raws)
    for raw, number in zip(raws, ahead, strict=True):
        account = parse_line(raw)
        if isinstance(account, LegacyAccount):
            assert number == account.numero


def test_the_numbers_of_the_sample_read_ahead_are_those_the_parser_reads() -> None:
    payload = sample("legacy-export.csv").read_bytes().split(b"\r\n", 1)[1]
    raws = payload.split(b"\r\n")[:-1]
    ahead = list(file_numbers(payload))
    assert len(ahead) == len(raws) == 38
    parsed = [parse_line(raw) for raw in raws]
    assert [account.numero for account in parsed if isinstance(account, LegacyAccount)] == [
        number for number, account in zip(ahead, parsed, strict=True)
        if isinstance(account, LegacyAccount)]
    assert ahead[33] == "830793030102"  # line 35, written " 8307 9303 0102 "
    assert list(file_numbers(b"")) == []


def test_only_the_numbers_found_in_several_chunks_are_held() -> None:
    """Within one chunk a repeated number is ranked as the chunk is staged; across chunks,
    every one of its lines waits. Numbers that merely look alike ("0012345", "12345") may
    both wait, which changes nothing but when they are ranked."""
    chunks = [
        (2, ["991091010000", "991091010000", None, "AB12345", "0012345"]),
        (7, ["850931010001", "ab12345".upper(), None, "12345"]),
        (11, ["850931010001", "971060030002"]),
    ]
    finder = RepeatFinder()
    for first_line, numbers in chunks:
        finder.add(first_line, numbers)
    # AB12345 and 850931010001 are in two chunks; "0012345" and "12345" share their key.
    assert set(finder.lines()) == {5, 8, 7, 11, 6, 10}
    assert list(RepeatFinder().lines()) == []
