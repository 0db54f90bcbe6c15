"""Confidential codes: how they are made, kept, checked, expired, rotated, carried over from the
legacy export, and that they appear neither in the logs nor in the database."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from modern.db import db
from modern.holder_proof import Channel, ProofOutcome, holder_proof
from modern.licences.record import decode_record
from modern.settings import Settings
from telepoints_compat.codes.keys import KeyRing
from telepoints_compat.codes.models import ConfidentialCode
from telepoints_compat.codes.services import ALPHABET, CODE_LENGTH, CodeService, generate_code
from telepoints_compat.context import compat
from tests.compat.conftest import NOW, NUMERO, Holder, envelope, issue, post, solde_request
from tests.compat.web_helpers import sign_in
from tests.conftest import SAMPLES

KEY_A = ("a", b"A" * 32)
KEY_B = ("b", b"B" * 32)


def test_codes_are_readable_and_random() -> None:
    codes = {generate_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == CODE_LENGTH and set(code) <= set(ALPHABET) for code in codes)
    assert not set(ALPHABET) & set("01IO")
    assert len(ALPHABET) == 32  # 10 symbols: 50 bits


def test_an_agent_issues_a_code_with_the_cli(app: Flask, runner: FlaskCliRunner,
                                             client: FlaskClient, registry: None) -> None:
    result = runner.invoke(args=["codes", "issue", "99 1091 010000"])
    assert result.exit_code == 0, result.output
    code = result.output.split("confidential code ")[1].split()[0]
    response = post(client, envelope(solde_request(NUMERO, code)))
    assert response.status_code == 200
    assert runner.invoke(args=["codes", "issue", "990000000000"]).exit_code == 1
    assert "local (current): 1 codes" in runner.invoke(args=["codes", "keys"]).output


def test_an_agent_lifts_a_lock(runner: FlaskCliRunner, client: FlaskClient,
                               holder: Holder) -> None:
    for _ in range(5):
        sign_in(client, NUMERO, "WRONG2345")
    assert sign_in(client, NUMERO, holder.code).status_code == 403
    result = runner.invoke(args=["codes", "unlock", NUMERO])
    assert "5 failures forgotten, lock until" in result.output
    assert sign_in(client, NUMERO, holder.code).status_code == 303


def test_no_code_in_the_logs_or_in_the_database(app: Flask, client: FlaskClient,
                                                runner: FlaskCliRunner, holder: Holder,
                                                caplog: pytest.LogCaptureFixture,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    issued = runner.invoke(args=["codes", "issue", NUMERO]).output
    cli_code = issued.split("confidential code ")[1].split()[0]
    sign_in(client, NUMERO, "WRONG2345")
    sign_in(client, NUMERO, cli_code)
    body = ("<tp:DemanderCodeConfidentiel><tp:numeroDossier>991091010000</tp:numeroDossier>"
            "<tp:dateNaissance>1957-02-18</tp:dateNaissance></tp:DemanderCodeConfidentiel>")
    post(client, envelope(body))
    app.extensions["after_answer"].drain()  # the code is sent after the answer
    with app.app_context():
        [sms] = app.extensions["outbox"].entries(reveal=True)
        sent_code = sms.body.split(" est ")[1].split(".")[0]
        dump = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                dump.append(repr(tuple(row)))
    secrets = [holder.code, cli_code, sent_code, "WRONG2345"]
    logs = caplog.text + "".join(capfd.readouterr())
    database = "\n".join(dump)
    for secret in secrets:
        assert secret not in logs
        assert secret not in database
        assert secret.lower() not in database
    assert NUMERO not in logs  # file numbers are masked in logs too


def test_keyed_hash_depends_on_the_key_and_the_file() -> None:
    service = CodeService(KeyRing((KEY_A,)))
    other_key = CodeService(KeyRing((KEY_B,)))
    digest = service._digest(KEY_A[1], "hmac-sha256", NUMERO, "ABCDEFGH", None)
    assert digest != other_key._digest(KEY_B[1], "hmac-sha256", NUMERO, "ABCDEFGH", None)
    assert digest != service._digest(KEY_A[1], "hmac-sha256", "991091010001", "ABCDEFGH", None)


def _settings_with_keys(*keys: tuple[str, bytes]) -> dict[str, Any]:
    return {"code_keys": tuple(keys)}


class TestKeyRotation:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return _settings_with_keys(KEY_A)

    def test_old_codes_still_work_and_are_rehashed(self, app: Flask, holder: Holder,
                                                   make_settings: Any) -> None:
        with app.app_context():
            row = db.session.scalars(select(ConfidentialCode)).one()
            assert row.key_id == "a"
            rotated = CodeService(KeyRing((KEY_B, KEY_A)), clock=compat().clock)
            check = rotated.check(db.session, NUMERO, holder.code)
            assert check.outcome == "ok" and check.matched is not None
            rotated.after_success(db.session, check.matched, holder.code)
            db.session.commit()
            row = db.session.scalars(select(ConfidentialCode)).one()
            assert row.key_id == "b"
            assert CodeService(KeyRing((KEY_B,))).check(db.session, NUMERO,
                                                        holder.code).outcome == "ok"


def test_code_keys_from_the_environment() -> None:
    encoded = base64.urlsafe_b64encode(b"k" * 32).decode()
    settings = Settings.from_env({"CODE_KEYS": f"2027:{encoded},2026:{encoded}"})
    assert [key_id for key_id, _ in settings.code_keys] == ["2027", "2026"]
    assert "code_keys" not in repr(settings)


def _legacy_rows() -> list[dict[str, str]]:
    path = SAMPLES / "legacy-export.csv"
    if not path.exists():
        pytest.skip("the contracts samples are not beside the project")
    text = path.read_bytes().decode("cp1252")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_legacy_fingerprints_keep_working_and_are_upgraded(app: Flask, registry: None) -> None:
    plain = {row["numero"]: row["code"] for row in csv.DictReader(
        (SAMPLES / "codes.csv").open(encoding="utf-8"), delimiter=";")}
    rows = [row for row in _legacy_rows()
            if row["NUM_DOSSIER"].replace(" ", "").upper() in plain][:8]
    schemes = {row["CODE_EMPREINTE"].split(":")[0] for row in rows}
    assert schemes == {"SHA1", "MD5"}
    with app.test_request_context():
        service = compat().codes
        for row in rows:
            numero = row["NUM_DOSSIER"].replace(" ", "").upper()
            service.import_legacy(db.session, numero, row["CODE_EMPREINTE"], issued_at=NOW)
        db.session.commit()
        stored = "\n".join(repr(tuple(r)) for r in db.session.execute(
            select(ConfidentialCode.__table__)))
        for row in rows:
            assert row["CODE_EMPREINTE"].split(":")[-1].lower() not in stored.lower()
        for row in rows:
            numero = row["NUM_DOSSIER"].replace(" ", "").upper()
            result = holder_proof().verify(numero, plain[numero].lower(), Channel.SOAP)
            assert result.outcome is ProofOutcome.OK, numero
        db.session.commit()
        assert set(db.session.scalars(select(ConfidentialCode.scheme))) == {"hmac-sha256"}
        for row in rows:  # and still work once upgraded
            numero = row["NUM_DOSSIER"].replace(" ", "").upper()
            assert holder_proof().verify(numero, plain[numero], Channel.SOAP).ok


def test_a_code_retired_for_the_modern_web_still_works_for_legacy_clients(
        app: Flask, client: FlaskClient, holder: Holder) -> None:
    with app.test_request_context():
        holder_proof().retire_for_modern_web(NUMERO)
        db.session.commit()
        assert holder_proof().verify(NUMERO, holder.code, Channel.MODERN_WEB).outcome \
            is ProofOutcome.INVALID
        assert holder_proof().verify(NUMERO, holder.code, Channel.LEGACY_WEB).ok
        db.session.commit()
    assert post(client, envelope(solde_request(NUMERO, holder.code))).status_code == 200
    # A new code, issued after the holder moved to the modern service, is not retired.
    code = issue(app, NUMERO)
    with app.test_request_context():
        assert holder_proof().verify(NUMERO, code, Channel.MODERN_WEB).ok


def test_the_holder_proof_reports_expiry_and_lock(app: Flask, holder: Holder) -> None:
    code = issue(app, NUMERO, valid_days=10)
    with app.test_request_context():
        compat().clock.fixed = NOW + dt.timedelta(days=11)
        assert holder_proof().verify(NUMERO, code, Channel.MODERN_WEB).outcome \
            is ProofOutcome.EXPIRED
        for _ in range(3):
            holder_proof().verify(NUMERO, "WRONG2345", Channel.MODERN_WEB)
        locked = holder_proof().verify(NUMERO, "WRONG2345", Channel.MODERN_WEB)
        assert locked.outcome is ProofOutcome.LOCKED and locked.locked_until is not None


def test_the_licence_record_comes_with_the_right_code_only(app: Flask, holder: Holder) -> None:
    """The SOAP operations read the codes and the record with one query: the record is handed
    over after a success, never after a wrong code or for an unknown file."""
    with app.app_context():
        codes = compat().codes
        check, document = codes.check_reading_record(db.engine, NUMERO, holder.code.lower())
        assert check.outcome == "ok" and document is not None
        assert decode_record(document).numero_dossier == NUMERO
        for numero, code in ((NUMERO, "WRONG2345"), ("991091019999", holder.code)):
            check, document = codes.check_reading_record(db.engine, numero, code)
            assert (check.outcome, document) == ("invalid", None)
