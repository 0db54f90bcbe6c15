"""Every CSV agents open in a spreadsheet writes a value that came from outside and starts
like a formula behind a single quote: the job's report (run --report, report, errors, the
admin API's report) with a file number `=1+1` from the export, and the census of legacy
clients with a User-Agent `=HYPERLINK(…)`. The report stays byte-identical across reruns."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from migrations import spreadsheet
from telepoints_compat.legacy_traffic import EXTENSION
from tests.migrations.conftest import report_rows, sample
from tests.migrations.test_admin_api import auth, upload, wait_done

HOSTILE = ("=1+1", "+33 6 12", "-2+3", "@SUM(A1)", "\tTAB", "\rCR")


def run(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=["migrations", *args])
    assert result.exit_code == 0, result.output
    return result.output


def hostile_export(path: Path) -> Path:
    """The sample export with one more line, whose file number is a formula (rejected)."""
    original = sample("legacy-export.csv").read_bytes()
    line = "=1+1;MD5::0cc175b9c0f1b6a831c399e269772661;01/01/2025;;;;0;;ACTIF;;;NOM;Prénom;"
    path.write_bytes(original + (line + "\r\n").encode("cp1252"))
    return path


def hostile_row(text: str) -> list[str]:
    rows = report_rows(text)
    [row] = [row for row in rows if "=1+1" in row[1]]
    assert row[1] == "'=1+1" and row[2] == "REJETE", row
    for cells in rows:
        for value in cells:
            assert not value.startswith(spreadsheet.FORMULA_STARTS), cells
    return row


def test_a_cell_starting_like_a_formula_is_written_as_text() -> None:
    assert [spreadsheet.cell(value) for value in HOSTILE] == [f"'{value}" for value in HOSTILE]
    out = io.StringIO()
    spreadsheet.Writer(out).writerow(["=1+1", "991091010000", 7, -1, None, "a=b", "", "x;=y"])
    assert out.getvalue() == "'=1+1;991091010000;7;-1;;a=b;;\"x;=y\"\n"


def test_the_reports_of_a_job_neutralise_a_hostile_file_number(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    export = hostile_export(tmp_path / "export.csv")
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    run(runner, "run", str(export), "--dry-run", "--report", str(first))
    run(runner, "run", str(export), "--dry-run", "--report", str(second))
    hostile_row(first.read_text(encoding="utf-8"))
    assert first.read_bytes() == second.read_bytes()

    run(runner, "run", str(export))
    job_id = run(runner, "status").split("job ", 1)[1].split(" ", 1)[0]
    hostile_row(run(runner, "errors", job_id))
    report = tmp_path / "report.csv"
    run(runner, "report", job_id, str(report))
    hostile_row(report.read_text(encoding="utf-8"))


def test_the_admin_api_report_neutralises_a_hostile_file_number(
        app: Flask, make_token: Callable[..., str], tmp_path: Path) -> None:
    client, secret = app.test_client(), make_token()
    job = upload(client, secret, hostile_export(tmp_path / "export.csv").read_bytes())
    done = wait_done(client, secret, job.json["id"])
    report = client.get(f"/admin/api/jobs/{done['id']}/report", headers=auth(secret))
    assert report.status_code == 200
    hostile_row(report.get_data(as_text=True))


def test_the_census_export_neutralises_a_hostile_user_agent(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    client = app.test_client()
    for user_agent in ('=HYPERLINK("http://x")', "-cmd|' /C calc'!A0", "Mozilla/5.0"):
        client.get("/telepoints", headers={"User-Agent": user_agent},
                   environ_base={"REMOTE_ADDR": "203.0.113.9"})
    with app.app_context():
        app.extensions[EXTENSION].census.flush()
    out = tmp_path / "clients.csv"
    run(runner, "clients", "--csv", str(out))
    rows = report_rows(out.read_text(encoding="utf-8"))
    assert sorted(row[2] for row in rows[1:]) == [
        "'-cmd|' /C calc'!A0", "'=HYPERLINK(\"http://x\")", "Mozilla/5.0"]
