"""A request for a new code is answered before anything depending on the file is done: the
look-up, the code and its message come after the answer (`modern.after_answer`), so that the
answer takes the same time whether the file and the birth date match or not (the time itself
is measured over HTTP by `bench/enumeration.py`, not asserted here)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modern.db import db
from telepoints_compat.codes.models import ConfidentialCode
from tests.compat.conftest import NUMERO, Holder, envelope, post
from tests.compat.web_helpers import csrf

ASK = ("<tp:DemanderCodeConfidentiel><tp:numeroDossier>991091010000</tp:numeroDossier>"
       "<tp:dateNaissance>1957-02-18</tp:dateNaissance></tp:DemanderCodeConfidentiel>")


def _sent(app: Flask) -> int:
    with app.app_context():
        return len(app.extensions["outbox"].entries(limit=100))


def _codes(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(ConfidentialCode)) or 0)


@pytest.fixture
def held_back(app: Flask) -> Any:
    """Holds the work after the answer back until released: what the answer itself did is
    then all there is to see."""
    gate = threading.Event()
    app.extensions["after_answer"].later(lambda _session: gate.wait(10) and None, "test_gate")
    yield gate
    gate.set()
    app.extensions["after_answer"].drain()


def test_the_soap_answer_comes_before_the_code_is_issued_and_sent(
        app: Flask, client: FlaskClient, holder: Holder, held_back: threading.Event) -> None:
    codes_before = _codes(app)
    response = post(client, envelope(ASK))
    assert response.status_code == 200 and b"demandeEnregistree>true<" in response.data
    assert _sent(app) == 0 and _codes(app) == codes_before  # nothing yet: it comes after
    held_back.set()
    app.extensions["after_answer"].drain()
    assert _sent(app) == 1 and _codes(app) == codes_before + 1


def test_the_web_answer_comes_before_the_code_is_sent(
        app: Flask, client: FlaskClient, holder: Holder, held_back: threading.Event) -> None:
    response = client.post("/telepoints/code-perdu", data={
        "csrf": csrf(client, "/telepoints/code-perdu"), "numero": NUMERO,
        "date_naissance": holder.birth.isoformat()})
    assert response.status_code == 200 and _sent(app) == 0
    held_back.set()
    app.extensions["after_answer"].drain()
    assert _sent(app) == 1


def test_work_that_fails_is_rolled_back_and_logged_and_the_next_still_runs(
        app: Flask, client: FlaskClient, holder: Holder,
        caplog: pytest.LogCaptureFixture) -> None:
    def failing(session: Session) -> None:
        session.add(ConfidentialCode(numero=NUMERO))  # incomplete: the flush fails
        session.flush()

    caplog.set_level(logging.ERROR, logger="telepoints.after_answer")
    codes_before = _codes(app)
    app.extensions["after_answer"].later(failing, "test_failing")
    assert post(client, envelope(ASK)).status_code == 200
    app.extensions["after_answer"].drain()
    assert [r.work for r in caplog.records] == ["test_failing"]  # type: ignore[attr-defined]
    assert _sent(app) == 1 and _codes(app) == codes_before + 1


def test_the_work_starts_once_the_server_has_written_the_answer(
        app: Flask, client: FlaskClient, holder: Holder) -> None:
    """The server closes the body once its last byte is sent: that, and nothing before,
    starts the work (the test client closes it only when told)."""
    response = post(client, envelope(ASK))
    assert response.status_code == 200
    time.sleep(0.3)
    assert _sent(app) == 0  # answered, not yet written out: the work waits
    response.close()
    deadline = time.monotonic() + 10
    while _sent(app) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _sent(app) == 1
