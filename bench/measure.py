"""What the benchmarks measure of one command run as a whole process."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent


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
