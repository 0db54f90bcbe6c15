"""The sample export, end to end: exactly the expected outcomes (dry run and real), every
migrated holder's existing code accepted by a zeep client on the compatibility endpoint, a
second run that migrates nothing twice, the lock carried over, and revert."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import zeep
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from migrations.accounts.models import MigratedAccount
from migrations.jobs.models import MigrationJob
from modern.db import db
from modern.throttling import throttling
from telepoints_compat.codes.models import ConfidentialCode
from telepoints_compat.contacts.models import HolderContact
from telepoints_compat.contacts.services import save_contact
from tests.migrations.conftest import (
    expected_outcomes,
    fault_code,
    load_registry_sample,
    report_rows,
    sample,
    sample_codes,
    soap_client,
)


def run(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=["migrations", *args])
    assert result.exit_code == 0, result.output
    return result.output


def outcomes(path: Path) -> list[tuple[str, str, str]]:
    rows = report_rows(path.read_text(encoding="utf-8"))
    assert rows[0] == ["ligne", "numero", "resultat", "motif"]
    return [tuple(row[:3]) for row in rows[1:]]  # type: ignore[misc]


def count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_dry_run_reports_the_expected_outcomes_and_writes_nothing(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    report = tmp_path / "dry.csv"
    run(runner, "run", str(sample("legacy-export.csv")), "--dry-run", "--report", str(report))
    assert outcomes(report) == expected_outcomes()
    with app.app_context():
        assert count(MigratedAccount) == count(ConfidentialCode) == count(HolderContact) == 0
        assert count(MigrationJob) == 0  # not even the job is left behind


def test_the_sample_migrates_and_every_code_works_on_the_compat_endpoint(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    load_registry_sample(app)
    first = tmp_path / "first.csv"
    output = run(runner, "run", str(sample("legacy-export.csv")), "--report", str(first))
    assert outcomes(first) == expected_outcomes()
    assert "migrated 33" in output and "rejected 3" in output
    motifs = {row[0]: row[3] for row in report_rows(first.read_text(encoding="utf-8"))[1:]}
    assert motifs["32"] == "doublon : ligne 33 retenue"
    assert motifs["39"] == "date invalide (CODE_EMIS_LE)"

    with app.app_context():
        stored = db.session.scalars(select(ConfidentialCode)).all()
        assert len(stored) == 33
        # The weak fingerprints are not stored as they came: only wrapped digests.
        export_text = sample("legacy-export.csv").read_text(encoding="cp1252")
        assert all(code.digest not in export_text for code in stored)
        assert {code.scheme for code in stored} == {"legacy-sha1", "legacy-md5"}
        contact = db.session.get(HolderContact, "181010060003")
        assert contact is not None and contact.mobile == "+33651953520"
        lock = throttling().lockout.state("131251080103")
        assert lock.failures == 5
        locked_until = dt.datetime(2026, 12, 19, 23, 0, tzinfo=dt.UTC)  # 20/12 00:00 Paris
        if locked_until > dt.datetime.now(dt.UTC):
            assert lock.locked_until == locked_until

    service = soap_client(app.test_client())
    for numero, code, locked in sample_codes():
        if locked and dt.datetime.fromisoformat(locked) > dt.datetime.now():
            with pytest.raises(zeep.exceptions.Fault) as fault:
                service.ConsulterSolde(numeroDossier=numero, codeConfidentiel=code)
            assert fault_code(fault.value) == "COMPTE_BLOQUE"
            continue
        answer = service.ConsulterSolde(numeroDossier=numero, codeConfidentiel=code.lower())
        assert answer.body.numeroDossier == numero
    with pytest.raises(zeep.exceptions.Fault) as fault:
        service.ConsulterSolde(numeroDossier="991091010000", codeConfidentiel="ZZZZZZZZ")
    assert fault_code(fault.value) == "IDENTIFIANTS_INVALIDES"
    with app.app_context():  # upgraded to the native scheme at the holder's success
        upgraded = db.session.scalars(select(ConfidentialCode).where(
            ConfidentialCode.numero == "991091010000")).one()
        assert upgraded.scheme == "hmac-sha256"

    second = tmp_path / "second.csv"
    output = run(runner, "run", str(sample("legacy-export.csv")), "--report", str(second))
    again = outcomes(second)
    migrated_lines = {line for line, _n, result in expected_outcomes() if result == "MIGRE"}
    assert {line for line, _n, result in again if result == "IGNORE_DEJA_MIGRE"} == migrated_lines
    assert [row for row in again if row[0] not in migrated_lines] == [
        row for row in expected_outcomes() if row[0] not in migrated_lines]
    with app.app_context():
        assert count(MigratedAccount) == 33
        assert count(ConfidentialCode) == 33


def test_revert_sends_a_file_back_and_the_next_run_migrates_it_again(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    run(runner, "run", str(sample("legacy-export.csv")))
    output = run(runner, "revert", "9910 9101 0000")
    assert "reverted" in output and "991091010000" not in output  # masked in the output
    with app.app_context():
        assert db.session.get(MigratedAccount, "991091010000") is None
        assert db.session.scalars(select(ConfidentialCode).where(
            ConfidentialCode.numero == "991091010000")).first() is None
    result = runner.invoke(args=["migrations", "revert", "991091010000"])
    assert result.exit_code != 0 and "pas été migré" in result.output
    report = tmp_path / "again.csv"
    run(runner, "run", str(sample("legacy-export.csv")), "--report", str(report))
    assert [row for row in outcomes(report) if row[2] == "MIGRE"] == [("2", "991091010000",
                                                                       "MIGRE")]


def test_status_and_errors_commands(app: Flask, runner: FlaskCliRunner) -> None:
    run(runner, "run", str(sample("legacy-export.csv")))
    status = run(runner, "status")
    assert "[succeeded]" in status and "read 38/38" in status
    job_id = status.split("job ", 1)[1].split(" ", 1)[0]  # ids go on across tests
    errors = report_rows(run(runner, "errors", job_id))
    assert [row[0] for row in errors[1:]] == ["32", "34", "37", "38", "39"]


def test_a_file_that_is_not_an_export_creates_no_job(app: Flask, runner: FlaskCliRunner,
                                                    tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a;b;c\r\n1;2;3\r\n")
    result = runner.invoke(args=["migrations", "run", str(other)])
    assert result.exit_code != 0 and "en-tête inattendu" in result.output
    with app.app_context():
        assert count(MigrationJob) == 0


def test_a_file_with_a_code_and_a_mobile_issued_here_keeps_them(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    """An agent issued a code and recorded a mobile number for a file before the bulk run:
    the file is migrated, but its code and mobile here stay (the legacy ones are not carried
    over), and every other line has the outcome it would have had."""
    load_registry_sample(app)
    with app.app_context():
        codes = app.extensions["telepoints"].codes
        agent_code = codes.issue(db.session(), "991091010000", "agent")
        save_contact(db.session(), "991091010000", mobile="+33639980001", address=None,
                     source="agent", now=dt.datetime.now(dt.UTC))
        db.session.commit()
    report = tmp_path / "report.csv"
    run(runner, "run", str(sample("legacy-export.csv")), "--report", str(report))
    assert outcomes(report) == expected_outcomes()
    with app.app_context():
        account = db.session.get(MigratedAccount, "991091010000")
        assert account is not None and not account.code_imported
        kept = db.session.scalars(select(ConfidentialCode).where(
            ConfidentialCode.numero == "991091010000")).one()
        assert kept.origin == "agent"
        contact = db.session.get(HolderContact, "991091010000")
        assert contact is not None and (contact.mobile, contact.source) == (
            "+33639980001", "agent")
        assert count(MigratedAccount) == count(ConfidentialCode) == 33
    service = soap_client(app.test_client())
    assert service.ConsulterSolde(numeroDossier="991091010000",
                                  codeConfidentiel=agent_code).body.numeroDossier
    legacy_code = dict((numero, code) for numero, code, _ in sample_codes())["991091010000"]
    with pytest.raises(zeep.exceptions.Fault):
        service.ConsulterSolde(numeroDossier="991091010000", codeConfidentiel=legacy_code)

