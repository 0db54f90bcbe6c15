"""A gunicorn worker killed (SIGKILL) under load: the master starts another, requests keep
being answered, the only failures are the requests that were in flight on the killed worker
(as connection errors, never as a wrong answer), and the data is exact afterwards: every file
whose first use was sent is migrated once, with one code, and nothing else was written.

The load (tests/faults/clients.py) is SOAP ConsulterSolde with valid codes, first uses of
legacy codes (each a lazy migration) mixed with readings of files migrated earlier."""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests

from tests.faults.clients import Load, consulter_solde
from tests.faults.conftest import LazyService, assert_exactly_migrated
from tests.faults.servers import wait_until

pytestmark = pytest.mark.slow

CLIENTS = 4


def test_a_worker_killed_under_load(lazy_service: LazyService) -> None:
    service = lazy_service
    gunicorn = service.gunicorn
    gunicorn.start()
    before = gunicorn.worker_pids()

    with Load(gunicorn.url, service.holders, CLIENTS) as load:
        wait_until(lambda: load.successes_since(0) >= 60, 60, "60 answers before the kill")
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: victim not in gunicorn.worker_pids(), 10, "the worker dies")
        dead_at = time.monotonic()
        wait_until(lambda: len(gunicorn.worker_pids()) == 2, 60,
                   "the master replaces the killed worker")
        replaced_at = time.monotonic()
        wait_until(lambda: load.successes_since(replaced_at) >= 150, 60,
                   "150 answers after the replacement")
    assert len(gunicorn.worker_pids() - before) == 1  # the new worker; the other one lived on

    # Every answer that came back is right; the others are connection errors of requests
    # sent before the worker was gone (in flight on it, at most one per client).
    wrong = [(holder, answer) for holder, answer in load.answers
             if answer.status is not None and not answer.right_for(holder)]
    assert wrong == [], gunicorn.problems()
    lost = [answer for _, answer in load.answers if answer.status is None]
    assert len(lost) <= CLIENTS, lost
    assert all(answer.at <= dead_at for answer in lost), (dead_at, lost)

    # A first use whose answer was lost may or may not have migrated its file: asked again,
    # it is answered (and migrates the file if the first attempt did not).
    session = requests.Session()
    for holder in load.in_doubt():
        assert consulter_solde(session, gunicorn.url, holder.numero, holder.code).ok
    assert_exactly_migrated(service, load.first_uses)
    assert "Traceback" not in gunicorn.log_text()
