"""The counter stores (database and Redis behave alike), the lockout's exponential back-off
and the fixed-window rate limit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from modern.throttling import (
    CounterStore,
    DatabaseCounterStore,
    Lockout,
    RateLimiter,
    RedisCounterStore,
    StoreUnavailable,
)
from tests.compat.conftest import REDIS_URL, redis_available


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def database_store(engine: Engine, clock: Clock) -> Iterator[DatabaseCounterStore]:
    store = DatabaseCounterStore(lambda: engine, clock=clock)
    yield store
    with engine.begin() as connection:
        from modern.throttling.store import ThrottleCounter
        connection.execute(ThrottleCounter.__table__.delete())


@pytest.fixture
def redis_store() -> Iterator[RedisCounterStore]:
    if not redis_available():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    prefix = f"test:throttling:{uuid.uuid4().hex}:"
    store = RedisCounterStore.from_url(REDIS_URL, prefix)
    yield store
    keys = list(store.client.scan_iter(prefix + "*"))
    if keys:
        store.client.delete(*keys)


def test_database_counters_count_and_expire(database_store: DatabaseCounterStore,
                                            clock: Clock) -> None:
    assert [database_store.increment("k", 60) for _ in range(3)] == [1, 2, 3]
    clock.now += 30
    assert database_store.increment("k", 60) == 4  # keeps its first expiry
    clock.now += 31
    assert database_store.get_many(["k"]) == [None]
    assert database_store.increment("k", 60) == 1  # a new window
    database_store.increment("k", 60, refresh=True)
    clock.now += 59
    assert database_store.get_many(["k", "absent"]) == [2, None]
    database_store.put("p", 7, 10)
    database_store.delete("k")
    assert database_store.get_many(["k", "p"]) == [None, 7]


def test_redis_counters_count_and_expire(redis_store: RedisCounterStore) -> None:
    assert [redis_store.increment("k", 60) for _ in range(3)] == [1, 2, 3]
    assert 0 < redis_store.client.pttl(redis_store.prefix + "k") <= 60_000
    redis_store.put("p", 7, 10)
    redis_store.delete("k")
    assert redis_store.get_many(["k", "p"]) == [None, 7]
    redis_store.increment("short", 0.05)
    import time
    time.sleep(0.1)
    assert redis_store.get_many(["short"]) == [None]


def test_a_redis_that_does_not_answer_refuses(tmp_path: Path) -> None:
    store = RedisCounterStore.from_url("redis://127.0.0.1:1/0")
    for operation in (lambda: store.increment("k", 1), lambda: store.get_many(["k"]),
                      lambda: store.put("k", 1, 1), lambda: store.delete("k")):
        with pytest.raises(StoreUnavailable):
            operation()


def test_a_database_that_does_not_answer_refuses(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'no-schema.db'}")  # no counter table
    store = DatabaseCounterStore(lambda: engine)
    with pytest.raises(StoreUnavailable):
        store.increment("k", 1)


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest) -> CounterStore:
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]


def test_lock_after_five_failures_then_doubling(database_store: DatabaseCounterStore,
                                               clock: Clock) -> None:
    lockout = Lockout(database_store, threshold=5, base_seconds=900, max_seconds=4 * 3600,
                      clock=clock)
    for _ in range(4):
        assert not lockout.record_failure("N1", channel="test").locked
    fifth = lockout.record_failure("N1", channel="test")
    assert fifth.locked_until == dt.datetime.fromtimestamp(clock.now + 900, dt.UTC)
    assert lockout.state("N1").locked
    clock.now += 901
    assert not lockout.state("N1").locked  # the lock lapses on its own
    assert lockout.record_failure("N1", channel="test").locked_until == \
        dt.datetime.fromtimestamp(clock.now + 1800, dt.UTC)
    assert [lockout.duration(n) for n in range(5, 11)] == \
        [900, 1800, 3600, 7200, 14400, 14400]  # capped
    lockout.record_success("N1")
    assert lockout.state("N1") == lockout.state("never-failed")


def test_lockout_on_each_store(store: CounterStore) -> None:
    lockout = Lockout(store, threshold=3, base_seconds=60, max_seconds=600)
    for _ in range(3):
        state = lockout.record_failure("N2", channel="test")
    assert state.locked and lockout.state("N2").failures == 3
    lockout.unlock("N2")
    assert not lockout.state("N2").locked


def test_counting_a_request_and_reading_a_lock_at_once(store: CounterStore) -> None:
    """What every legacy request does in one round trip: count it against the address, read
    the file's two lock counters (absent ones as None)."""
    assert store.increment_and_get("rate", 60, ["fail", "until"]) == (1, [None, None])
    store.put("until", 1_900_000_000, 60)
    assert store.increment_and_get("rate", 60, ["fail", "until"]) == (2, [None, 1_900_000_000])
    store.increment("fail", 60)
    assert store.increment_and_get("rate", 60, ["fail", "until"]) == (3, [1, 1_900_000_000])
    assert store.get_many(["rate"]) == [3]


def test_a_carried_over_lock(database_store: DatabaseCounterStore, clock: Clock) -> None:
    lockout = Lockout(database_store, clock=clock)
    until = dt.datetime.fromtimestamp(clock.now + 3600, dt.UTC)
    lockout.set_state("N3", 2, until)
    state = lockout.state("N3")
    assert state.failures == 2 and state.locked_until == until
    lockout.set_state("N4", 0, dt.datetime.fromtimestamp(clock.now - 5, dt.UTC))  # past lock
    assert not lockout.state("N4").locked


def test_fixed_window_rate_limit(store: CounterStore) -> None:
    clock = Clock()
    limiter = RateLimiter(store, limit=3, window_seconds=60, clock=clock)
    clock.now = 1_800_000_010.0  # 10 s into a window
    decisions = [limiter.hit("scope", "192.0.2.1") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after == 50
    assert limiter.hit("scope", "192.0.2.2").allowed
    assert limiter.hit("other", "192.0.2.1").allowed


def test_a_right_secret_is_refused_once_concurrent_failures_lock_the_file(
        store: CounterStore) -> None:
    """`confirm` reads the counters again after a right secret: the failures of guesses sent
    at the same time, written while it was being checked, count before it."""
    lockout = Lockout(store, threshold=5, base_seconds=60, max_seconds=600)
    before = lockout.state("N3")
    for _ in range(4):  # four wrong guesses checked meanwhile: below the threshold
        lockout.record_failure("N3", channel="test")
    assert not lockout.confirm("N3", before).locked
    lockout.record_failure("N3", channel="test")  # the fifth: the file is locked
    assert lockout.confirm("N3", before).locked
    # The count at the threshold while the lock is still being written: refused too.
    lockout.unlock("N3")
    before = lockout.state("N3")
    for _ in range(5):
        store.increment(lockout.keys("N3")[0], 60)
    assert lockout.confirm("N3", before).locked_until is not None


def test_after_a_lapsed_lock_only_the_first_guess_may_succeed(
        store: CounterStore, clock: Clock) -> None:
    lockout = Lockout(store, threshold=2, base_seconds=1, max_seconds=600, clock=clock)
    for _ in range(2):
        lockout.record_failure("N4", channel="test")
    clock.now += 2  # the lock lapses: one more guess is allowed
    before = lockout.state("N4")
    assert not before.locked and not lockout.confirm("N4", before).locked
    lockout.record_failure("N4", channel="test")  # another guess, at the same time
    assert lockout.confirm("N4", before).locked
