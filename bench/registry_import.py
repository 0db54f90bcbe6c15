"""Registry import benchmark: licences per second and peak memory, SQLite and PostgreSQL.

    .venv/bin/python bench/registry_import.py                   # 100,000 and 1,000,000
    .venv/bin/python bench/registry_import.py --counts 20000    # a quick look

Generates the extracts with the project's generator (kept in bench/out/), then for each
database runs the real command, `flask --app wsgi registry import FILE`, in a fresh database
and reads the process's own peak RSS from the kernel (wait4). Prints licences/s against the
20,000/s target on PostgreSQL and the ratio of peak memory between the largest and smallest
extract (target: at most 1.25).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import timed  # bench/, the script's folder, is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


def extract(count: int) -> Path:
    from modern.licences.generator import generate

    path = OUT / f"registry-{count}.jsonl"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    draft = path.with_suffix(".part")
    with draft.open("w", encoding="utf-8") as handle:
        for record in generate(count, seed=1, as_of=dt.date(2026, 11, 26)):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    draft.rename(path)
    return path


def database(backend: str, pg_admin_url: str, workdir: Path) -> str:
    if backend == "sqlite":
        path = workdir / "bench.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    subprocess.run(["psql", pg_admin_url, "-q", "-c", "DROP DATABASE IF EXISTS bench_registry",
                    "-c", "CREATE DATABASE bench_registry"], check=True,
                   stderr=subprocess.DEVNULL)
    server = pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return server + "/bench_registry"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-admin-url", default="postgresql://root@127.0.0.1:5432/test")
    options = parser.parse_args()
    counts = [int(c) for c in options.counts.split(",")]
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
    results: dict[tuple[str, int], tuple[float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for count in counts:
            print(f"extract of {count:,} licences: {extract(count)}", flush=True)
        for backend in options.backends.split(","):
            for count in counts:
                url = database(backend, options.pg_admin_url, workdir)
                env = {**os.environ, "DATABASE_URL": url, "INSTANCE_PATH": str(workdir),
                       "LOG_LEVEL": "WARNING"}
                timed([*flask, "db", "upgrade"], env)
                seconds, cpu, peak, summary = timed(
                    [*flask, "registry", "import", str(extract(count))], env)
                results[backend, count] = (count / seconds, peak)
                print(f"{backend:10} {count:>9,} licences  {seconds:7.1f} s  "
                      f"{count / seconds:9,.0f} licences/s  ({count / cpu:,.0f} per CPU second "
                      f"of the importer)  peak {peak:5} MiB   [{summary}]", flush=True)
    small, large = min(counts), max(counts)
    for backend in options.backends.split(","):
        rate, peak = results[backend, large]
        line = f"{backend}: {rate:,.0f} licences/s on {large:,}"
        if backend == "postgresql":
            line += f" = {rate / 20000:.2f} x the 20,000/s target"
        if small != large:
            line += (f"; peak memory {large:,} / {small:,} = "
                     f"{peak / results[backend, small][1]:.2f} (target <= 1.25)")
        print(line)


if __name__ == "__main__":
    main()
