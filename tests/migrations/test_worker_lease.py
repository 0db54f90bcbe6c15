"""Jobs outlive their workers: a worker process killed with SIGKILL in the middle of a job
leaves it running with a lease nobody renews, and the next worker takes it up without any
manual resume: a standing `migrations work` process, or the web process that next answers an
admin request. The job then ends exactly as an uninterrupted run. Every wait is bounded;
nothing is timed."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text

from migrations.export import generator
from migrations.jobs import services
from migrations.jobs.models import MigrationJob
from modern.db import db
from tests.migrations.test_fault_injection import (
    ROOT,
    Database,
    databases,  # noqa: F401 - a fixture
    env_for,
    flask,
    job_state,
    snapshot,
)

pytestmark = pytest.mark.slow
LEASE = "5"  # seconds: the shortest the settings accept


def progress(database: Database) -> tuple[str, int]:
    with database.engine.connect() as connection:
        state = str(connection.scalar(text("SELECT state FROM migration_job WHERE id = 1")))
        done = int(connection.scalar(text(
            "SELECT count(*) FROM migration_chunk WHERE job_id = 1 AND status <> 'pending'"))
            or 0)
    return state, done


def kill_when_started(process: subprocess.Popen[bytes], started: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 120
    while not started():
        assert process.poll() is None, "the worker ended before it could be killed"
        assert time.monotonic() < deadline, "the worker never started"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_a_standing_worker_takes_up_a_job_whose_worker_was_killed(
        databases: list[Database], tmp_path: Path) -> None:  # noqa: F811
    export = tmp_path / "export.csv"
    generator.write(str(export), 12_000, seed=7)
    instance = tmp_path / "instance"
    reference, victim = databases
    flask(env_for(reference, instance), "run", str(export), "--chunk-lines", "300")

    env = {**env_for(victim, instance), "MIGRATION_LEASE_SECONDS": LEASE}
    flask(env, "run", str(export), "--chunk-lines", "300", "--no-start")
    first = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "migrations", "resume", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_when_started(first, lambda: progress(victim)[1] >= 3)
    state, done = progress(victim)
    assert state == "running" and done < 80  # killed in the middle: nobody works on it now

    # Nobody resumes it: a standing worker finds it and finishes it.
    output = flask(env, "work", "--once", "--poll", "0.2")
    assert "jobs worked on: 1" in output
    assert job_state(victim) == "succeeded"
    assert snapshot(victim) == snapshot(reference)


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("settings_overrides", [{"migration_lease_seconds": int(LEASE)}])
def test_the_next_web_process_takes_up_the_job_of_a_web_process_that_died(
        app: Flask, client: FlaskClient, make_token: Callable[..., str], database_url: str,
        tmp_path: Path, free_port: int) -> None:
    secret = make_token()
    headers = {"Authorization": f"Bearer {secret}"}
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
           "INSTANCE_PATH": str(tmp_path / "instance"), "MIGRATION_LEASE_SECONDS": LEASE,
           "MIGRATION_WORKER_THREADS": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1",
         "--port", str(free_port), "--no-reload", "--without-threads"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{free_port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.1)
        data = generator.header() + b"".join(generator.lines(40_000, seed=3))
        started = requests.post(f"{base}/admin/api/jobs", headers=headers, timeout=60,
                                files={"fichier": ("export.csv", io.BytesIO(data))})
        assert started.status_code == 202
        job_id = started.json()["id"]

        def worked_on() -> bool:
            with app.app_context():
                db.session.rollback()
                return services.status(db.session(), job_id).staged > 0

        kill_when_started(server, worked_on)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)

    with app.app_context():
        job = db.session.get(MigrationJob, job_id)
        assert job is not None and job.state == "running"
    # The lease runs out: nobody is renewing it any more.
    deadline = time.monotonic() + 60
    while True:
        with app.app_context():
            db.session.rollback()
            job = db.session.get(MigrationJob, job_id)
            assert job is not None
            if services.orphaned(job, lease_seconds=int(LEASE)):
                break
        assert time.monotonic() < deadline, "the lease was renewed by a dead process"
        time.sleep(0.2)

    # An administrator looks at the job in another web process: it is taken up there.
    deadline = time.monotonic() + 180
    while True:
        status = client.get(f"/admin/api/jobs/{job_id}", headers=headers).json
        if status["state"] != "running":
            break
        assert time.monotonic() < deadline, "the job was not taken up"
        time.sleep(0.2)
    assert status["state"] == "succeeded"
    counters = ("migrated", "ignored_doublon", "ignored_clos", "ignored_deja_migre", "updated",
                "rejected")
    assert sum(status[name] for name in counters) == status["read"] == 40_000
    assert dt.datetime.fromisoformat(status["heartbeat_at"]) > dt.datetime.fromisoformat(
        status["started_at"])
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM migrated_account")) == \
            status["migrated"]
        assert db.session.scalar(text(
            "SELECT count(*) FROM (SELECT numero FROM confidential_code GROUP BY numero "
            "HAVING count(*) > 1) AS d")) == 0


def test_a_job_without_workers_stops_at_once_and_one_with_workers_is_asked_to(
        app: Flask) -> None:
    data = generator.header() + b"".join(generator.lines(50))
    with app.app_context():
        session = db.session()
        job = services.create_job(session, io.BytesIO(data), source_name="x.csv",
                                  created_by="test")
        services.start(session, job.id)
        session.commit()
        assert not services.orphaned(job) and services.orphaned_jobs(session) == []
        assert services.stop(session, job.id).state == "stopping"  # its workers will see it
        session.rollback()
        job.heartbeat_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        session.commit()
        assert services.orphaned(job) and services.orphaned_jobs(session) == [job.id]
        assert services.stop(session, job.id).state == "stopped"  # nobody left to ask
        session.commit()


def test_a_standing_worker_with_nothing_to_do_leaves_when_asked_to(
        runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["migrations", "work", "--once"])
    assert result.exit_code == 0 and "jobs worked on: none" in result.output
