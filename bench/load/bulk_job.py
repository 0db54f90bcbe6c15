"""The bulk migration that runs under the load: the operator's command, `flask --app wsgi
migrations run EXPORT`, in its own process as in production (never in a web worker).

A million-line export takes a minute or two, less than the measured time: when a job ends the
same export is run again (an export delivered twice: every line is found already migrated,
nothing is migrated twice), so that a job runs for the whole measured time. The job still
running at the end is stopped with `flask migrations stop`, as an operator would."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataset import ROOT, flask

COUNTS = ("read", "migrated", "ignored_doublon", "ignored_clos", "ignored_deja_migre",
          "rejected")


@dataclass
class Job:
    number: int
    process: subprocess.Popen[bytes]
    log: Path
    started: float  # seconds into the measured time
    ended: float | None = None
    stopped_at_the_end: bool = False
    status: dict[str, Any] = field(default_factory=dict)

    def job_id(self) -> str | None:
        found = re.search(r"job (\d+):", self.log.read_text(errors="replace"))
        return found.group(1) if found else None

    def read_status(self, env: dict[str, str]) -> None:
        job = self.job_id()
        if job:
            self.status = json.loads(flask(["migrations", "status", job, "--json"], env))[0]

    def ended_well(self) -> bool:
        state = self.status.get("state")
        if self.stopped_at_the_end:  # no state: ended while still reading the export
            return state in (None, "stopped", "succeeded")
        return state == "succeeded"

    def describe(self) -> str:
        if self.stopped_at_the_end and not self.status:
            return (f"job {self.number}: t={self.started:.0f} s, still reading the export into "
                    "the database at the end: ended")
        end = "stopped at the end" if self.stopped_at_the_end else f"{self.ended or 0:.0f} s"
        seconds = (self.ended or 0) - self.started
        counts = ", ".join(f"{key} {self.status[key]}" for key in COUNTS if key in self.status)
        rate = self.status.get("read", 0) / seconds if seconds > 0 else 0
        return (f"job {self.number}: t={self.started:.0f} s to {end} ({seconds:.0f} s, "
                f"{rate:,.0f} lines/s), {self.status.get('state', '?')}; {counts}")


@dataclass
class BulkMigration:
    export: Path
    env: dict[str, str]
    folder: Path
    began: float  # time.monotonic() at the start of the measured time
    name: str = "migration"  # of its logs: NAME-1.log, NAME-2.log…
    jobs: list[Job] = field(default_factory=list)

    def _now(self) -> float:
        return time.monotonic() - self.began

    def start(self) -> None:
        log = self.folder / f"{self.name}-{len(self.jobs) + 1}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "migrations", "run",
                 str(self.export), "--workers", "1"],
                env=self.env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
        self.jobs.append(Job(len(self.jobs) + 1, process, log, self._now()))

    def keep_running(self, until: float) -> None:
        """Jobs back to back until `until` seconds into the measured time (in a greenlet:
        `time.sleep` and the subprocesses cooperate once gevent has patched them)."""
        self.start()
        while self._now() < until:
            current = self.jobs[-1]
            if current.process.poll() is not None:
                current.ended = self._now()
                current.read_status(self.env)
                if self._now() < until:
                    self.start()
            time.sleep(1)

    def finish(self) -> None:
        """Stops the job still running, as an operator would; one still reading the export
        into the database has no job to stop yet and is ended."""
        current = self.jobs[-1]
        if current.process.poll() is None:
            current.ended = self._now()
            current.stopped_at_the_end = True
            job = current.job_id()
            if job:  # refused only when the job has just ended by itself
                subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "migrations",
                                "stop", job], env=self.env, cwd=ROOT, capture_output=True)
            else:
                current.process.terminate()
            try:
                current.process.wait(120)
            except subprocess.TimeoutExpired:
                current.process.kill()
                current.process.wait()
            if not job:
                return
        current.ended = current.ended or self._now()
        current.read_status(self.env)

    def failures(self) -> list[str]:
        return [f"migration job {job.number} ended {job.status.get('state', '?')} (see "
                f"{job.log.name})" for job in self.jobs if not job.ended_well()]
