"""Forecast benchmark: licences per second and peak memory of `flask points forecast`.

    .venv/bin/python bench/forecast.py --count 1000000     # the acceptance figure
    .venv/bin/python bench/forecast.py --count 20000       # a quick look

Generates an extract of `--count` licences with the project's generator (every scenario in
turn, as the demo) into a temporary folder, then runs the real command,
`flask --app wsgi points forecast --extract FILE --as-of DATE`, in a fresh process on an empty
database it never opens, and reads that process's peak RSS from the kernel (wait4). Also runs
it on an empty extract (start-up alone) and on a tenth of the extract (memory must not grow
with the file). Prints licences/s against the 20,000/s target, by the wall clock and per second
of the process's own CPU time (the same when the machine is otherwise idle; the second one
still holds when other work shares its cores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = 20_000
AS_OF = dt.date(2026, 11, 26)


def write_extract(path: Path, count: int) -> float:
    """Writes `count` generated licences as JSON Lines; returns the seconds it took."""
    import msgspec

    from modern.licences.generator import generate

    encoder = msgspec.json.Encoder()
    started = time.perf_counter()
    with path.open("wb") as handle:
        block: list[bytes] = []
        for record in generate(count, seed=1, as_of=AS_OF):
            block.append(encoder.encode(record))
            if len(block) == 4096:
                handle.write(b"\n".join(block) + b"\n")
                block.clear()
        if block:
            handle.write(b"\n".join(block) + b"\n")
    return time.perf_counter() - started


def run_forecast(extract: Path, workdir: Path) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds, peak RSS in MiB and output lines of one run of the real
    command. The CPU time is what the figure means when other work shares the machine."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir / 'never-opened.db'}",
           "INSTANCE_PATH": str(workdir / "instance"), "LOG_LEVEL": "WARNING"}
    args = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "points", "forecast",
            "--extract", str(extract), "--as-of", AS_OF.isoformat()]
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    lines = 0
    while chunk := process.stdout.read(1 << 20):
        lines += chunk.count(b"\n")
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{errors.decode(errors='replace')}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None,
                        help="Write the extract here and keep it (default: a temporary folder).")
    options = parser.parse_args()
    count = options.count
    small_count = max(count // 10, 1)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        extract = options.keep or workdir / f"extract-{count}.jsonl"
        small = workdir / f"extract-{small_count}.jsonl"
        empty = workdir / "empty.jsonl"
        seconds = write_extract(extract, count)
        size = extract.stat().st_size
        print(f"generated {count:,} licences in {seconds:.1f} s "
              f"({count / seconds:,.0f}/s, {size / 2**20:,.0f} MiB)", flush=True)
        write_extract(small, small_count)
        empty.write_bytes(b"")

        startup, startup_cpu, startup_peak, _ = run_forecast(empty, workdir)
        small_seconds, _, small_peak, _ = run_forecast(small, workdir)
        elapsed, cpu, peak, lines = run_forecast(extract, workdir)
        if lines != count:
            raise SystemExit(f"expected {count:,} output lines, got {lines:,}")

    rate = count / elapsed
    cpu_rate = count / cpu
    print(f"start-up alone (empty extract): {startup:.2f} s ({startup_cpu:.2f} s CPU), "
          f"peak {startup_peak} MiB")
    print(f"{small_count:>9,} licences: {small_seconds:7.1f} s, peak {small_peak} MiB")
    print(f"{count:>9,} licences: {elapsed:7.1f} s ({cpu:.1f} s CPU, "
          f"{cpu / elapsed:.0%} of a core), peak {peak} MiB")
    print(f"throughput: {rate:,.0f} licences/s wall clock = {rate / TARGET:.2f} x the "
          f"{TARGET:,}/s target; {cpu_rate:,.0f} licences per CPU second = "
          f"{cpu_rate / TARGET:.2f} x (start-up included in both)")
    print(f"peak memory {count:,} / {small_count:,} licences = {peak / small_peak:.2f} "
          f"(constant memory: close to 1)")


if __name__ == "__main__":
    main()
