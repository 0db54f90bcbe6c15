"""Shared throttling: the per-file-number lockout and the per-address rate limit, over one
counter store (Redis when `REDIS_URL` is set, the database otherwise).

Entry points use `throttling()` from a request: `.lockout` around any check of a secret tied
to a file number, `.rate_limit.hit(scope, client_address())` before any costly or sensitive
work. Both raise `StoreUnavailable` when the store is down: refuse the request (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from modern.db import db
from modern.settings import Settings
from modern.throttling.client import client_address, install_proxy_fix, network_of
from modern.throttling.lockout import Lockout, LockState
from modern.throttling.ratelimit import RateDecision, RateLimiter
from modern.throttling.store import (
    CounterStore,
    DatabaseCounterStore,
    RedisCounterStore,
    StoreUnavailable,
)

__all__ = [
    "Admission", "CounterStore", "DatabaseCounterStore", "LockState", "Lockout", "RateDecision",
    "RateLimiter", "RedisCounterStore", "StoreUnavailable", "Throttling", "client_address",
    "init_app", "install_proxy_fix", "network_of", "throttling",
]

EXTENSION = "throttling"


@dataclass(frozen=True)
class Admission:
    rate: RateDecision
    lock: LockState | None  # None when no file number was given


@dataclass(frozen=True)
class Throttling:
    store: CounterStore
    lockout: Lockout
    rate_limit: RateLimiter

    def admit(self, scope: str, address: str, numero: str | None = None) -> Admission:
        """Counts the request against the address's rate limit and, given a file number,
        reads that file's lock state: one round trip to the store."""
        if numero is None:
            return Admission(self.rate_limit.hit(scope, address), None)
        count, (failures, until) = self.store.increment_and_get(
            self.rate_limit.key(scope, address), self.rate_limit.ttl,
            self.lockout.keys(numero))
        return Admission(self.rate_limit.decide(scope, address, count),
                         self.lockout.state_from(failures, until))


def build(settings: Settings, store: CounterStore) -> Throttling:
    return Throttling(
        store=store,
        lockout=Lockout(store, threshold=settings.lockout_threshold,
                        base_seconds=settings.lockout_base_seconds,
                        max_seconds=settings.lockout_max_seconds),
        rate_limit=RateLimiter(store, limit=settings.rate_limit_per_minute),
    )


def init_app(app: Flask, settings: Settings) -> None:
    store: CounterStore
    if settings.redis_url:
        store = RedisCounterStore.from_url(settings.redis_url, settings.redis_key_prefix)
    else:
        store = DatabaseCounterStore(lambda: db.engine)
    app.extensions[EXTENSION] = build(settings, store)


def throttling() -> Throttling:
    bundle: Throttling = current_app.extensions[EXTENSION]
    return bundle
