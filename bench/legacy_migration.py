"""Legacy account migration benchmark, on PostgreSQL: accounts migrated per second against a
plain `INSERT … SELECT` of the same rows into the same tables of the same database, in the
same run; and peak memory of the migration command, 1,000,000 lines against 100,000.

    .venv/bin/python bench/legacy_migration.py                      # 100,000 and 1,000,000
    .venv/bin/python bench/legacy_migration.py --counts 20000       # a quick look

For each size: a fresh database at the current schema; the generated export (kept in
bench/out/) migrated by the real command, `flask --app wsgi migrations run FILE --workers N`,
timed from the outside (process start-up included); then the target tables emptied and filled
again by one plain `INSERT … SELECT` per table from the very rows the migration migrated
(already parsed, in the same database), timed the same way. Peak memory is the kernel's peak
RSS of a one-worker run (wait4), so that it is one process's figure. One worker process is
the default, with its default connections (MIGRATION_WORKER_THREADS, 2: while one waits for
PostgreSQL the other parses, and PostgreSQL applies two chunks at once); `--threads 1` gives
the strictly sequential figure. Set REDIS_URL to keep the lockout's counters in Redis, as a
production installation does; without it they go to the database, the embedded default.
Targets: a ratio of at least 0.5, and peak memory at 1,000,000 lines within 1.25 times that
at 100,000.

Both timings are wall-clock times on a machine that may be shared: the load average before
and after each is printed, and `--repeat` runs the pair again to show the spread. When the
database server runs on this host, the CPU time of its backends is read from /proc for both
(sampled every 0.2 s), so that the work each side asked of PostgreSQL can be compared
whatever else the machine was doing.

The generated export repeats every 50th line's file on the next line; `--duplicate-distance
7919` repeats it 7,919 lines further instead, so that nearly every duplicate spans two chunks
and waits for the barrier between the phases (see migrations/README.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
from measure import fresh_database, legacy_export, psql, timed  # bench/ is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

BASELINE = """
BEGIN;
INSERT INTO migrated_account (numero, source, job_id, line, migrated_at, legacy_statut,
    legacy_issued_on, legacy_failures, legacy_locked_until, legacy_created_at,
    legacy_last_login, email, code_imported)
SELECT numero, 'bulk', job_id, line, now(), statut, issued_on, failures, locked_until,
    created_at, last_login, email, statut = 'ACTIF'
FROM migration_entry WHERE job_id = {job} AND outcome = 'MIGRE';
INSERT INTO confidential_code (numero, scheme, key_id, salt, digest, origin, pending,
    issued_at, expires_at)
