"""Expired counters of the database store.

A `throttle_counter` row past its `expires_at` counts as absent (a rate-limit window gone by,
a lock lifted); the store itself deletes such rows now and then, on its write path. The
purge deletes whatever is left, in batches. Counters kept in Redis expire there by
themselves.
"""

from __future__ import annotations

from modern.retention import Purge, Rule
from modern.throttling.store import ThrottleCounter

counter = ThrottleCounter.__table__


def expired_counters(purge: Purge) -> int:
    return purge.delete(counter, counter.c.expires_at <= purge.now.timestamp())


RULES = (Rule("throttle_counter.expired", expired_counters),)
