"""Property-based fuzzing of the SOAP pipeline (`POST /telepoints/ws`: content type, size,
parse, version, headers, dispatch, XSD validation, rate limit, operation), through the Flask
test client, with requests generated from the contract's operations (`soap_messages.py`).

What a legacy client and an operator rely on, whatever arrives:
- the answer is always a SOAP message of the contract: an operation's response, valid against
  the contract's schema, or a fault whose code the SOAP version defines and whose detail is an
  `ErreurTelepoints` of the contract, with the HTTP status the README gives, the migration
  notice in its header; never a trace, never a body that is not XML;
- the service never calls itself unavailable (`SERVICE_INDISPONIBLE`) and logs no error while
  it is healthy: every refusal is a refusal, not a crash;
- a refused request changes nothing stored but the counters it is meant to move: the client
  address's request count (once, for every request that reached the parser) and, for a wrong
  code, the failure count of that one file;
- a conforming request means the same however it is written (prefixes, namespaces, comments,
  CDATA, encodings, SOAP 1.1 or 1.2, the number as printed): the holder gets the same answer.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import event, example, given, note
from lxml import etree
from sqlalchemy import select

from modern.db import db
from modern.throttling.store import ThrottleCounter
from tests.compat.conftest import Holder
from tests.fuzz.budget import fuzz
from tests.fuzz.soap_messages import (
    CODE,
    MEDIA_TYPES,
    NAMESPACES,
    NUMERO,
    Request,
    equivalent_requests,
    hostile_requests,
    plain,
)

TNS = "urn:fr:interieur:telepoints:v1"
MAX_BODY = 64 * 1024  # README: over 64 KiB, 413 before reading the rest
FAULT_CODES = {"1.1": {"Client", "Server", "VersionMismatch", "MustUnderstand"},
               "1.2": {"Sender", "Receiver", "VersionMismatch", "MustUnderstand"}}
WRONG_CODE = {"IDENTIFIANTS_INVALIDES", "CODE_EXPIRE", "COMPTE_BLOQUE"}
# What a successful operation may write: a code (re-hashed, or a pending one activated or
# issued), the message carrying a new code, and counters.
WRITTEN_ON_SUCCESS = {"throttle_counter", "confidential_code", "outbox_message"}
# Statistics of the migration's hook, written by a thread of their own every few seconds,
# whatever the answer (the client census counts refusals too): no file number, no code.
BACKGROUND = {"legacy_client", "legacy_client_day", "parallel_run_day",
              "parallel_run_mismatch"}
READER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _post(client: FlaskClient, request: Request) -> Any:
    note(f"request: {request.headers} {request.notes} {request.body[:3000]!r}")
    return client.post("/telepoints/ws", data=request.body, headers=request.headers)


Snapshot = tuple[dict[str, list[str]], dict[str, tuple[int, float]]]


def _snapshot(app: Flask) -> Snapshot:
    """Every table's rows, and the counters by key with their expiry."""
    with app.app_context():
        try:
            tables = {table.name: sorted(repr(tuple(row)) for row in db.session.execute(
                select(table))) for table in db.metadata.sorted_tables
                if table.name != ThrottleCounter.__tablename__ and table.name not in BACKGROUND}
            counters = {key: (value, expires_at) for key, value, expires_at in db.session.execute(
                select(ThrottleCounter.key, ThrottleCounter.value, ThrottleCounter.expires_at))}
            return tables, counters
        finally:
            db.session.remove()


