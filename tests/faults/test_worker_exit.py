"""A gunicorn worker that leaves gracefully (SIGTERM, what service managers send; a recycle
after `max_requests` leaves the same way) writes what it counted in memory and had not
written yet: the census's last seconds (written every 5 s otherwise) and the legacy code uses
noted since its last write. Without gunicorn.conf.py's `worker_exit`, they were lost."""

from __future__ import annotations

import datetime as dt
import signal
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from migrations.census.services import FLUSH_SECONDS
from modern.schema import upgrade
from tests.conftest import SAMPLES
from tests.faults.servers import Gunicorn, flask, service_env

pytestmark = pytest.mark.slow

NUMERO = "991091010000"
BODY = ('<?xml version="1.0" encoding="utf-8"?><s:Envelope '
        'xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:tp="urn:fr:interieur:telepoints:v1"><s:Body><tp:ConsulterSolde>'
        f"<tp:numeroDossier>{NUMERO}</tp:numeroDossier><tp:codeConfidentiel>{{code}}"
        "</tp:codeConfidentiel></tp:ConsulterSolde></s:Body></s:Envelope>")


def test_a_worker_leaving_gracefully_writes_its_counts(tmp_path: Path) -> None:
    if not (SAMPLES / "registry-extract.jsonl").exists():
        pytest.skip("the contracts samples are not beside the project")
    url = f"sqlite:///{tmp_path / 'service.db'}"
    engine = create_engine(url)
    upgrade(engine)
    env = service_env(tmp_path / "instance", url)
    flask(env, "registry", "import", str(SAMPLES / "registry-extract.jsonl"))
    code = flask(env, "codes", "issue", NUMERO).stdout.split("confidential code ")[1].split()[0]
    with engine.begin() as connection:  # the file came with the migration
        connection.execute(text(
            "INSERT INTO migrated_account (numero, source, migrated_at, legacy_statut, "
            "legacy_failures, code_imported) VALUES (:numero, 'bulk', :now, 'ACTIF', 0, 1)"),
            {"numero": NUMERO, "now": dt.datetime.now(dt.UTC)})

    gunicorn = Gunicorn(env, tmp_path, workers=1)
    gunicorn.start()
    answer = requests.post(f"{gunicorn.url}/telepoints/ws", data=BODY.format(code=code),
                           headers={"Content-Type": "text/xml; charset=utf-8",
                                    "User-Agent": "AutoEcole/2.1"}, timeout=10)
    counted_at = time.monotonic()
    assert answer.status_code == 200, answer.text
    with engine.connect() as connection:  # counted in memory, not written yet
        assert connection.execute(text("SELECT count(*) FROM legacy_client_day")).scalar() == 0

    assert gunicorn.process is not None
    gunicorn.process.send_signal(signal.SIGTERM)
    gunicorn.process.wait(30)
    gunicorn.process = None
    if time.monotonic() - counted_at >= FLUSH_SECONDS:
        pytest.skip("the worker took longer to leave than the census waits between writes: "
                    "its timer may have written the counts")
    with engine.connect() as connection:
        counts = connection.execute(text(
            "SELECT operation, requests FROM legacy_client_day")).all()
        used = connection.execute(text(
            "SELECT legacy_used_on FROM migrated_account WHERE numero = :numero"),
            {"numero": NUMERO}).scalar()
    engine.dispose()
    assert [tuple(row) for row in counts] == [("ConsulterSolde", 1)], gunicorn.problems()
    assert str(used) == dt.datetime.now(dt.UTC).date().isoformat()
