"""The disk full while importing: a legacy export (`migrations run`) and a registry extract
(`registry import`), the database on a small tmpfs (SQLite's file, or a PostgreSQL
tablespace holding the whole database), sized from a reference run on the same kind of disk.
Where no tmpfs can be mounted (not root), SQLite's file is limited in size instead
(RLIMIT_FSIZE) and the PostgreSQL case is skipped.

Expected: the command stops with a clear error naming the cause; what is left is whole (no
job at all when its chunks did not fit; a failed job with its reason, whose finished chunks
are complete and the others untouched; whole batches of licences); once space is freed, the
same command (or `migrations resume`) completes, and the database equals the reference's."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from migrations.export import generator
from modern.licences.generator import generate
from tests.faults.servers import FileSizeLimit, PrivatePostgres, Tmpfs, flask, service_env
from tests.migrations.test_fault_injection import Database, job_state, snapshot

pytestmark = pytest.mark.slow

LINES = 4_000
CHUNK = "200"
LICENCES = 2_000
BATCH = "250"
ROOMY = 256 * 1024 * 1024


@dataclass
class Disk:
    """A database on its own small file system."""

    name: str
    space: Tmpfs | FileSizeLimit
    database: Database

    @property
    def url(self) -> str:
        return self.database.url

    def used(self) -> int:
        return self.space.used()

    def room(self, extra: int) -> None:
        """Leaves `extra` bytes free (the file system rounds up to a page)."""
        self.space.resize(self.used() + max(extra, 4096))

    def full(self, text: str) -> bool:
        """Whether `text` gives the lack of space as the cause."""
        return any(words in text for words in self.space.full)

    def flask(self, env: dict[str, str], *args: str, check: bool = True) -> Any:
        """A command writing to this disk, within its limits."""
        return flask(env, *args, check=check, **self.space.limits())


def _disk(kind: str, name: str, postgres: PrivatePostgres | None) -> Disk:
    tmpfs = Tmpfs.mount(ROOMY)
    if kind == "sqlite":
        space = tmpfs or FileSizeLimit()  # where no tmpfs can be mounted: a file size limit
        return Disk(name, space, Database(f"sqlite:///{space.path / name}.db"))
    if tmpfs is None:
        pytest.skip("a full PostgreSQL tablespace needs a tmpfs: mounting one needs root")
    assert postgres is not None
    postgres.chown(tmpfs.path)
    postgres.execute(f"CREATE TABLESPACE {name} LOCATION '{tmpfs.path}'")
    return Disk(name, tmpfs, Database(postgres.create_database(name, tablespace=name)))


@pytest.fixture(params=["sqlite", "postgresql"])
def disks(request: pytest.FixtureRequest) -> Iterator[tuple[Disk, Disk]]:
    """The reference's disk and the victim's, each with an empty database of the kind."""
    postgres = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    made: list[Disk] = []
    try:
        for name in ("test_faults_reference", "test_faults"):
            made.append(_disk(request.param, name, postgres))
        yield made[0], made[1]
    finally:
        for disk in made:
            disk.database.engine.dispose()
            with contextlib.suppress(subprocess.CalledProcessError):
                disk.space.resize(ROOMY)  # PostgreSQL may flush what it holds until it stops
            disk.space.close()


def _rows(disk: Disk, query: str) -> list[tuple[Any, ...]]:
    with disk.database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def test_disk_full_during_a_bulk_import(disks: tuple[Disk, Disk], tmp_path: Path) -> None:
    reference, victim = disks
    export = tmp_path / "export.csv"
    generator.write(str(export), LINES, seed=7)
    instance = tmp_path / "instance"  # one code key for both databases
    run = ("migrations", "run", str(export), "--chunk-lines", CHUNK)
    env = service_env(instance, victim.url)

    # The reference, measured: the job's chunks (the export, inside the database), then
    # the job's work.
    empty = reference.used()
    flask(service_env(instance, reference.url), *run, "--no-start")
    created = reference.used()
    flask(service_env(instance, reference.url), "migrations", "resume", "1")
    worked = reference.used()
    assert job_state(reference.database) == "succeeded"

    # No room for the export: a clear error, and no job at all.
    victim.room((created - empty) // 2)
    refused = victim.flask(env, *run, check=False)
    assert refused.returncode == 1
    assert "export.csv: the database refused the job (" in refused.stderr
    assert victim.full(refused.stderr), refused.stderr[-2000:]
    assert "nothing was recorded" in refused.stderr
    assert _rows(victim, "SELECT count(*) FROM migration_job") == [(0,)]
    assert _rows(victim, "SELECT count(*) FROM migration_chunk") == [(0,)]
    if victim.url.startswith("postgresql"):
        # A sequence is not rolled back with the transaction that drew from it: the refused
        # job took number 1. Numbered as the reference's, for the comparison at the end.
        with victim.database.engine.begin() as connection:
            connection.execute(text(
                "SELECT setval(pg_get_serial_sequence('migration_job', 'id'), 1, false)"))

    # Room for the export, not for the work: the job stops, saying why; its finished chunks
    # are whole, the others untouched.
    victim.room((created - empty) + (worked - created) // 2)
    failed = victim.flask(env, *run, check=False)
    assert failed.returncode == 1
    assert victim.full(failed.stderr), failed.stderr[-2000:]
    [(state, error)] = _rows(victim, "SELECT state, error FROM migration_job")
    if state == "failed":  # the reason is recorded with the job
        assert victim.full(error), error
    else:  # not even that could be written (SQLite): the command says so, and what to do
        assert state == "running"
        assert "the job could not be marked failed, `migrations resume 1` takes it up" \
            in failed.stderr
    chunks = dict(_rows(victim, "SELECT status, count(*) FROM migration_chunk GROUP BY status"))
    assert chunks.get("pending", 0) + chunks.get("staged", 0) > 0  # it did stop midway
    # Whole chunks only: every chunk past "pending" has all its entries, the others none;
    # every account written comes from a line of the job that says so, with its code.
    assert _rows(victim, "SELECT count(*) FROM migration_entry") == _rows(
        victim, "SELECT coalesce(sum(line_count), 0) FROM migration_chunk "
                "WHERE status <> 'pending'")
    assert _rows(victim, "SELECT count(*) FROM migrated_account m WHERE NOT EXISTS (SELECT 1 "
                         "FROM migration_entry e WHERE e.job_id = m.job_id "
                         "AND e.line = m.line AND e.outcome = 'MIGRE')") == [(0,)]
    assert _rows(victim, "SELECT count(*) FROM confidential_code") == _rows(
        victim, "SELECT count(*) FROM migrated_account WHERE code_imported")

    # Space freed: the job resumes and ends as the reference did.
    victim.space.resize(ROOMY)
    victim.flask(env, "migrations", "resume", "1")
    assert job_state(victim.database) == "succeeded"
    assert snapshot(victim.database) == snapshot(reference.database)


LICENCE_COLUMNS = "numero, nom, prenoms, date_naissance, etat, solde, date_mise_a_jour, document"


def test_disk_full_during_a_registry_import(disks: tuple[Disk, Disk], tmp_path: Path) -> None:
    reference, victim = disks
    extract = tmp_path / "registry.jsonl"
    with extract.open("w", encoding="utf-8") as handle:
        for record in generate(LICENCES, seed=11):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    instance = tmp_path / "instance"
    command = ("registry", "import", str(extract), "--batch-size", BATCH)

    empty = reference.used()
    flask(service_env(instance, reference.url), *command)
    imported = reference.used()
    licences = _rows(reference, f"SELECT {LICENCE_COLUMNS} FROM licence ORDER BY numero")
    assert len(licences) == LICENCES

    # Half the room needed: the import stops, saying why; the batches written are whole.
    env = service_env(instance, victim.url)
    victim.room((imported - empty) // 2)
    stopped = victim.flask(env, *command, check=False)
    assert stopped.returncode == 1
    assert "registry.jsonl: import interrupted, the database refused a batch (" \
        in stopped.stderr
    assert victim.full(stopped.stderr), stopped.stderr[-2000:]
    kept = _rows(victim, f"SELECT {LICENCE_COLUMNS} FROM licence ORDER BY numero")
    assert len(kept) % int(BATCH) == 0 and len(kept) < LICENCES
    assert set(kept) <= set(licences)

    # Space freed: the same command completes the import, writing nothing twice.
    victim.space.resize(ROOMY)
    summary = victim.flask(env, *command).stdout
    assert (f"inserted {LICENCES - len(kept)}, replaced 0, unchanged {len(kept)}, "
            "rejected 0") in summary
    assert _rows(victim, f"SELECT {LICENCE_COLUMNS} FROM licence ORDER BY numero") == licences
