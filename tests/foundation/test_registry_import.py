"""`flask registry import`: counts, idempotence, ordering by dateMiseAJour, bad lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from modern.db import db
from modern.licences.cli import SAMPLE_REGISTRY
from modern.licences.models import Licence
from tests.conftest import SAMPLES, contract_file


def _write(path: Path, records: list[dict[str, Any] | str]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n"
                            for r in records), encoding="utf-8")
    return path


def _sample_records() -> list[dict[str, Any]]:
    contract_file("samples/registry-extract.jsonl")
    return [json.loads(line) for line in
            (SAMPLES / "registry-extract.jsonl").read_text(encoding="utf-8").splitlines()]


def _import(runner: FlaskCliRunner, path: Path) -> Any:
    return runner.invoke(args=["registry", "import", str(path)])


def _stored(app: Flask) -> dict[str, tuple[int, str]]:
    with app.app_context():
        return {row.numero: (row.solde, row.etat) for row in db.session.scalars(select(Licence))}


def _documents(app: Flask) -> dict[str, tuple[bytes, object]]:
    with app.app_context():
        return {r.numero: (r.document, r.imported_at) for r in db.session.scalars(select(Licence))}


def test_the_sample_extract_is_imported(app: Flask, runner: FlaskCliRunner) -> None:
    path = contract_file("samples/registry-extract.jsonl")
    result = _import(runner, path)
    assert result.exit_code == 0, result.output
    assert "read 34, inserted 34, replaced 0, unchanged 0, rejected 0" in result.output
    stored = _stored(app)
    assert len(stored) == 34
    assert stored["991091010000"] == (11, "VALIDE")
    with app.app_context():
        record = db.session.get(Licence, "991091010000").record()
    assert record.titulaire.prenoms == "Hélène"
    assert record.mouvements[0].classe == "C3"


def test_a_second_import_of_the_same_extract_changes_nothing(
        app: Flask, runner: FlaskCliRunner) -> None:
    path = contract_file("samples/registry-extract.jsonl")
    _import(runner, path)
    before = _documents(app)
    result = _import(runner, path)
    assert "read 34, inserted 0, replaced 0, unchanged 34, rejected 0" in result.output
    assert _documents(app) == before


def test_a_newer_delivery_replaces_and_an_older_one_does_not(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    record = _sample_records()[0]
    newer = {**record, "solde": 9, "dateMiseAJour": "2026-11-24T03:00:00Z"}
    older = {**record, "solde": 12, "dateMiseAJour": "2026-10-01T03:00:00Z"}
    _import(runner, _write(tmp_path / "a.jsonl", [record]))
    result = _import(runner, _write(tmp_path / "b.jsonl", [newer]))
    assert "inserted 0, replaced 1, unchanged 0" in result.output
    result = _import(runner, _write(tmp_path / "c.jsonl", [older]))
    assert "inserted 0, replaced 0, unchanged 1" in result.output
    assert _stored(app)[record["numeroDossier"]] == (9, "VALIDE")


def test_within_one_file_the_newest_delivery_wins(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    record = _sample_records()[0]
    lines = [{**record, "solde": 8, "dateMiseAJour": "2026-11-20T03:00:00Z"},
             {**record, "solde": 10, "dateMiseAJour": "2026-11-01T03:00:00Z"},
             {**record, "solde": 7, "dateMiseAJour": "2026-11-21T03:00:00Z"}]
    result = runner.invoke(args=["registry", "import", "--batch-size", "2",
                                 str(_write(tmp_path / "d.jsonl", lines))])
    assert "read 3, inserted 1, replaced 1, unchanged 1, rejected 0" in result.output
    assert _stored(app)[record["numeroDossier"]] == (7, "VALIDE")


def test_file_numbers_are_normalised(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    record = {**_sample_records()[0], "numeroDossier": "ab 12 345 678"}
    _import(runner, _write(tmp_path / "e.jsonl", [record]))
    assert list(_stored(app)) == ["AB12345678"]


def test_bad_lines_are_reported_with_their_number_and_the_rest_loads(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    good = _sample_records()
    missing = {k: v for k, v in good[2].items() if k != "solde"}
    bad_date = {**good[3], "dateMiseAJour": "2026-02-30T03:00:00Z"}
    unknown_status = {**good[4], "etatPermis": "PERIME"}
    bad_movement = {**good[5], "mouvements": [{"id": "x", "type": "RETRAIT",
                                               "dateValeur": "2026-01-01", "points": 2}]}
    huge = '{"numeroDossier": "' + "9" * (10 * 1024 * 1024) + '"}'
    path = _write(tmp_path / "f.jsonl", [
        good[0], "{not json", missing, bad_date, "", unknown_status, huge, bad_movement, good[1]])
    result = _import(runner, path)
    assert result.exit_code == 0
    out = result.output
    assert "f.jsonl:2: rejected: not valid JSON" in out
    assert "f.jsonl:3: rejected: Object missing required field `solde`" in out
    assert "f.jsonl:4: rejected: Invalid RFC3339 encoded datetime - at `$.dateMiseAJour`" in out
    assert "f.jsonl:6: rejected: Invalid enum value 'PERIME' - at `$.etatPermis`" in out
    assert "f.jsonl:7: rejected: line longer than" in out
    assert "f.jsonl:8: rejected: movement x: RETRAIT needs dateInfraction and classe" in out
    assert "read 8, inserted 2, replaced 0, unchanged 0, rejected 6" in out
    assert set(_stored(app)) == {good[0]["numeroDossier"], good[1]["numeroDossier"]}


def test_an_unreadable_file_fails(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = _import(runner, tmp_path / "absent.jsonl")
    assert result.exit_code != 0
    assert "cannot read" in result.output


def test_demo_seed_covers_every_situation(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo", "seed", "--count", "320", "--as-of", "2026-11-26"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        records = [row.record() for row in db.session.scalars(select(Licence))]
    # The generated licences, and the contracts' sample extract when it is beside the project.
    assert len(records) == 320 + (34 if SAMPLE_REGISTRY.is_file() else 0)
    states = {r.etat_permis for r in records}
    assert {"VALIDE", "SUSPENDU", "INVALIDE"} <= states
    assert any(r.probatoire and r.probatoire.aac for r in records)
    assert any(r.probatoire and not r.probatoire.aac for r in records)
    assert any(not r.numero_dossier.isdigit() for r in records)
    assert any(c.date_fin_validite for r in records for c in r.categories)
    assert any(m.type == "STAGE" for r in records for m in r.mouvements)
    assert any(len(r.mouvements) >= 7 for r in records)
    again = runner.invoke(args=["demo", "seed"])
    assert "nothing done" in again.output


def test_the_demo_generator_is_deterministic() -> None:
    import datetime as dt

    from modern.licences.generator import generate

    day = dt.date(2026, 11, 26)
    assert list(generate(50, 7, day)) == list(generate(50, 7, day))
    assert list(generate(50, 7, day)) != list(generate(50, 8, day))
