"""Running a job's workers: in threads of this process, or as worker processes.

A worker process is `flask --app wsgi migrations work [JOB]`; any number of them may run, on
any host that reaches the database (the export travels inside the database, in the job's
chunks). Without JOB it is a standing worker: it takes up every running job, including one
whose first workers died (a web process that was killed, a lost host), and waits for the next.

The web process runs the jobs started from the admin API in a thread of its own (the
embedded installation needs no worker process); should it die, the job's lease runs out and
the next worker takes the job up: a standing worker, or the web process that next answers an
admin request (`adopt_orphans`).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy.orm import Session

from migrations.jobs import services
from migrations.jobs.worker import Dependencies, work
from modern.db import db
from modern.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
THREAD_PREFIX = "migration-job-"
log = logging.getLogger(__name__)
_launching = threading.Lock()


def dependencies(app: Flask | None = None) -> Dependencies:
    """The codes' current key (from the compatibility layer) and the shared lockout."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    keyring = app.extensions["telepoints"].codes.keyring
    throttling = app.extensions.get("throttling")
    return Dependencies(key_id=keyring.current_id, key=keyring.current,
                        lockout=throttling.lockout if throttling is not None else None)


def _settings(app: Flask) -> Settings:
    settings: Settings = app.config["SETTINGS"]
    return settings


def work_here(app: Flask, job_id: int, name: str, *, threads: int | None = None) -> str:
    settings = _settings(app)
    with app.app_context():
        return work(db.engine, job_id, dependencies(app), name=name,
                    threads=threads or settings.migration_worker_threads,
                    lease_seconds=settings.migration_lease_seconds)


def start_thread(app: Flask, job_id: int) -> threading.Thread | None:
    """A worker in a daemon thread of this process, unless one runs here already or the web
    processes leave the work to worker processes (MIGRATION_WEB_WORKER=off)."""
    if not _settings(app).migration_web_worker:
        return None
    with _launching:
        if thread_running(job_id):
            return None
        thread = threading.Thread(target=work_here,
                                  args=(app, job_id, f"thread-{os.getpid()}"),
                                  name=f"{THREAD_PREFIX}{job_id}", daemon=True)
        thread.start()
    return thread


def adopt_orphans(app: Flask) -> list[int]:
    """Takes up, in threads of this process, the running jobs that no worker renews any more
    (their web process died): no manual resume is needed. Returns the jobs taken up."""
    settings = _settings(app)
    if not settings.migration_web_worker:
        return []
    with Session(db.engine) as session:
        orphans = services.orphaned_jobs(session, lease_seconds=settings.migration_lease_seconds)
    adopted = [job_id for job_id in orphans if start_thread(app, job_id) is not None]
    for job_id in adopted:
        log.warning("migration job taken up: its workers had stopped renewing its lease",
                    extra={"event": "migration_job_adopted", "job": job_id})
    return adopted


def thread_running(job_id: int) -> bool:
    return any(thread.name == f"{THREAD_PREFIX}{job_id}" and thread.is_alive()
               for thread in threading.enumerate())


def spawn_workers(count: int, job_id: int, database_url: str,
                  threads: int | None = None) -> list[subprocess.Popen[bytes]]:
    """`count` worker processes on this host, on the same database as this process."""
    env = dict(os.environ)
    if database_url:
        env["DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "migrations", "work",
               str(job_id), "--quiet"]
    if threads:
        command += ["--threads", str(threads)]
    return [subprocess.Popen(command, cwd=PROJECT_ROOT, env=env,  # noqa: S603 - our own CLI
                             stdin=subprocess.DEVNULL) for _ in range(count)]
