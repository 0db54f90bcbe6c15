"""Lazy migration through the compatibility endpoint, against the local legacy backend served
on loopback: a legacy client's first use of a code migrates the file; a wrong code, a locked
or unknown file, or a silent backend write nothing; bulk and lazy never duplicate; twenty
concurrent first uses of one file leave exactly one account."""

from __future__ import annotations

import concurrent.futures
import logging
import socket
import threading
from typing import Any

import pytest
import zeep
from flask import Flask
from sqlalchemy import func, select

from adapters.legacy_telepoints import LegacyUnavailable, ZeepLegacyTelepoints
from migrations.accounts.models import MigratedAccount
from migrations.lazy import cutover
from migrations.lazy.models import LegacyTrafficDay
from migrations.legacy_backend.store import account as legacy_account
from migrations.legacy_backend.store import engine_for
from modern.db import db
from telepoints_compat.codes.models import ConfidentialCode
from telepoints_compat.soap.contract import WSDL_PATH
from tests.conftest import contract_file
from tests.migrations.conftest import Server, fault_code, load_registry_sample, soap_client

NUMERO, CODE = "991091010000", "RW5S3KHZ"


@pytest.fixture
def settings_overrides(legacy_backend: Server) -> dict[str, Any]:
    return {"legacy_telepoints_url": legacy_backend.url + "/telepoints/ws"}


@pytest.fixture
def service(app: Flask) -> Any:
    load_registry_sample(app)
    return soap_client(app.test_client())


def accounts(app: Flask, numero: str = NUMERO) -> tuple[int, int]:
    with app.app_context():
        migrated = db.session.scalar(select(func.count()).select_from(MigratedAccount).where(
            MigratedAccount.numero == numero))
        codes = db.session.scalar(select(func.count()).select_from(ConfidentialCode).where(
            ConfidentialCode.numero == numero))
        return int(migrated or 0), int(codes or 0)


def test_first_use_migrates_and_the_code_then_works_here(app: Flask, service: Any,
                                                        legacy_backend: Server) -> None:
    answer = service.ConsulterSolde(numeroDossier=NUMERO, codeConfidentiel=CODE.lower())
    assert answer.body.numeroDossier == NUMERO
    assert accounts(app) == (1, 1)
    legacy_backend.stop()  # from now on, this file is answered here only
    answer = service.ConsulterSolde(numeroDossier=NUMERO, codeConfidentiel=CODE)
    assert answer.body.solde == 11
    with app.app_context():
        record = db.session.get(MigratedAccount, NUMERO)
        assert record is not None and record.source == "lazy"
        panel = cutover.panel(db.session, app.config["SETTINGS"])
        assert panel.migrated_lazy == 1
        assert [t["result"] for t in panel.legacy_traffic] == ["migre"]


def test_a_wrong_code_writes_nothing_here(app: Flask, service: Any,
                                         legacy_backend: Server) -> None:
    with pytest.raises(zeep.exceptions.Fault) as fault:
        service.ConsulterSolde(numeroDossier=NUMERO, codeConfidentiel="AAAAAAAA")
    assert fault_code(fault.value) == "IDENTIFIANTS_INVALIDES"
    assert accounts(app) == (0, 0)
    # An unknown file and a closed account answer the same way.
    for numero in ("999999999999", "810103080101"):
        with pytest.raises(zeep.exceptions.Fault) as fault:
            service.ConsulterSolde(numeroDossier=numero, codeConfidentiel="DTXWH3E6")
        assert fault_code(fault.value) == "IDENTIFIANTS_INVALIDES"
    assert legacy_account(engine_for(legacy_backend.database), NUMERO)["echecs"] == 1  # type: ignore[attr-defined,index]


def test_a_silent_backend_fails_closed(app: Flask, service: Any,
                                       legacy_backend: Server) -> None:
    legacy_backend.stop()
    with pytest.raises(zeep.exceptions.Fault) as fault:
        service.ConsulterSolde(numeroDossier=NUMERO, codeConfidentiel=CODE)
    assert fault_code(fault.value) == "SERVICE_INDISPONIBLE"
    assert accounts(app) == (0, 0)


