"""Requests per client address: a fixed window counter per scope and address.

Every entry point that checks a secret (or sends a message) counts each request before any
sensitive work. Past `limit` requests in the current window the client is told to come back
when the window ends (`Retry-After`). The counters live in the shared store, so the limit holds
across workers and hosts.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from modern.metrics import RATE_LIMITED
from modern.throttling.client import rate_bucket
from modern.throttling.store import CounterStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int = 0  # seconds, when refused


class RateLimiter:
    def __init__(self, store: CounterStore, *, limit: int, window_seconds: int = 60,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.limit = limit
        self.window = window_seconds
        self.clock = clock

    def key(self, scope: str, address: str) -> str:
        """The counter of this scope and address (its /64 for IPv6) in the current window."""
        return f"rate:{scope}:{rate_bucket(address)}:{int(self.clock() // self.window)}"

    @property
    def ttl(self) -> int:
        return self.window + 1

    def hit(self, scope: str, address: str, *, limit: int | None = None) -> RateDecision:
        return self.decide(scope, address, self.store.increment(self.key(scope, address),
                                                                self.ttl), limit=limit)

    def decide(self, scope: str, address: str, count: int, *,
               limit: int | None = None) -> RateDecision:
        """The decision for the `count`-th request of the current window."""
        ceiling = limit or self.limit
        if count <= ceiling:
            return RateDecision(True)
        now = self.clock()
        retry_after = max(math.ceil((int(now // self.window) + 1) * self.window - now), 1)
        if count == ceiling + 1:  # once per window, not per refused request
            log.warning("rate limit reached", extra={"event": "rate_limited", "scope": scope,
                                                     "client": address})
            RATE_LIMITED.labels(scope).inc()
        return RateDecision(False, retry_after)
