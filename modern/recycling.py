"""gunicorn's periodic restart of its workers (`max_requests`), one worker at a time.

A worker that reaches its limit stops taking requests, finishes those in flight, exits, and
the master starts another, which loads the application before it answers: several seconds
during which the other workers carry the whole load. With a random jitter of a tenth, the
workers, which share the load evenly, reached their limits in the same second: all were
restarting at once, and nothing answered for 5.5 s. Spacing their limits is not enough
either: while one restarts, the others take its share and reach theirs sooner.

So a worker restarts only when every worker is up (its application loaded) and no other is
restarting; otherwise it serves one more request and asks again. The workers agree through
a small folder of the master's (flock on one file): one marker per worker ready, one token
for the worker restarting, released once that worker is gone and its replacement is ready.
gunicorn.conf.py wires it into gunicorn's hooks. Nothing here imports Flask.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


def recycle_limit(base: int, workers: int, age: int) -> int:
    """The requests a worker serves before it asks to restart: the workers of the first
    generation (`age`, gunicorn's count of workers started, from 1) get limits spaced by a
    `workers`th of `base`, so that they rarely have to wait for each other; every
    replacement gets the full `base`, which keeps them that far apart under an even load."""
    first_generation = age <= workers
    return base + ((age - 1) % workers) * base // workers if first_generation else base


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RecycleGate:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.folder / "lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ready(self, pid: int) -> None:
        """A worker has loaded the application and answers."""
        (self.folder / f"ready-{pid}").touch()

    def gone(self, pid: int) -> None:
        """A worker has exited (or was killed: the master says so)."""
        with contextlib.suppress(FileNotFoundError):
            (self.folder / f"ready-{pid}").unlink()

    def ready_workers(self) -> int:
        return sum(1 for marker in self.folder.glob("ready-*")
                   if _alive(int(marker.name.removeprefix("ready-"))))

    def _restarting(self) -> bool:
        token = self.folder / "restarting"
        try:
            pid = int(token.read_text() or 0)
        except (FileNotFoundError, ValueError):
            return False
        return _alive(pid)

    def may_restart(self, pid: int, workers: int) -> bool:
        """True when `pid` may restart now: every worker is ready and none is restarting;
        `pid` then holds the token until it is gone and its replacement is ready."""
        with self._locked():
            if self._restarting() or self.ready_workers() < workers:
                return False
            (self.folder / "restarting").write_text(str(pid))
            return True
