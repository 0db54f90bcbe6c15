"""What the benchmarks share: one command timed as a whole process, a fresh PostgreSQL
database, psql, and the generated legacy export."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


class Measured(NamedTuple):
    seconds: float  # wall clock
    cpu: float  # user + system seconds of the process (not of the database server)
    peak_mib: int  # peak resident memory, from the kernel (wait4)
    output: str  # its standard output, stripped


def timed(args: list[str], env: dict[str, str]) -> Measured:
    """Runs one command from the project's folder; exits the benchmark if it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {output}")
    return Measured(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024,
                    output.strip())


def fresh_database(admin_url: str, name: str) -> tuple[str, str]:
    """Drops and creates database `name`; its URL for psql and for the service."""
    subprocess.run(["psql", admin_url, "-q", "-c", f"DROP DATABASE IF EXISTS {name}",
                    "-c", f"CREATE DATABASE {name}"], check=True, stderr=subprocess.DEVNULL)
    server = admin_url.rsplit("/", 1)[0]
    return f"{server}/{name}", f"{server.replace('postgresql://', 'postgresql+psycopg://')}/{name}"


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-qtAX", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def legacy_export(count: int, duplicate_distance: int = 1) -> Path:
    """The generated legacy export of `count` lines, made once and kept in bench/out."""
    from migrations.export import generator

    far = f"-far{duplicate_distance}" if duplicate_distance != 1 else ""
    path = OUT / f"legacy-export-{count}{far}.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        draft = path.with_suffix(".part")
        generator.write(str(draft), count, seed=1, duplicate_distance=duplicate_distance)
        draft.rename(path)
    return path
