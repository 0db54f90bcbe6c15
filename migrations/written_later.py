"""What the request path counts in memory and a thread writes to the database every few
seconds (the census, the legacy code uses): the request never waits for the database."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("telepoints.migration")


class WrittenEveryFewSeconds:
    """`flush()` every `flush_seconds` from a thread of its own, started by the first count in
    the process that counts (a thread does not survive gunicorn's fork), and once more on
    `close()`: a process that ends loses nothing, and nothing is written after its
    application's database is let go."""

    what = "counts"  # named in the log line of a failed write

    def __init__(self, flush_seconds: float) -> None:
        self.flush_seconds = flush_seconds
        self._timer: threading.Thread | None = None
        self._stopped = threading.Event()

    def flush(self) -> None:
        """Writes what was counted since the last flush; on failure it is kept."""
        raise NotImplementedError

    def _start_writing(self) -> None:
        """Called under the subclass's lock with each count; starts the thread once."""
        if self._timer is None:
            self._timer = threading.Thread(target=self._every, name=self.what, daemon=True)
            self._timer.start()

    def _every(self) -> None:
        while not self._stopped.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception:  # kept for the next try
                log.exception("%s not written", self.what)

    def close(self) -> None:
        """Stops the thread and writes what is left."""
        self._stopped.set()
        self.flush()
