"""The attack corpus: every payload is answered by a fault (or 413), reads no file, opens no
connection, grows no memory, and never reaches business code. (How fast: bench/soap_attacks.py.)
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from telepoints_compat.soap import operations
from tests.compat.attacks import Attack, corpus, has_reader
from tests.compat.conftest import Holder, envelope, fault_code, post, solde_request


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A named pipe: opening it for reading blocks until a writer comes, so a parser that
    tried to read it would hang instead of answering."""
    path = tmp_path / "secret"
    os.mkfifo(path)
    yield path


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that records whether anybody connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    yield server
    server.close()


@pytest.fixture
def spies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    called: list[str] = []
    for name, handler in list(operations.HANDLERS.items()):
        def spy(request: Any, lock: Any, name: str = name, handler: Any = handler) -> Any:
            called.append(name)
            return handler(request, lock)
        monkeypatch.setitem(operations.HANDLERS, name, spy)
    return called



def _answer(client: FlaskClient, attack: Attack) -> Any:
    result: dict[str, Any] = {}

    def run() -> None:
        result["response"] = client.post("/telepoints/ws", data=attack.body,
                                         headers=attack.all_headers())

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    return result.get("response")


def test_every_attack_gets_a_fault(client: FlaskClient, holder: Holder, fifo: Path,
                                   listener: socket.socket, spies: list[str]) -> None:
    port = listener.getsockname()[1]
    payloads = corpus(f"file://{fifo}", f"http://127.0.0.1:{port}/dtd")
    for name, attack in payloads.items():
        response = _answer(client, attack)
        if response is None:  # the parser is blocked on the pipe: release it, then fail
            with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "w"):
                pass
            pytest.fail(f"{name}: no answer (the parser opened the file?)")
        assert response.status_code in (413, 500), name
        if response.status_code == 413:
            assert len(attack.body) > 64 * 1024 or name.endswith("bomb"), name
        else:
            assert fault_code(response.data) == "REQUETE_INVALIDE", name
        assert b"lollol" not in response.data and b"xxxxxxxx" not in response.data, name
        assert not has_reader(fifo), f"{name}: the named pipe was opened"
    assert client.get("/healthz").status_code == 200
    with pytest.raises(TimeoutError):
        listener.accept()  # nobody ever connected
    assert spies == []  # no business code ran


def test_the_corpus_does_not_grow_memory(client: FlaskClient, holder: Holder, fifo: Path,
                                         listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    payloads = corpus(f"file://{fifo}", f"http://127.0.0.1:{port}/dtd")
    _answer(client, payloads["garbage bytes"])  # warm up
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(5):
        for attack in payloads.values():
            _answer(client, attack)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 10 * 1024


def test_a_known_file_is_not_read_either(client: FlaskClient, holder: Holder) -> None:
    payloads = corpus("file:///etc/passwd", "http://127.0.0.1:9/x")
    for name, attack in payloads.items():
        response = _answer(client, attack)
        assert b"root:" not in response.data, name


def test_an_invalid_request_never_reaches_business_code(client: FlaskClient, holder: Holder,
                                                       spies: list[str]) -> None:
    for numero, code in (("12", holder.code), (holder.numero, "x"),
                         (holder.numero, "' or '1'='1"), (holder.numero, "]]>ABCDEF"),
                         ("9" * 20, holder.code)):
        body = solde_request(numero, code).replace("]]>", "]]&gt;").replace("'", "&apos;")
        response = post(client, envelope(body))
        assert fault_code(response.data) == "REQUETE_INVALIDE", (numero, code)
    extra = envelope(solde_request(holder.numero, holder.code)
                     .replace("</tp:ConsulterSolde>", "<tp:extra/></tp:ConsulterSolde>"))
    assert fault_code(post(client, extra).data) == "REQUETE_INVALIDE"
    response = envelope(solde_request(holder.numero, holder.code)
                        .replace("ConsulterSolde", "ConsulterSoldeReponse"))
    assert fault_code(post(client, response).data) == "REQUETE_INVALIDE"
    assert spies == []


def test_a_soapaction_that_names_another_operation_is_refused(client: FlaskClient,
                                                              holder: Holder) -> None:
    body = envelope(solde_request(holder.numero, holder.code))
    wrong = "urn:fr:interieur:telepoints:v1#DemanderCodeConfidentiel"
    assert fault_code(post(client, body, action=wrong).data) == "REQUETE_INVALIDE"
    right = "urn:fr:interieur:telepoints:v1#ConsulterSolde"
    assert post(client, body, action=right).status_code == 200
    assert post(client, body, action="").status_code == 200
    body12 = envelope(solde_request(holder.numero, holder.code), "1.2")
    assert fault_code(post(client, body12, "1.2", action=wrong).data) == "REQUETE_INVALIDE"
    assert post(client, body12, "1.2", action=right).status_code == 200


def test_a_header_that_must_be_understood_is_refused(client: FlaskClient,
                                                     holder: Holder) -> None:
    security = ('<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
                'oasis-200401-wss-wssecurity-secext-1.0.xsd" s:mustUnderstand="1"/>')
    response = post(client, envelope(solde_request(holder.numero, holder.code),
                                     header=security))
    assert response.status_code == 500
    assert b"soap:MustUnderstand" in response.data
    ignorable = '<x:Trace xmlns:x="urn:trace">1</x:Trace>'
    assert post(client, envelope(solde_request(holder.numero, holder.code),
                                 header=ignorable)).status_code == 200


def test_other_content_types_are_refused(client: FlaskClient) -> None:
    response = client.post("/telepoints/ws", data=b"{}", content_type="application/json")
    assert response.status_code == 415
    assert fault_code(response.data) == "REQUETE_INVALIDE"


def test_an_unexpected_error_leaks_nothing(client: FlaskClient, holder: Holder,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(request: Any, lock: Any) -> Any:
        raise RuntimeError("SELECT secret FROM confidential_code -- Traceback")

    monkeypatch.setitem(operations.HANDLERS, "ConsulterSolde", broken)
    response = post(client, envelope(solde_request(holder.numero, holder.code)))
    assert response.status_code == 500
    assert fault_code(response.data) == "SERVICE_INDISPONIBLE"
    assert b"SELECT" not in response.data and b"Traceback" not in response.data


def test_the_parser_is_configured_defensively() -> None:
    from lxml import etree

    from telepoints_compat.soap.envelope import PARSER_OPTIONS

    assert etree.LXML_VERSION >= (6, 1)
    assert PARSER_OPTIONS["resolve_entities"] is False
    assert PARSER_OPTIONS["no_network"] is True
    assert PARSER_OPTIONS["load_dtd"] is False
    assert PARSER_OPTIONS["huge_tree"] is False


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(str.encode),
                 st.builds(lambda inner: envelope(inner), st.text(max_size=200))))
def test_any_bytes_give_a_request_or_a_contract_error(body: bytes) -> None:
    from telepoints_compat.soap import envelope as soap_envelope

    for version in (soap_envelope.SOAP11, soap_envelope.SOAP12):
        with contextlib.suppress(soap_envelope.EnvelopeError):
            soap_envelope.parse(body, version)
