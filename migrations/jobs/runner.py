"""Running a job's workers: in threads of this process, or as worker processes.

A worker process is `flask --app wsgi migrations work JOB`; any number of them may run, on any
host that reaches the database (the export travels inside the database, in the job's chunks).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from flask import Flask, current_app

from migrations.jobs.worker import Dependencies, work
from modern.db import db

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
THREAD_PREFIX = "migration-job-"


def dependencies(app: Flask | None = None) -> Dependencies:
    """The codes' current key (from the compatibility layer) and the shared lockout."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    keyring = app.extensions["telepoints"].codes.keyring
    throttling = app.extensions.get("throttling")
    return Dependencies(key_id=keyring.current_id, key=keyring.current,
                        lockout=throttling.lockout if throttling is not None else None)


def work_here(app: Flask, job_id: int, name: str) -> str:
    with app.app_context():
        return work(db.engine, job_id, dependencies(app), name=name)


def start_thread(app: Flask, job_id: int) -> threading.Thread:
    """A worker in a daemon thread of this process (the admin API's default: the embedded
    installation needs no worker process). Should the process end, the job stays "running"
    with its checkpoints, and `resume` (or any worker process) takes it up."""
    thread = threading.Thread(target=work_here, args=(app, job_id, f"thread-{os.getpid()}"),
                              name=f"{THREAD_PREFIX}{job_id}", daemon=True)
    thread.start()
    return thread


def thread_running(job_id: int) -> bool:
    return any(thread.name == f"{THREAD_PREFIX}{job_id}" and thread.is_alive()
               for thread in threading.enumerate())


def spawn_workers(count: int, job_id: int, database_url: str) -> list[subprocess.Popen[bytes]]:
    """`count` worker processes on this host, on the same database as this process."""
    env = dict(os.environ)
    if database_url:
        env["DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "migrations", "work",
               str(job_id), "--quiet"]
    return [subprocess.Popen(command, cwd=PROJECT_ROOT, env=env,  # noqa: S603 - our own CLI
                             stdin=subprocess.DEVNULL) for _ in range(count)]
