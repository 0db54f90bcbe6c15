"""The service under test: gunicorn with the project's settings, and its memory over time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dataset import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(port: int, workers: int, env: dict[str, str], log: IO[bytes],
          max_requests: int = 0) -> subprocess.Popen[bytes]:
    """gunicorn with gunicorn.conf.py. `max_requests` 0: no periodic restart of workers (a
    restart would reset a worker's memory and hide the growth the memory phase looks for);
    otherwise the production policy with that limit (spaced limits, one worker restarting
    at a time: modern/recycling.py)."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
         "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--max-requests",
         str(max_requests), "wsgi:create_app()"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_until_ready(base: str, server: subprocess.Popen[bytes], workers: int) -> None:
    """`/readyz` answers from every worker (the port opens before the workers have loaded
    the application)."""
    deadline = time.monotonic() + 120
    answered = 0
    while answered < 10 * workers or len(worker_pids(server.pid)) < workers:
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("gunicorn did not start: see its log")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
                answered += response.status == 200
        except OSError:
            time.sleep(0.3)


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# -- memory ------------------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return sorted(int(pid) for pid in children)


def rss_mib(pid: int) -> float:
    """Resident set size from the kernel (/proc/PID/status, VmRSS in kB)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (/proc/PID/stat, fields 14 and 15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    seconds: float  # since the measured time began
    master: float
    workers: dict[int, float]  # pid -> MiB
    cpu: float  # CPU seconds used so far by the master and the workers

    @property
    def total(self) -> float:
        return self.master + sum(self.workers.values())


def sample(master: int, since: float) -> Sample:
    workers = worker_pids(master)
    return Sample(time.monotonic() - since, rss_mib(master),
                  {pid: rss_mib(pid) for pid in workers},
                  sum(cpu_seconds(pid) for pid in [master, *workers]))


@dataclass
class Life:
    """One worker, as the recycling phase saw it: when it came and left (seconds into the
    phase; None: there at the start, or still there at the end) and its memory then."""

    pid: int
    came: float | None
    left: float | None = None
    peak_mib: float = 0.0
    last_mib: float = 0.0  # the last sample before it left: its memory before the recycle


class Workers:
    """The master's workers sampled every `every` seconds (run in a greenlet): who came,
    who left, and each one's RSS."""

    def __init__(self, master: int, since: float, every: float = 0.2) -> None:
        self.master, self.since, self.every = master, since, every
        self.lives: dict[int, Life] = {pid: Life(pid, None) for pid in worker_pids(master)}
        self.running = True
        self.sample()

    def watch(self) -> None:
        while self.running:
            self.sample()
            time.sleep(self.every)

    def sample(self) -> None:
        now = time.monotonic() - self.since
        alive = set(worker_pids(self.master))
        for pid in alive:
            life = self.lives.setdefault(pid, Life(pid, now))
            mib = rss_mib(pid)
            if mib:
                life.peak_mib = max(life.peak_mib, mib)
                life.last_mib = mib
        for life in self.lives.values():
            if life.left is None and life.pid not in alive:
                life.left = now

    def stop(self) -> None:
        self.running = False
        self.sample()

    @property
    def recycled(self) -> list[Life]:
        return sorted((life for life in self.lives.values() if life.left is not None),
                      key=lambda life: life.left or 0.0)

    def first_all_recycled(self) -> bool:
        """Every worker there at the start has left (and been replaced) during the phase."""
        return all(life.left is not None for life in self.lives.values() if life.came is None)
