"""Brute-force protection per file number, shared by every way in (SOAP, the legacy web form,
the modern claim flow): consecutive failures are counted per file number whatever the entry
point, and from the `threshold`-th one the file is locked, for `base` seconds and then twice
as long at each further failure, up to `maximum` (exponential back-off). A success clears the
count. While a file is locked its code is not even checked.

The count is kept for any file number, known or not, so a lock tells nothing about whether a
file exists. The owner of a locked file is not shut out for good: the lock lapses on its own,
and the modern service offers other ways in (FranceConnect).

Concurrent guesses: a failure is counted after its secret was checked, so guesses on one file
sent at once may all pass the lock check before the first failure is written, and each is
checked. Where the secret can be guessed (a password, an 8-digit activation code, the birth
name that goes with a share code), a right one is granted only once `confirm` has read the
counters again, after the check: if failures written meanwhile by other requests lock the
file, or, after a lock has lapsed, any failure came meanwhile, it is refused as locked. In the
order in which the counters saw them, no right secret is granted after the threshold-th
failure: the chances of a guesser are those of `threshold` guesses (then one per lapse)
whatever the concurrency. Confidential codes are checked without it: drawn at random from 6
to 12 characters (31 to 62 bits; 50 for the codes issued here), the few more guesses a burst
gets per lock (one per thread serving at that moment) change the odds by nothing measurable
(1e-8 per lock at the shortest), while the read would cost every legacy consultation 13 % more
instructions (1.10 M to 1.24 M per `ConsulterSolde`).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from modern.logs import mask_numero
from modern.metrics import LOCKOUTS
from modern.throttling.store import CounterStore

log = logging.getLogger(__name__)

# Consecutive failures are remembered this long after the last one.
FAILURE_MEMORY_SECONDS = 90 * 24 * 3600


@dataclass(frozen=True)
class LockState:
    failures: int
    locked_until: dt.datetime | None  # UTC, None when not locked

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


class Lockout:
    def __init__(self, store: CounterStore, *, threshold: int = 5, base_seconds: int = 900,
                 max_seconds: int = 86400, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.threshold = threshold
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds
        self.clock = clock

    @staticmethod
    def _keys(numero: str) -> tuple[str, str]:
        return f"lock:fail:{numero}", f"lock:until:{numero}"

    def duration(self, failures: int) -> int:
        """Seconds of lock after `failures` consecutive failures (0 below the threshold)."""
        if failures < self.threshold:
            return 0
        return min(self.base_seconds * 2 ** min(failures - self.threshold, 30), self.max_seconds)

    def keys(self, numero: str) -> tuple[str, str]:
        return self._keys(numero)

    def state(self, numero: str) -> LockState:
        failures, until = self.store.get_many(self._keys(numero))
        return self.state_from(failures, until)

    def state_from(self, failures: int | None, until: int | None) -> LockState:
        """The state from the two counters `keys()` names, read by the caller."""
        locked_until = None
        if until is not None and until > self.clock():
            locked_until = dt.datetime.fromtimestamp(until, dt.UTC)
        return LockState(failures or 0, locked_until)

    def confirm(self, numero: str, before: LockState) -> LockState:
        """After a right secret, before granting it: the file's state read again. Locked (the
        caller refuses as it does for a locked file) when failures written since `before` was
        read lock the file, even while the lock itself is being written: the count reached
        the threshold, or, at or past it (a lapsed lock allows one more guess), it moved."""
        now = self.state(numero)
        if now.locked or now.failures < self.threshold or now.failures == before.failures:
            return now
        until = math.ceil(self.clock() + self.duration(now.failures))
        return LockState(now.failures, dt.datetime.fromtimestamp(until, dt.UTC))

    def record_failure(self, numero: str, *, channel: str) -> LockState:
        fail_key, until_key = self._keys(numero)
        failures = self.store.increment(fail_key, FAILURE_MEMORY_SECONDS, refresh=True)
        seconds = self.duration(failures)
        if not seconds:
            return LockState(failures, None)
        until = math.ceil(self.clock() + seconds)
        self.store.put(until_key, until, seconds)
        log.warning("file locked", extra={"event": "lockout", "numero": mask_numero(numero),
                                          "channel": channel, "failures": failures,
                                          "lock_seconds": seconds})
        LOCKOUTS.labels(channel).inc()
        return LockState(failures, dt.datetime.fromtimestamp(until, dt.UTC))

    def record_success(self, numero: str, state: LockState | None = None) -> None:
        """Clears the count; skips the write when `state` (read before) shows nothing to clear."""
        if state is not None and state.failures == 0 and not state.locked:
            return
        self.store.delete(*self._keys(numero))

    def set_state(self, numero: str, failures: int, locked_until: dt.datetime | None) -> None:
        """Carries over a count and a lock from elsewhere (the legacy export)."""
        self.set_states([(numero, failures, locked_until)])

    def set_states(self, states: Iterable[tuple[str, int, dt.datetime | None]]) -> None:
        """`set_state` for many files in one call to the store (a bulk import)."""
        puts: list[tuple[str, int, float]] = []
        deletes: list[str] = []
        now = self.clock()
        for numero, failures, locked_until in states:
            fail_key, until_key = self._keys(numero)
            if failures > 0:
                puts.append((fail_key, failures, FAILURE_MEMORY_SECONDS))
            else:
                deletes.append(fail_key)
            remaining = (locked_until.timestamp() - now) if locked_until else 0
            if remaining > 0 and locked_until is not None:
                puts.append((until_key, math.ceil(locked_until.timestamp()), remaining))
            else:
                deletes.append(until_key)
        if puts or deletes:
            self.store.write_many(puts, deletes)

    def unlock(self, numero: str) -> None:
        """An agent's decision: forget the count and the lock."""
        self.store.delete(*self._keys(numero))
        log.warning("file unlocked", extra={"event": "unlock", "numero": mask_numero(numero)})