SELECT numero, scheme, key_id, salt, digest, 'legacy', FALSE, issued_at, expires_at
FROM migration_entry WHERE job_id = {job} AND outcome = 'MIGRE' AND statut = 'ACTIF';
INSERT INTO holder_contact (numero, mobile, address, source, updated_at)
SELECT numero, mobile, NULL, 'legacy', now()
FROM migration_entry WHERE job_id = {job} AND outcome = 'MIGRE' AND mobile IS NOT NULL;
COMMIT;
"""


class BackendCpu:
    """CPU seconds of the PostgreSQL backends serving one database while it runs, read from
    /proc every 0.2 s (None when the server is not on this host)."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, admin_url: str, database: str) -> None:
        self.admin_url, self.database = admin_url, database
        self.seen: dict[int, float] = {}
        self.readable = True
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> BackendCpu:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()

    def _sample(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            while True:
                pids = [row[0] for row in connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,))]
                for pid in pids:
                    try:
                        with open(f"/proc/{pid}/stat") as stat:
                            fields = stat.read().rsplit(")", 1)[1].split()
                    except OSError:  # gone meanwhile, or another host's process
                        self.readable = self.readable and pid in self.seen
                        continue
                    self.seen[pid] = (int(fields[11]) + int(fields[12])) / self.TICK
                if self.done.wait(0.2):
                    return

    @property
    def seconds(self) -> float | None:
        return sum(self.seen.values()) if self.readable and self.seen else None


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def measure(count: int, admin_url: str, workers: int, threads: int | None,
            instance: Path, duplicate_distance: int) -> dict[str, Any]:
    plain_url, url = fresh_database(admin_url, "bench_migration")
    env = {**os.environ, "DATABASE_URL": url, "INSTANCE_PATH": str(instance),
           "LOG_LEVEL": "WARNING"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    timed([*flask, "db", "upgrade"], env)
    path = legacy_export(count, duplicate_distance)
    run = [*flask, "migrations", "run", str(path), "--workers", str(workers)]
    if threads:
        run += ["--threads", str(threads)]
    load_before = load()
    with BackendCpu(admin_url, "bench_migration") as server:
        seconds, cpu, rss, output = timed(run, env)
    migrated = int(psql(plain_url, "SELECT count(*) FROM migrated_account"))
    codes = int(psql(plain_url, "SELECT count(*) FROM confidential_code"))
    contacts = int(psql(plain_url, "SELECT count(*) FROM holder_contact"))
    job = psql(plain_url, "SELECT max(id) FROM migration_job")
    for statement in ("TRUNCATE migrated_account, confidential_code, holder_contact",
                      "VACUUM ANALYZE migration_entry", "CHECKPOINT"):
        psql(plain_url, statement)
    load_between = load()
    with BackendCpu(admin_url, "bench_migration") as plain_server:
        started = time.perf_counter()
        subprocess.run(["psql", plain_url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                        BASELINE.format(job=job)], check=True, stdout=subprocess.DEVNULL)
        baseline = time.perf_counter() - started
    load_after = load()
    assert int(psql(plain_url, "SELECT count(*) FROM migrated_account")) == migrated
    assert int(psql(plain_url, "SELECT count(*) FROM confidential_code")) == codes
    print(f"  {output}")
    if workers > 1:  # peak memory: one process doing all the work, in a fresh database
        plain_url, url = fresh_database(admin_url, "bench_migration")
        env["DATABASE_URL"] = url
        timed([*flask, "db", "upgrade"], env)
        one = [*flask, "migrations", "run", str(path), "--workers", "1"]
        rss = timed(one + (["--threads", str(threads)] if threads else []),
                    env).peak_mib
    subprocess.run(["psql", admin_url, "-q", "-c", "DROP DATABASE IF EXISTS bench_migration"],
                   check=True, stderr=subprocess.DEVNULL)
    return {"lines": count, "migrated": migrated, "codes": codes, "contacts": contacts,
            "seconds": seconds, "baseline_seconds": baseline, "rss_mib": rss,
            "process_cpu": cpu, "server_cpu": server.seconds,
            "baseline_server_cpu": plain_server.seconds,
            "load": (load_before, load_between, load_after)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="100000,1000000")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None,
                        help="connections of each worker (default: MIGRATION_WORKER_THREADS)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each size")
    parser.add_argument("--pg-admin-url", default="postgresql://root@127.0.0.1:5432/test")
    parser.add_argument("--duplicate-distance", type=int, default=1,
                        help="lines between a duplicate and the line it repeats")
    options = parser.parse_args()
    instance = OUT / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    peaks: dict[int, int] = {}
    print(f"Redis for the lockout: {'yes' if os.environ.get('REDIS_URL') else 'no (database)'}"
          f"; {options.workers} worker(s), threads: {options.threads or 'default'}")
    for count in (int(c) for c in options.counts.split(",")):
        ratios = []
        for attempt in range(options.repeat):
            print(f"{count:,} lines, run {attempt + 1}/{options.repeat}…", flush=True)
            result = measure(count, options.pg_admin_url, options.workers, options.threads,
                             instance, options.duplicate_distance)
            rate = result["migrated"] / result["seconds"]
            base = result["migrated"] / result["baseline_seconds"]
            ratios.append(rate / base)
            peaks[count] = max(peaks.get(count, 0), result["rss_mib"])
            print(f"  migration: {result['seconds']:.1f} s, {rate:,.0f} accounts/s "
                  f"({result['lines'] / result['seconds']:,.0f} lines/s; the command's own "
                  f"CPU {result['process_cpu']:.1f} s)")
            print(f"  plain INSERT … SELECT of the same rows: {result['baseline_seconds']:.1f} "
                  f"s, {base:,.0f} accounts/s")
            print(f"  ratio: {rate / base:.2f} (target ≥ 0.5); peak RSS, one worker: "
                  f"{result['rss_mib']} MiB; load average (1 min) before / between / after: "
                  f"{' / '.join(result['load'])}")
            ours, plain = result["server_cpu"], result["baseline_server_cpu"]
            if ours is not None and plain is not None:
                total = ours + result["process_cpu"]
                print(f"  CPU: PostgreSQL {ours:.1f} s for the migration against {plain:.1f} s "
                      f"for the plain statement; with the command's own, {total:.1f} s "
                      f"(plain / ours: {plain / total:.2f})")
        if options.repeat > 1:
            print(f"  ratios of {count:,} lines: {', '.join(f'{r:.2f}' for r in ratios)}; "
                  f"median {statistics.median(ratios):.2f}")
    if len(peaks) > 1:
        low, high = min(peaks), max(peaks)
        print(f"peak memory {high:,} / {low:,} lines: "
              f"{peaks[high] / peaks[low]:.2f} (target ≤ 1.25)")


if __name__ == "__main__":
    main()