def test_the_switch_off_stops_calling_the_legacy_backend(app: Flask, service: Any) -> None:
    with app.app_context():
        cutover.set_mode(db.session, cutover.MODE_OFF, "test")
        db.session.commit()
    with pytest.raises(zeep.exceptions.Fault) as fault:
        service.ConsulterSolde(numeroDossier=NUMERO, codeConfidentiel=CODE)
    assert fault_code(fault.value) == "IDENTIFIANTS_INVALIDES"
    with app.app_context():
        cutover.set_mode(db.session, cutover.MODE_LEGACY, "test")
        db.session.commit()
    answer = service.ConsulterSolde(numeroDossier=NUMERO, codeConfidentiel=CODE)
    assert answer.body.numeroDossier == NUMERO  # answered, through the legacy backend's check
    assert accounts(app) == (0, 0)  # but nothing migrated


def test_bulk_after_lazy_reports_already_migrated(app: Flask, service: Any, tmp_path) -> None:  # type: ignore[no-untyped-def]
    service.ConsulterSolde(numeroDossier=NUMERO, codeConfidentiel=CODE)
    report = tmp_path / "r.csv"
    runner = app.test_cli_runner()
    from tests.migrations.conftest import sample
    result = runner.invoke(args=["migrations", "run", str(sample("legacy-export.csv")),
                                 "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "2;991091010000;IGNORE_DEJA_MIGRE;compte déjà migré" in report.read_text()
    assert accounts(app) == (1, 1)


def test_twenty_concurrent_first_uses_leave_one_account(app: Flask, legacy_backend: Server,
                                                        caplog: pytest.LogCaptureFixture,
                                                        ) -> None:
    """One account, and one request that says it created it: one `migre` counted, the legacy
    code kept (`code_imported`), one "new account" line. On PostgreSQL this reads what the
    database returned for the insert (its rowcount is -1 under psycopg 3 whether or not it
    inserted, and every request that raced once counted itself the creator)."""
    load_registry_sample(app)
    server = Server(app)
    wsdl = str(contract_file("telepoints-v1.wsdl"))
    caplog.set_level(logging.INFO, logger="telepoints.migration")
    start = threading.Barrier(20)
    try:
        def first_use(_: int) -> str:
            client = zeep.Client(wsdl)
            service = client.create_service(
                "{urn:fr:interieur:telepoints:v1}TelepointsSoap11",
                server.url + "/telepoints/ws")
            start.wait(30)
            try:
                return str(service.ConsulterSolde(numeroDossier=NUMERO,
                                                  codeConfidentiel=CODE).body.numeroDossier)
            except zeep.exceptions.Fault as fault:
                return str(fault_code(fault))

        barrier_pool = concurrent.futures.ThreadPoolExecutor(max_workers=20)
        with barrier_pool:
            results = list(barrier_pool.map(first_use, range(20), timeout=60))
    finally:
        server.stop()
    assert results.count(NUMERO) >= 1
    assert set(results) <= {NUMERO, "SERVICE_INDISPONIBLE"}
    assert accounts(app) == (1, 1)
    with app.app_context():
        counted = dict(db.session.execute(select(
            LegacyTrafficDay.result, func.sum(LegacyTrafficDay.count)).group_by(
            LegacyTrafficDay.result)).all())
        record = db.session.get(MigratedAccount, NUMERO)
        assert record is not None and record.code_imported is True
    assert counted.get("migre") == 1, counted
    new_accounts = [r for r in caplog.records
                    if getattr(r, "event", None) == "lazy_migration" and r.new_account]
    assert len(new_accounts) == 1


def test_the_adapter_gives_up_after_its_time_limit() -> None:
    """A backend that accepts the connection and never answers: LegacyUnavailable, within a
    bounded wait (the limit is the adapter's; no timing is asserted here)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    try:
        legacy = ZeepLegacyTelepoints(WSDL_PATH, f"http://127.0.0.1:{port}/telepoints/ws",
                                      timeout=0.5)
        with pytest.raises(LegacyUnavailable):
            legacy.check_code(NUMERO, CODE)
        legacy.close()
    finally:
        listener.close()


def test_the_adapter_reads_the_backend_answers(legacy_backend: Server) -> None:
    legacy = ZeepLegacyTelepoints(WSDL_PATH, legacy_backend.url + "/telepoints/ws")
    try:
        assert legacy.check_code(NUMERO, CODE).answer.value == "accepted"
        assert legacy.check_code(NUMERO, "WRONGCOD").answer.value == "refused"
        locked = legacy.check_code("131251080103", "G75RVNTU")
        assert locked.answer.value == "locked" and locked.locked_until is not None
    finally:
        legacy.close()