def _judge(response: Any, request: Request, schema: etree.XMLSchema) -> str | None:
    """Checks the answer against the contract; returns its fault's code, None for a response."""
    assert response.status_code in (200, 400, 413, 415, 500), response.status_code
    version = request.version or "1.1"  # another content type: 415, answered in SOAP 1.1
    if not request.version:
        assert response.status_code == 415
    assert response.headers["Content-Type"].startswith(MEDIA_TYPES[version])
    root = etree.fromstring(response.data, READER)
    namespace = NAMESPACES[version]
    assert root.tag == f"{{{namespace}}}Envelope"
    *header, body = list(root)
    assert body.tag == f"{{{namespace}}}Body" and len(body) == 1
    payload = body[0]
    # The bindings declare the AvisMigration header on outputs only: answers carry it,
    # faults do not.
    assert len(header) == (response.status_code == 200)
    if response.status_code == 200:
        assert header[0].tag == f"{{{namespace}}}Header"
        schema.assertValid(header[0].find(f"{{{TNS}}}AvisMigration"))
        assert payload.tag.startswith(f"{{{TNS}}}") and payload.tag.endswith("Reponse")
        schema.assertValid(payload)
        return None
    assert payload.tag == f"{{{namespace}}}Fault"
    value = payload.findtext("faultcode") if version == "1.1" \
        else payload.findtext(f"{{{namespace}}}Code/{{{namespace}}}Value")
    prefix, _, local = (value or "").partition(":")
    assert payload.nsmap.get(prefix) == namespace and local in FAULT_CODES[version], value
    detail = payload.find(f".//{{{TNS}}}ErreurTelepoints")
    assert detail is not None
    schema.assertValid(detail)
    code = detail.findtext(f"{{{TNS}}}code")
    expected = {413, 415} if version == "1.1" else {413, 415, 400 if local == "Sender" else 500}
    if version == "1.1":
        expected.add(500)
    assert response.status_code in expected, (response.status_code, local)
    assert (response.status_code == 413) == (len(request.body) > MAX_BODY)
    return code


def _live(counters: dict[str, tuple[int, float]], now: float) -> dict[str, int]:
    """The counters that count at `now` (the store purges expired ones when it likes)."""
    return {key: value for key, (value, expires_at) in counters.items() if expires_at > now}


def _check_changes(before: Snapshot, after: Snapshot, status: int, fault: str | None) -> None:
    tables = {name for name, rows in before[0].items() if after[0][name] != rows}
    now = time.time()
    old, new = _live(before[1], now), _live(after[1], now)
    counters = {key: new.get(key, 0) - old.get(key, 0) for key in old.keys() | new.keys()
                if old.get(key) != new.get(key)}
    rate = {key: delta for key, delta in counters.items() if key.startswith("rate:")}
    if status in (413, 415):  # refused before the message is read: not even counted
        assert not counters and not tables
        return
    assert sum(rate.values()) == 1, rate  # every message read counts once, refused or not
    others = {key for key in counters if key not in rate}
    if fault is None:
        assert tables <= WRITTEN_ON_SUCCESS, tables
        return
    assert not tables, f"a refused request changed {tables}"
    if fault in WRONG_CODE:
        files = {key.split(":", 2)[2] for key in others if key.startswith("lock:")}
        assert others <= {f"lock:fail:{numero}" for numero in files} \
            | {f"lock:until:{numero}" for numero in files}, others
        assert len(files) <= 1, files
    else:
        assert not others, others


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING)
    return caplog


@fuzz(200)
@given(hostile_requests())
@example(plain("DemanderCodeConfidentiel", numeroDossier=NUMERO, dateNaissance="-2020-01-01"))
@example(plain("DemanderCodeConfidentiel", "1.2", numeroDossier=NUMERO,
               dateNaissance="12345-01-01"))
def test_any_request_gets_an_answer_of_the_contract(
        client: FlaskClient, app: Flask, known_holder: Holder,
        contract_schema: etree.XMLSchema, errors: pytest.LogCaptureFixture,
        request: Request) -> None:
    errors.clear()
    before = _snapshot(app)
    response = _post(client, request)
    app.extensions["after_answer"].drain()  # a new code is issued after the answer
    note(f"answer: {response.status_code} {response.data!r}")
    fault = _judge(response, request, contract_schema)
    event(f"{response.status_code} {fault or request.operation}")
    assert fault != "SERVICE_INDISPONIBLE"
    assert not [record for record in errors.records if record.levelno >= logging.ERROR]
    _check_changes(before, _snapshot(app), response.status_code, fault)


@fuzz(120)
@given(equivalent_requests())
def test_a_conforming_request_gets_the_same_answer_however_written(
        client: FlaskClient, known_holder: Holder, contract_schema: etree.XMLSchema,
        request: Request) -> None:
    canonical = _post(client, plain(request.operation, numeroDossier=NUMERO,
                                    codeConfidentiel=CODE))
    assert canonical.status_code == 200, canonical.data
    response = _post(client, request)
    note(f"answer: {response.status_code} {response.data!r}")
    assert response.status_code == 200, response.data
    assert _judge(response, request, contract_schema) is None

    def payload(data: bytes) -> bytes:
        return etree.tostring(etree.fromstring(data, READER)[1][0], method="c14n",
                              exclusive=True)

    assert payload(response.data) == payload(canonical.data)

