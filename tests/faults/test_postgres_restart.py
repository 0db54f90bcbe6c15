"""PostgreSQL restarted (a private cluster, tests/faults/servers.py) under load, and during a
migration job.

Under load: while the server is down every request is refused cleanly (a SOAP fault
SERVICE_INDISPONIBLE, a 503 problem or page, never a 500 nor a wrong answer); once it is back
the connection pools reconnect (pre-ping) and every request is answered again; the data is
exact: each file whose first use was sent is migrated once. Twice: with the counters and
sessions in PostgreSQL (no Redis), and in Redis (the production setup, where the database is
then the only thing down).

During a job: the server restarts twice under `migrations run`, early in the job and past its
middle; its workers wait for the server and do the lost batches again, the command succeeds,
and the database ends as after an uninterrupted run (the comparison of the kill -9 test)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from migrations.export import generator
from tests.faults.clients import Load, consulter_solde
from tests.faults.conftest import LazyService, assert_exactly_migrated
from tests.faults.servers import PYTHON, ROOT, PrivatePostgres, flask, service_env, wait_until
from tests.migrations.test_fault_injection import Database, job_state, snapshot

pytestmark = pytest.mark.slow

EMAIL = "titulaire@exemple.fr"


def refused_cleanly(response: requests.Response) -> bool:
    """A 503 that says so, as problem details or as a page; nothing of a 500."""
    if response.status_code != 503:
        return False
    if response.headers.get("Content-Type", "").startswith("application/problem+json"):
        return bool(response.json()["code"] == "SERVICE_INDISPONIBLE")
    return "indisponible" in response.text


@pytest.mark.parametrize("counters", ["database", "redis"])
def test_postgres_restarted_under_load(make_lazy_service: Callable[..., LazyService],
                                       postgres: PrivatePostgres,
                                       request: pytest.FixtureRequest, counters: str) -> None:
    redis = request.getfixturevalue("redis_server") if counters == "redis" else None
    service = make_lazy_service(postgres.create_database("test_faults"), redis)
    account = service.holders[-1]  # a file the load does not reach
    service.add_account(account.numero, EMAIL)
    service.engine.dispose()  # the test's own connections must not outlive the restart
    service.gunicorn.start()
    holder = service.signed_in(EMAIL)
    assert holder.get(service.url + "/api/v1/solde").status_code == 200
    stranger = type(holder)()
    token = stranger.form_token(service.url + "/compte/connexion")

    with Load(service.url, service.holders[:-1]) as load:
        wait_until(lambda: load.successes_since(0) >= 60, 60, "60 answers before the restart")
        stopped_at = time.monotonic()
        postgres.stop()
        wait_until(lambda: load.answers_since(stopped_at) >= 20, 30,
                   "20 requests while the server is down")
        # The other ways in, while it is down: the holder's API and dashboard, a sign-in,
        # the readiness check.
        during = {
            "api": holder.get(service.url + "/api/v1/solde"),
            "dashboard": holder.get(service.url + "/tableau-de-bord"),
            "sign-in": stranger.post(service.url + "/compte/connexion", data={
                "csrf_token": token, "email": EMAIL, "password": "pas le bon mot de passe"}),
        }
        ready = requests.get(service.url + "/readyz", timeout=15)
        postgres.start()
        restarted_at = time.monotonic()
        wait_until(lambda: load.successes_since(restarted_at) >= 100, 60,
                   "100 answers after the restart")

    assert {name: response.status_code for name, response in during.items()
            if not refused_cleanly(response)} == {}
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
    # Every SOAP answer is a right balance or a clean refusal; the first answer sent after
    # the restart that succeeded is followed by successes only.
    answers = [(h, a) for h, a in load.answers]
    refused = [a for _, a in answers if not a.ok]
    assert refused, "no request met the outage"
    assert all(a.status is not None and a.fault == "SERVICE_INDISPONIBLE" and a.message
               for a in refused), refused[:5]
    assert all(a.right_for(h) for h, a in answers if a.ok)
    back = min(a.at for _, a in answers if a.ok and a.at > restarted_at)
    assert [a for _, a in answers if a.at > back and not a.ok] == []

    # Afterwards: the pages answer again, nothing was counted against the holder, and each
    # file whose first use was refused is migrated at its next use, once.
    assert holder.get(service.url + "/api/v1/solde").status_code == 200
    assert requests.get(service.url + "/readyz", timeout=15).status_code == 200
    session = requests.Session()
    for first in load.in_doubt():
        assert consulter_solde(session, service.url, first.numero, first.code).ok
    assert_exactly_migrated(service, load.first_uses)
    assert '"unexpected error"' not in service.gunicorn.log_text()


LINES = 12_000
CHUNK = "200"


def _progress(database: Database) -> float:
    """The share of the job's work done (each chunk staged, then applied), 0 while the
    server is away."""
    try:
        with database.engine.connect() as connection:
            chunks = {status: int(count) for status, count in connection.execute(text(
                "SELECT status, count(*) FROM migration_chunk GROUP BY status"))}
    except SQLAlchemyError:
        return 0.0
    total = sum(chunks.values())
    return (chunks.get("staged", 0) + 2 * chunks.get("applied", 0)) / (2 * total or 1)


def test_postgres_restarted_during_a_migration_job(postgres: PrivatePostgres,
                                                   tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    generator.write(str(export), LINES, seed=7)
    instance = tmp_path / "instance"  # one code key for both runs
    reference = Database(postgres.create_database("test_faults_reference"))
    victim = Database(postgres.create_database("test_faults"))
    try:
        flask(service_env(instance, reference.url), "migrations", "run", str(export),
              "--chunk-lines", CHUNK)
        command = subprocess.Popen(
            [PYTHON, "-m", "flask", "--app", "wsgi", "migrations", "run", str(export),
             "--chunk-lines", CHUNK], cwd=ROOT, env=service_env(instance, victim.url),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # Restarted twice: early in the job, and past its middle.
            for share in (0.15, 0.55):
                wait_until(lambda share=share: _progress(victim) >= share, 120,
                           f"{share:.0%} of the job done")
                assert _progress(victim) < 1, "the job ended before the restart"
                victim.engine.dispose()
                postgres.restart(down_seconds=1.0)
            _, errors = command.communicate(timeout=180)
        finally:
            if command.poll() is None:
                command.kill()
                command.wait(10)
        for database in (reference, victim):
            database.engine.dispose()  # their connections did not outlive the restarts
        assert command.returncode == 0, errors[-3000:]
        assert "database unreachable: the batch will be done again" in errors
        assert job_state(victim) == "succeeded"
        assert snapshot(victim) == snapshot(reference)
    finally:
        reference.close()
        victim.close()
