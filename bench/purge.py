"""Retention purge benchmark, on PostgreSQL: `flask purge run` on large tables against plain
statements deleting (and clearing) the same rows in the same database, in the same run; and
the purge's peak memory at 1,000,000 rows against 100,000.

    .venv/bin/python bench/purge.py                         # 100,000 and 1,000,000
    .venv/bin/python bench/purge.py --counts 20000          # a quick look

For each size N, a fresh database at the current schema holds, all past their period:
N lines of a migration job that ended 60 days ago (`migration_entry`), N migrated accounts
migrated 120 days ago (their copy of the legacy data to clear) and N / 10 expired sessions.
The real command, `flask --app wsgi purge run --json`, is timed from the outside (process
start-up included, and shown apart, timed on `purge rules`), in batches of 5,000 rows; then
the same rows are written again and removed by one plain `DELETE` / `UPDATE` per table (what
an operator would type), timed the same way. Peak memory is the kernel's peak RSS of the
purge process (wait4): it must not grow with the number of rows (target: 1,000,000 rows
within 1.25 times the figure at 100,000).
The plain statements are the floor, not a goal: each holds its table's rows locked in one
transaction for its whole length, which the purge avoids.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from measure import fresh_database, psql, timed  # bench/ is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

FILL = """
BEGIN;
INSERT INTO migration_job (id, state, phase, dry_run, source_name, source_sha256, source_bytes,
    line_count, chunk_count, created_by, created_at, started_at, finished_at, updated_at)
VALUES (1, 'succeeded', 'done', false, 'bench.csv', '', 0, {n}, 0, 'bench',
    now() - interval '61 days', now() - interval '61 days', now() - interval '60 days',
    now() - interval '60 days');
INSERT INTO migration_entry (job_id, line, numero_raw, outcome, numero, statut, scheme, key_id,
    digest, mobile, email, failures, created_at)
SELECT 1, g, lpad(g::text, 12, '0'), 'MIGRE', lpad(g::text, 12, '0'), 'ACTIF', 'legacy-md5',
    'k', md5(g::text) || md5(g::text), '+33639980000', 'titulaire' || g || '@exemple.fr', 0,
    now() - interval '3 years'
FROM generate_series(2, {n} + 1) AS g;
INSERT INTO migrated_account (numero, source, job_id, line, migrated_at, legacy_statut,
    legacy_issued_on, legacy_failures, legacy_created_at, legacy_last_login, email,
    code_imported)
SELECT lpad(g::text, 12, '0'), 'bulk', 1, g, now() - interval '120 days', 'ACTIF',
    date '2015-01-01', 0, now() - interval '3 years', now() - interval '1 year',
    'titulaire' || g || '@exemple.fr', true
FROM generate_series(2, {n} + 1) AS g;
INSERT INTO web_session (key, data, created_at, last_seen_at, expires_at)
SELECT md5(g::text) || md5(g::text), '{{}}', now() - interval '2 days',
    now() - interval '2 days', now() - interval '1 day'
FROM generate_series(1, {n} / 10) AS g;
COMMIT;
"""

PLAIN = """
BEGIN;
DELETE FROM migration_entry WHERE job_id = 1;
UPDATE migration_job SET purged_at = now() WHERE id = 1;
UPDATE migrated_account SET legacy_purged_at = now(), email = NULL, legacy_issued_on = NULL,
    legacy_failures = 0, legacy_locked_until = NULL, legacy_created_at = NULL,
    legacy_last_login = NULL
WHERE legacy_purged_at IS NULL AND migrated_at < now() - interval '90 days';
DELETE FROM web_session WHERE expires_at < now();
COMMIT;
"""

RESET = """
TRUNCATE migration_entry, migration_chunk, migration_job, migrated_account, web_session
    CASCADE;
"""


def fill(url: str, count: int) -> None:
    psql(url, FILL.format(n=count))
    for statement in ("VACUUM ANALYZE", "CHECKPOINT"):  # both runs start from the same state
        psql(url, statement)


def measure(count: int, admin_url: str) -> dict[str, object]:
    plain_url, url = fresh_database(admin_url, "bench_purge")
    env = {**os.environ, "DATABASE_URL": url, "INSTANCE_PATH": str(OUT / "instance"),
           "LOG_LEVEL": "WARNING"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    timed([*flask, "db", "upgrade"], env)
    fill(plain_url, count)
    startup = timed([*flask, "purge", "rules"], env).seconds  # the same start-up, no work
    seconds, _cpu, rss, output = timed([*flask, "purge", "run", "--json"], env)
    rows = {kind: number for kind, number in json.loads(output)["rows"].items() if number}
    left = int(psql(plain_url, "SELECT count(*) FROM migration_entry"))
    assert left == 0, f"{left} lines left"
    psql(plain_url, RESET)
    fill(plain_url, count)
    started = time.perf_counter()
    psql(plain_url, PLAIN)
    plain = time.perf_counter() - started
    subprocess.run(["psql", admin_url, "-q", "-c", "DROP DATABASE IF EXISTS bench_purge"],
                   check=True, stderr=subprocess.DEVNULL)
    return {"rows": rows, "seconds": seconds, "plain_seconds": plain, "rss_mib": rss,
            "startup": startup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="100000,1000000")
    parser.add_argument("--pg-admin-url", default="postgresql://root@127.0.0.1:5432/test")
    options = parser.parse_args()
    (OUT / "instance").mkdir(parents=True, exist_ok=True)
    peaks: dict[int, int] = {}
    for count in (int(c) for c in options.counts.split(",")):
        print(f"{count:,} rows per table…", flush=True)
        result = measure(count, options.pg_admin_url)
        rows = result["rows"]
        assert isinstance(rows, dict)
        seconds, plain = float(str(result["seconds"])), float(str(result["plain_seconds"]))
        peaks[count] = int(str(result["rss_mib"]))
        total = sum(rows.values())
        print(f"  purged: {', '.join(f'{kind} {number:,}' for kind, number in rows.items())}")
        startup = float(str(result["startup"]))
        print(f"  flask purge run: {seconds:.1f} s ({total / seconds:,.0f} rows/s; of which "
              f"{startup:.1f} s start-up, as `purge rules`), peak RSS {peaks[count]} MiB; "
              f"plain statements: {plain:.1f} s; ratio {plain / seconds:.2f} of the plain "
              "statements' speed")
    if len(peaks) > 1:
        low, high = min(peaks), max(peaks)
        print(f"peak memory {high:,} / {low:,} rows: {peaks[high] / peaks[low]:.2f} "
              "(target ≤ 1.25)")


if __name__ == "__main__":
    main()
