"""Later exports and codes reissued on the legacy side after the migration: a later export's
line whose CODE_EMIS_LE is after the code held here gives MIS_A_JOUR (dry run and real) and its
code replaces the old one, for a zeep client too; a code issued here since wins; and, while the
legacy backend is configured, a wrong code for a file migrated with its legacy code is asked
there, and taken when the legacy backend accepts it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import zeep
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from migrations.accounts.models import MigratedAccount
from migrations.jobs import services, worker
from migrations.jobs.models import STAGE, MigrationEntry
from migrations.jobs.runner import dependencies
from migrations.legacy_backend.store import engine_for, load_export
from modern.db import db
from modern.throttling import throttling
from telepoints_compat.codes.models import ConfidentialCode
from telepoints_compat.context import compat
from tests.migrations.conftest import (
    Server,
    fault_code,
    load_registry_sample,
    report_rows,
    sample,
    soap_client,
)

HEADER = ("NUM_DOSSIER;CODE_EMPREINTE;CODE_EMIS_LE;CODE_VALIDE_JUSQU_AU;TELEPHONE;EMAIL;ECHECS;"
          "BLOQUE_JUSQU_AU;STATUT;CREE_LE;DERNIERE_CONNEXION;NOM;PRENOM;DATE_NAISSANCE")
REISSUED, OLD_CODE, NEW_CODE = "991091010000", "RW5S3KHZ", "NOUVEAU7"
SAME = "850931010001"  # the same line again: already migrated, nothing to take
ISSUED_HERE = "971060030002"  # a code issued here after the migration


def line(numero: str, code: str, issued: str) -> str:
    fingerprint = "MD5::" + hashlib.md5(code.encode()).hexdigest()
    return f"{numero};{fingerprint};{issued};;;;0;;ACTIF;18/02/2022 10:00:00;;NOM;Prénom;18/02/1957"


def later_export(path: Path) -> Path:
    original = sample("legacy-export.csv").read_bytes().decode("cp1252").split("\r\n")
    same = next(row for row in original if row.startswith(SAME + ";"))
    rows = [HEADER, line(REISSUED, NEW_CODE, "02/11/2026"), same,
            line(ISSUED_HERE, "ANCIEN99", "01/01/2025")]
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    return path


def run(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=["migrations", *args])
    assert result.exit_code == 0, result.output
    return result.output


def outcomes(report: Path) -> dict[str, tuple[str, str]]:
    return {row[1]: (row[2], row[3]) for row in
            report_rows(report.read_text(encoding="utf-8"))[1:]}


def answer(service: Any, numero: str, code: str) -> str:
    try:
        return str(service.ConsulterSolde(numeroDossier=numero,
                                          codeConfidentiel=code).body.numeroDossier)
    except zeep.exceptions.Fault as fault:
        return str(fault_code(fault))


def issue_here(app: Flask, numero: str) -> str:
    with app.app_context():
        code = compat().codes.issue(db.session(), numero, "agent")
        db.session.commit()
    return str(code)


def test_a_later_export_replaces_a_reissued_code(app: Flask, runner: FlaskCliRunner,
                                                 tmp_path: Path) -> None:
    load_registry_sample(app)
    run(runner, "run", str(sample("legacy-export.csv")))
    here = issue_here(app, ISSUED_HERE)
    later = later_export(tmp_path / "later.csv")

    dry = tmp_path / "dry.csv"
    output = run(runner, "run", str(later), "--dry-run", "--report", str(dry))
    assert outcomes(dry) == {
        REISSUED: ("MIS_A_JOUR", "code réémis depuis la migration"),
        SAME: ("IGNORE_DEJA_MIGRE", "compte déjà migré"),
        ISSUED_HERE: ("IGNORE_DEJA_MIGRE", "compte déjà migré")}
    assert "updated 1" in output
    service = soap_client(app.test_client())
    assert answer(service, REISSUED, OLD_CODE) == REISSUED  # a dry run changed nothing
    assert answer(service, REISSUED, NEW_CODE) == "IDENTIFIANTS_INVALIDES"

    real = tmp_path / "real.csv"
    output = run(runner, "run", str(later), "--report", str(real))
    assert outcomes(real) == outcomes(dry)
    assert "migrated 0" in output and "updated 1" in output
    with app.app_context():  # the dry run's tries with the new code are forgotten
        lockout = throttling().lockout
        lockout.record_success(REISSUED, lockout.state(REISSUED))
    assert answer(service, REISSUED, NEW_CODE) == REISSUED
    assert answer(service, REISSUED, OLD_CODE) == "IDENTIFIANTS_INVALIDES"
    assert answer(service, ISSUED_HERE, here) == ISSUED_HERE  # issued here since: it wins
    assert answer(service, ISSUED_HERE, "ANCIEN99") == "IDENTIFIANTS_INVALIDES"
    with app.app_context():
        codes = db.session.scalars(select(ConfidentialCode).where(
            ConfidentialCode.numero == REISSUED)).all()
        assert [(c.origin, c.pending) for c in codes] == [("legacy", False)]
        account = db.session.get(MigratedAccount, REISSUED)
        assert account is not None and str(account.legacy_issued_on) == "2026-11-02"

    # The same later export again: its code is now the one held, nothing more to take.
    again = tmp_path / "again.csv"
    run(runner, "run", str(later), "--report", str(again))
    assert outcomes(again)[REISSUED] == ("IGNORE_DEJA_MIGRE", "compte déjà migré")


def test_the_job_status_counts_lines_done_during_the_first_phase(
        app: Flask, tmp_path: Path) -> None:
    """A file repeated in every chunk holds one line of each back until the barrier; the
    others are final as soon as they are staged, and the status says so."""
    rows = [HEADER]
    for index in range(60):
        if index % 10 == 0:
            rows.append(line("880000000001", "REPETE11", f"{index % 28 + 1:02d}/01/2024"))
        else:
            rows.append(line(f"7700000{index:05d}", f"CODE{index:04d}", "01/01/2024"))
    export = tmp_path / "repeated.csv"
    export.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    seen: list[tuple[int, int]] = []
    with app.app_context():
        with export.open("rb") as stream:
            job = services.create_job(db.session(), stream, source_name="repeated.csv",
                                      created_by="test", lines_per_chunk=10)
            services.start(db.session(), job.id)
            db.session.commit()
        job_id = job.id

        def during(phase: str, _lines: int) -> None:
            if phase == STAGE:
                with app.app_context():
                    status = services.status(db.session(), job_id)
                    seen.append((status.read, status.migrated))
                    db.session.rollback()

        assert worker.work(db.engine, job_id, dependencies(app), on_chunk=during) == "succeeded"
        db.session.rollback()
        final = services.status(db.session(), job_id)
    # Six chunks, each with one line held back: after the first chunk, nine lines are done.
    assert seen[0] == (9, 9)
    assert seen[-1] == (54, 54)
    assert (final.state, final.read, final.migrated, final.ignored_doublon) == (
        "succeeded", 60, 55, 5)


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if "legacy_backend" not in request.fixturenames:
        return {}
    backend: Server = request.getfixturevalue("legacy_backend")
    return {"legacy_telepoints_url": backend.url + "/telepoints/ws"}


def failures(app: Flask, numero: str) -> int:
    with app.app_context():
        return throttling().lockout.state(numero).failures


def test_a_code_reissued_at_the_legacy_operator_is_checked_there(
        app: Flask, runner: FlaskCliRunner, legacy_backend: Server, tmp_path: Path) -> None:
    load_registry_sample(app)
    run(runner, "run", str(sample("legacy-export.csv")))
    here = issue_here(app, ISSUED_HERE)
    # The legacy operator reissues two codes after the export was taken.
    legacy = engine_for(legacy_backend.database)  # type: ignore[attr-defined]
    with later_export(tmp_path / "later.csv").open("rb") as stream:
        load_export(legacy, stream)
    legacy.dispose()
    service = soap_client(app.test_client())

    assert answer(service, REISSUED, NEW_CODE) == REISSUED  # accepted there, taken here
    assert answer(service, REISSUED, OLD_CODE) == "IDENTIFIANTS_INVALIDES"
    legacy_backend.stop()  # from now on, answered here only
    assert answer(service, REISSUED, NEW_CODE) == REISSUED
    # A file whose code was issued here since is not the legacy side's any more: its
    # legacy code is a wrong code, counted like any other.
    assert answer(service, ISSUED_HERE, "ANCIEN99") == "IDENTIFIANTS_INVALIDES"
    assert failures(app, ISSUED_HERE) == 1
    assert answer(service, ISSUED_HERE, here) == ISSUED_HERE
    with app.app_context():
        account = db.session.get(MigratedAccount, REISSUED)
        assert account is not None and account.code_imported
        assert db.session.scalar(select(MigrationEntry.outcome).limit(1)) is not None


def test_a_wrong_code_for_a_migrated_file_counts_once_and_is_refused(
        app: Flask, runner: FlaskCliRunner, legacy_backend: Server) -> None:
    load_registry_sample(app)
    run(runner, "run", str(sample("legacy-export.csv")))
    service = soap_client(app.test_client())
    assert answer(service, REISSUED, "FAUXCODE") == "IDENTIFIANTS_INVALIDES"
    assert failures(app, REISSUED) == 1
    legacy_backend.stop()  # out of reach: the file is migrated, nothing else changes
    assert answer(service, REISSUED, "FAUXCODE") == "IDENTIFIANTS_INVALIDES"
    assert failures(app, REISSUED) == 2
    assert answer(service, REISSUED, OLD_CODE) == REISSUED
