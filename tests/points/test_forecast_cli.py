"""`flask --app wsgi points forecast --extract FILE --as-of YYYY-MM-DD`."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskCliRunner

from modern.licences.record import LicenceRecord, encode_record
from modern.points.cli import forecast_lines
from modern.settings import Settings
from tests.conftest import SAMPLES, contract_file
from tests.points.builders import record, retrait, stage
from wsgi import create_app

ROOT = Path(__file__).resolve().parents[2]


def _forecast(runner: FlaskCliRunner, path: Path | str, as_of: str = "2026-11-20") -> Any:
    return runner.invoke(args=["points", "forecast", "--extract", str(path), "--as-of", as_of])


def _lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


def test_the_sample_extract_gives_one_line_per_licence_in_order(runner: FlaskCliRunner) -> None:
    sample = contract_file("samples/registry-extract.jsonl")
    result = _forecast(runner, sample)
    assert result.exit_code == 0, result.stderr
    lines = _lines(result.stdout)
    numbers = [json.loads(line)["numeroDossier"] for line in
               sample.read_text(encoding="utf-8").splitlines()]
    assert [line["numeroDossier"] for line in lines] == numbers
    for line in lines:
        assert list(line) == ["numeroDossier", "solde", "soldeRecalcule", "ecart",
                              "restitutions"]
        dates = [r["date"] for r in line["restitutions"]]
        assert dates == sorted(dates) and all(d > "2026-11-20" for d in dates)
        assert line["ecart"] == (line["solde"] != line["soldeRecalcule"])
    by_number = {line["numeroDossier"]: line for line in lines}
    assert by_number["790344070029"] == {
        "numeroDossier": "790344070029", "solde": 11, "soldeRecalcule": 11, "ecart": False,
        "restitutions": [{"date": "2027-04-07", "points": 1, "motif": "SIX_MOIS"}]}
    assert by_number["181067050005"]["restitutions"] == [
        {"date": "2029-04-16", "points": 3, "motif": "TROIS_ANS"}]
    # A 1-point withdrawal of April 2026 should have come back in October: the file did not.
    assert by_number["991091010000"] == {
        "numeroDossier": "991091010000", "solde": 11, "soldeRecalcule": 12, "ecart": True,
        "restitutions": []}


def test_bad_lines_are_reported_with_their_number_and_skipped(
        runner: FlaskCliRunner, tmp_path: Path) -> None:
    contract_file("samples/registry-extract.jsonl")
    good = (SAMPLES / "registry-extract.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "extract.jsonl"
    path.write_text("\n".join([good[0], "{not json", "", good[1],
                               json.dumps({"numeroDossier": "12"}), good[2]]) + "\n",
                    encoding="utf-8")
    result = _forecast(runner, path)
    assert result.exit_code == 0
    assert [line["numeroDossier"] for line in _lines(result.stdout)] == [
        json.loads(good[i])["numeroDossier"] for i in range(3)]
    assert "extract.jsonl:2: rejected: not valid JSON" in result.stderr
    assert "extract.jsonl:5: rejected: Object missing required field" in result.stderr
    assert "extract.jsonl: 2 line(s) rejected" in result.stderr
    assert "extract.jsonl:3" not in result.stderr  # a blank line is not an error


def test_an_unreadable_file_fails(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = _forecast(runner, tmp_path / "absent.jsonl")
    assert result.exit_code != 0
    assert "cannot read" in result.output


def test_a_bad_reference_date_is_refused(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("", encoding="utf-8")
    result = _forecast(runner, path, as_of="20/11/2026")
    assert result.exit_code == 2
    assert "--as-of" in result.output


def test_movements_after_the_reference_date_are_not_known_yet(
        runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = _extract(tmp_path, [record([retrait("2026-07-10", 1)], solde=11, maj="2026-07-20")])
    before = _lines(_forecast(runner, path, as_of="2026-07-01").stdout)[0]
    after = _lines(_forecast(runner, path, as_of="2026-07-20").stdout)[0]
    assert before["restitutions"] == [] and before["soldeRecalcule"] == 12
    assert after["restitutions"] == [{"date": "2027-01-10", "points": 1, "motif": "SIX_MOIS"}]


def test_the_course_spacing_comes_from_the_settings(
        make_settings: Callable[..., Settings], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    # Two courses 396 days apart: credited with a one-year spacing, not with two years.
    path = _extract(tmp_path, [record([
        retrait("2025-01-10", 6, "DELIT"), retrait("2025-06-01", 4, "C4"),
        stage("2025-07-01"), stage("2026-08-01")], solde=10)])
    balances = {}
    for days in (365, 730):
        app = create_app(make_settings(course_credit_spacing_days=days))
        result = _forecast(app.test_cli_runner(), path)
        balances[days] = _lines(result.stdout)[0]["soldeRecalcule"]
    assert balances == {365: 10, 730: 6}


def test_the_extract_can_come_from_standard_input(runner: FlaskCliRunner) -> None:
    licence = record([retrait("2026-07-10", 1)], solde=11)
    result = runner.invoke(args=["points", "forecast", "--extract", "-", "--as-of", "2026-11-20"],
                           input=encode_record(licence) + b"\n")
    assert result.exit_code == 0, result.stderr
    assert _lines(result.stdout)[0]["restitutions"][0]["date"] == "2027-01-10"


def test_output_is_streamed_block_by_block() -> None:
    """The first lines come out before the input ends: memory does not grow with the file."""
    licence = record([retrait("2026-07-10", 1)], solde=11)

    def endless() -> Iterator[LicenceRecord]:
        while True:
            yield licence

    blocks = forecast_lines(endless(), dt.date(2026, 11, 20), 365)
    first = next(blocks)
    assert first.count(b"\n") == 512
    assert json.loads(first.splitlines()[0])["numeroDossier"] == "991091010000"


def test_the_command_needs_no_database_schema(tmp_path: Path) -> None:
    """The real command, in a fresh process, on an empty database it never touches."""
    path = _extract(tmp_path, [record([retrait("2026-07-10", 1)], solde=11)])
    empty = tmp_path / "empty.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{empty}",
           "INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("ENVIRONMENT", None)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "points", "forecast", "--extract",
         str(path), "--as-of", "2026-11-20"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["restitutions"] == [
        {"date": "2027-01-10", "points": 1, "motif": "SIX_MOIS"}]
    assert not empty.exists() or empty.stat().st_size == 0


def _extract(tmp_path: Path, records: list[LicenceRecord]) -> Path:
    path = tmp_path / "extract.jsonl"
    path.write_bytes(b"".join(encode_record(r) + b"\n" for r in records))
    return path


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    path = _extract(tmp_path, [record([retrait("2026-07-10", 1)], solde=11)] * 20000)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
           "INSTANCE_PATH": str(tmp_path / "instance")}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "points", "forecast", "--extract",
         str(path), "--as-of", "2026-11-20"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert json.loads(process.stdout.readline())["numeroDossier"] == "991091010000"
    process.stdout.close()
    errors = process.stderr.read()
    assert process.wait(timeout=120) == 1
    assert b"Traceback" not in errors
