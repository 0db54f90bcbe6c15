"""gunicorn's periodic restart of its workers (`max_requests`) under load: the workers are
restarted one at a time, each after the previous one's replacement is up, so that one of
them is always there to answer; and every request is answered right across the restarts.

Before, a random jitter of a tenth let both workers, which share the load evenly, reach their
limits in the same second: both restarted at once, and nothing answered for 5.5 s. How long
the answers stop with and without the stagger is measured by bench/worker_recycle.py."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Callable

import pytest

from tests.faults.clients import Load
from tests.faults.conftest import LazyService
from tests.faults.servers import ROOT, wait_until

pytestmark = pytest.mark.slow

LIMIT = 150  # requests per worker, tiny so that the test sees several restarts
RESTARTS = 3


def recycle_limit(base: int, workers: int, age: int) -> int:
    spec = importlib.util.spec_from_file_location("gunicorn_settings", ROOT / "gunicorn.conf.py")
    assert spec is not None and spec.loader is not None
    settings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(settings)
    return int(settings.recycle_limit(base, workers, age))


def test_limits_are_spaced_for_the_first_workers_then_the_full_base() -> None:
    assert [recycle_limit(20000, 2, age) for age in (1, 2, 3, 4, 5)] == [
        20000, 30000, 20000, 20000, 20000]
    assert [recycle_limit(900, 3, age) for age in (1, 2, 3, 4)] == [900, 1200, 1500, 900]


class Watch:
    """The workers' process ids, sampled every few milliseconds: who left, who came."""

    def __init__(self, pids: Callable[[], set[int]]) -> None:
        self.pids = pids
        self.events: list[tuple[float, str, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        seen = set(self.pids())
        while not self.stop.is_set():
            now = set(self.pids())
            at = time.monotonic()
            self.events += [(at, "left", pid) for pid in sorted(seen - now)]
            self.events += [(at, "came", pid) for pid in sorted(now - seen)]
            seen = now
            time.sleep(0.005)

    def left(self) -> int:
        return sum(1 for _, kind, _ in self.events if kind == "left")

    def __enter__(self) -> Watch:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(5)


def test_workers_restart_one_at_a_time_under_load(lazy_service: LazyService) -> None:
    gunicorn = lazy_service.gunicorn
    gunicorn.env["GUNICORN_MAX_REQUESTS"] = str(LIMIT)
    gunicorn.start()
    with Watch(gunicorn.worker_pids) as watch, \
            Load(gunicorn.url, lazy_service.holders, clients=4) as load:
        wait_until(lambda: watch.left() >= RESTARTS, 240, f"{RESTARTS} workers restarted")
        wait_until(lambda: len(gunicorn.worker_pids()) == 2, 60, "the last one replaced")
        settled = time.monotonic()
        wait_until(lambda: load.successes_since(settled) >= 20, 60, "answers afterwards")

    # One worker at a time: before a worker leaves, the one that left before it has been
    # replaced (two workers alive again), so one of them always answers.
    alive, low = 2, 2
    for _at, kind, _pid in sorted(watch.events):
        alive += 1 if kind == "came" else -1
        low = min(low, alive)
    assert low >= 1, (watch.events, gunicorn.problems())
    # Every request was answered, and answered right.
    wrong = [(holder.numero, answer) for holder, answer in load.answers
             if not answer.right_for(holder)]
    assert wrong == [], gunicorn.problems()
