"""Real worker processes: killed with SIGKILL at random points and resumed, a job ends in the
same database as an uninterrupted run; two worker processes on PostgreSQL share one job with
no duplicate and counts that add up. Every wait is bounded; nothing is timed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from migrations.export import generator
from modern.schema import upgrade

ROOT = Path(__file__).resolve().parents[2]
LINES = 12_000
CHUNK = "300"

pytestmark = pytest.mark.slow


class Database:
    def __init__(self, url: str, drop: Any = None) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        upgrade(self.engine)
        self._drop = drop

    def close(self) -> None:
        self.engine.dispose()
        if self._drop:
            self._drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Database]]:
    """Two empty databases of the same kind."""
    made: list[Database] = []
    if request.param == "sqlite":
        made = [Database(f"sqlite:///{tmp_path / f'db{i}.db'}") for i in range(2)]
    else:
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url.startswith("postgresql"):
            pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://…")
        server = url.rsplit("/", 1)[0]
        admin = create_engine(server + "/" + url.rsplit("/", 1)[1], isolation_level="AUTOCOMMIT")
        for i in range(2):
            name = f"{url.rsplit('/', 1)[1]}_fault{i}"
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                connection.execute(text(f"CREATE DATABASE {name}"))

            def drop(name: str = name) -> None:
                with admin.connect() as connection:
                    connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            made.append(Database(f"{server}/{name}", drop))
    yield made
    for database in made:
        database.close()


def env_for(database: Database, instance: Path) -> dict[str, str]:
    # One instance folder for every process: the same code key wraps the same fingerprints.
    return {**os.environ, "DATABASE_URL": database.url, "INSTANCE_PATH": str(instance),
            "LOG_LEVEL": "WARNING"}


def flask(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "migrations",
                             *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def job_state(database: Database) -> str:
    with database.engine.connect() as connection:
        return str(connection.scalar(text("SELECT state FROM migration_job WHERE id = 1")))


SNAPSHOT = {
    "migration_job": "state, phase, line_count, chunk_count, source_sha256, dry_run",
    "migration_chunk": "job_id, seq, first_line, line_count, status, payload, migrated, "
                       "ignored_doublon, ignored_clos, ignored_deja_migre, rejected",
    "migration_entry": "*",
    "migrated_account": "numero, source, job_id, line, legacy_statut, legacy_issued_on, "
                        "legacy_failures, legacy_locked_until, legacy_created_at, "
                        "legacy_last_login, email, code_imported",
    "confidential_code": "numero, scheme, key_id, salt, digest, origin, pending, issued_at, "
                         "expires_at",
    "holder_contact": "numero, mobile, address, source",
    "throttle_counter": "key, value",
}


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """What a run leaves behind, less the times it ran at and the workers' names."""
    with database.engine.connect() as connection:
        return {table: sorted((tuple(row) for row in connection.execute(
            text(f"SELECT {columns} FROM {table}"))), key=repr)
            for table, columns in SNAPSHOT.items()}


def test_a_job_killed_at_random_points_ends_as_an_uninterrupted_run(
        databases: list[Database], tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    generator.write(str(export), LINES, seed=7)
    instance = tmp_path / "instance"
    reference, victim = databases
    flask(env_for(reference, instance), "run", str(export), "--chunk-lines", CHUNK)

    env = env_for(victim, instance)
    flask(env, "run", str(export), "--chunk-lines", CHUNK, "--no-start")
    rng = random.Random(2026)
    kills = 0
    for _ in range(6):
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "migrations", "resume", "1"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.2, 3.5))  # start-up takes about a second
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
        if job_state(victim) == "succeeded":
            break
    assert kills >= 1
    if job_state(victim) != "succeeded":
        flask(env, "resume", "1")
    assert job_state(victim) == "succeeded"
    assert snapshot(victim) == snapshot(reference)


def test_two_worker_processes_share_one_job_on_postgresql(
        databases: list[Database], tmp_path: Path) -> None:
    shared, _ = databases
    if not shared.url.startswith("postgresql"):
        pytest.skip("SQLite runs one worker per job")
    export = tmp_path / "export.csv"
    generator.write(str(export), 30_000, seed=11)
    instance = tmp_path / "instance"
    env = env_for(shared, instance)
    flask(env, "run", str(export), "--chunk-lines", "200", "--no-start")
    with shared.engine.begin() as connection:
        connection.execute(text("UPDATE migration_job SET state = 'running' WHERE id = 1"))
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "migrations", "work", "1"]
    workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs
    with shared.engine.connect() as connection:
        assert connection.scalar(text("SELECT state FROM migration_job")) == "succeeded"
        names = connection.scalars(text("SELECT DISTINCT worker FROM migration_chunk")).all()
        assert len(names) == 2  # both took chunks
        duplicates = connection.scalar(text(
            "SELECT count(*) FROM (SELECT numero FROM confidential_code GROUP BY numero "
            "HAVING count(*) > 1) AS d"))
        assert duplicates == 0
        totals = connection.execute(text(
            "SELECT sum(line_count), sum(migrated + ignored_doublon + ignored_clos + "
            "ignored_deja_migre + rejected), sum(migrated) FROM migration_chunk")).one()
        assert totals[0] == totals[1] == 30_000
        assert connection.scalar(text("SELECT count(*) FROM migrated_account")) == totals[2]
        outcomes = dict(connection.execute(text(
            "SELECT outcome, count(*) FROM migration_entry GROUP BY outcome")).all())

    # The same export on SQLite with a single worker gives the same outcomes.
    alone = Database(f"sqlite:///{tmp_path / 'alone.db'}")
    try:
        flask(env_for(alone, instance), "run", str(export), "--chunk-lines", "200")
        with alone.engine.connect() as connection:
            assert dict(connection.execute(text(
                "SELECT outcome, count(*) FROM migration_entry GROUP BY outcome")).all()) \
                == outcomes
    finally:
        alone.close()
