"""Every operation through a zeep client built from the shared contract file, over SOAP 1.1
and 1.2, with answers checked against the contract's XSD."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import zeep
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from prometheus_client import REGISTRY

from adapters.messaging import REDACTED
from modern.db import db
from telepoints_compat.context import compat
from tests.compat.conftest import (
    NOW,
    NUMERO,
    SOAP11_NS,
    SOAP12_NS,
    TNS,
    Holder,
    envelope,
    fault_code,
    issue,
    load_generated,
    post,
    solde_request,
)
from tests.compat.zeep_transport import FlaskClientTransport
from tests.conftest import contract_file


@pytest.fixture(params=["1.1", "1.2"])
def service(request: pytest.FixtureRequest, soap11: Any, soap12: Any) -> Any:
    return soap11 if request.param == "1.1" else soap12


def _body_is_valid(transport: FlaskClientTransport, schema: etree.XMLSchema) -> None:
    assert transport.last_response is not None
    root = etree.fromstring(transport.last_response.content)
    body = root.find(f"{{{SOAP11_NS}}}Body")
    if body is None:
        body = root.find(f"{{{SOAP12_NS}}}Body")
    assert body is not None
    payload = body[0]
    if payload.tag.endswith("Fault"):
        # The bindings declare the AvisMigration header on outputs only: a fault has none.
        assert root.find(f".//{{{TNS}}}AvisMigration") is None
        schema.assertValid(next(payload.iter(f"{{{TNS}}}ErreurTelepoints")))
        return
    schema.assertValid(payload)
    header = root[0]
    schema.assertValid(header.find(f"{{{TNS}}}AvisMigration"))


def test_consulter_solde(service: Any, holder: Holder, transport: FlaskClientTransport,
                         contract_schema: etree.XMLSchema) -> None:
    answer = service.ConsulterSolde(numeroDossier=holder.numero, codeConfidentiel=holder.code)
    assert answer.body.numeroDossier == NUMERO
    assert answer.body.solde == 11  # as the registry delivered it
    assert answer.body.etatPermis == "VALIDE"
    assert answer.body.probatoire is False
    assert answer.body.dateMiseAJour == dt.datetime(2026, 11, 17, 3, 0, tzinfo=dt.UTC)
    assert answer.header.avis.dateFinService == dt.date(2027, 6, 30)
    assert answer.header.avis.urlNouveauService == "http://127.0.0.1:8000/"
    _body_is_valid(transport, contract_schema)


def test_file_number_as_printed_and_code_in_lower_case(service: Any, holder: Holder) -> None:
    answer = service.ConsulterSolde(numeroDossier=holder.numero,
                                    codeConfidentiel=holder.code.lower())
    assert answer.body.numeroDossier == NUMERO


def test_spaces_typed_in_the_file_number_are_ignored(client: FlaskClient, holder: Holder) -> None:
    spaced = " ".join([NUMERO[:2], NUMERO[2:6], NUMERO[6:]])
    response = post(client, envelope(solde_request(spaced, holder.code)))
    assert response.status_code == 200, response.data


def test_consulter_releve_restreint(service: Any, holder: Holder, transport: FlaskClientTransport,
                                    contract_schema: etree.XMLSchema) -> None:
    answer = service.ConsulterReleveRestreint(numeroDossier=holder.numero,
                                              codeConfidentiel=holder.code).body
    assert answer.titulaire.nom == "BERNARD"
    assert answer.titulaire.dateNaissance == dt.date(1957, 2, 18)
    assert [c.code for c in answer.categories.categorie] == ["B", "A2"]
    assert answer.droitsSuspendus is False
    assert answer.dateEdition == NOW.replace(microsecond=0)
    _body_is_valid(transport, contract_schema)


def test_releve_of_a_suspended_licence(app: Flask, service: Any) -> None:
    [record] = load_generated(app, "suspendu")
    code = issue(app, record["numeroDossier"])
    answer = service.ConsulterReleveRestreint(numeroDossier=record["numeroDossier"],
                                              codeConfidentiel=code).body
    [suspension] = record["suspensions"]
    assert answer.etatPermis == "SUSPENDU"
    assert answer.droitsSuspendus is True
    assert answer.suspension.dateDebut.isoformat() == suspension["dateDebut"]
    assert answer.suspension.dateFin.isoformat() == suspension["dateFin"]


def test_demander_code_confidentiel_sends_an_sms(app: Flask, service: Any, holder: Holder,
                                                 transport: FlaskClientTransport,
                                                 contract_schema: etree.XMLSchema) -> None:
    answer = service.DemanderCodeConfidentiel(numeroDossier=holder.numero,
                                              dateNaissance=holder.birth).body
    assert answer.demandeEnregistree is True
    _body_is_valid(transport, contract_schema)
    app.extensions["after_answer"].drain()  # the code is sent after the answer
    with app.app_context():
        outbox = app.extensions["outbox"]
        [sms] = outbox.entries()
        assert sms.channel == "sms" and sms.recipient == "+33639980001"
        assert REDACTED in sms.body
        [revealed] = outbox.entries(reveal=True)
    new_code = revealed.body.split(" est ")[1].split(".")[0]
    # The new code works, and from its first use the old one no longer does.
    service.ConsulterSolde(numeroDossier=holder.numero, codeConfidentiel=holder.code)
    service.ConsulterSolde(numeroDossier=holder.numero, codeConfidentiel=new_code)
    with pytest.raises(zeep.exceptions.Fault):
        service.ConsulterSolde(numeroDossier=holder.numero, codeConfidentiel=holder.code)


def test_demander_code_confidentiel_sends_a_letter_without_mobile(
        app: Flask, service: Any, holder: Holder) -> None:
    with app.app_context():
        from telepoints_compat.contacts.services import save_contact
        save_contact(db.session, NUMERO, mobile=None, address="3 rue Haute\n69001 Lyon",
                     source="demo", now=NOW)
        db.session.commit()
    service.DemanderCodeConfidentiel(numeroDossier=holder.numero, dateNaissance=holder.birth)
    app.extensions["after_answer"].drain()
    with app.app_context():
        [letter] = app.extensions["outbox"].entries()
    assert letter.channel == "letter"
    assert letter.recipient == "Hélène BERNARD\n3 rue Haute\n69001 Lyon"


@pytest.mark.parametrize(("numero", "birth"), [
    (NUMERO, dt.date(1960, 1, 1)),  # the birth date does not match
    ("990000000000", dt.date(1957, 2, 18)),  # no such file
])
def test_demander_code_confidentiel_says_the_same_whatever_the_file(
        app: Flask, client: FlaskClient, holder: Holder, numero: str, birth: dt.date) -> None:
    def ask(numero: str, birth: dt.date) -> bytes:
        body = (f"<tp:DemanderCodeConfidentiel><tp:numeroDossier>{numero}</tp:numeroDossier>"
                f"<tp:dateNaissance>{birth.isoformat()}</tp:dateNaissance>"
                "</tp:DemanderCodeConfidentiel>")
        response = post(client, envelope(body))
        assert response.status_code == 200
        return bytes(response.data)

    assert ask(numero, birth) == ask(NUMERO, holder.birth)
    app.extensions["after_answer"].drain()
    with app.app_context():
        assert len(app.extensions["outbox"].entries()) == 1  # only the matching request


def test_requests_for_new_codes_are_capped_per_file(app: Flask, service: Any,
                                                   holder: Holder) -> None:
    limit = compat_limit(app)
    for _ in range(limit + 2):
        service.DemanderCodeConfidentiel(numeroDossier=holder.numero, dateNaissance=holder.birth)
    app.extensions["after_answer"].drain()
    with app.app_context():
        assert len(app.extensions["outbox"].entries(limit=100)) == limit


def compat_limit(app: Flask) -> int:
    with app.app_context():
        return compat().settings.code_requests_per_day


def test_wrong_code_is_a_fault_with_the_contract_detail(service: Any, holder: Holder,
                                                       transport: FlaskClientTransport,
                                                       contract_schema: etree.XMLSchema) -> None:
    with pytest.raises(zeep.exceptions.Fault) as fault:
        service.ConsulterSolde(numeroDossier=holder.numero, codeConfidentiel="ZZZZZZZZZZ")
    assert fault.value.code in ("soap:Client", "soap:Sender")
    assert fault_code(transport.last_response.content) == "IDENTIFIANTS_INVALIDES"
    _body_is_valid(transport, contract_schema)


def test_expired_code(app: Flask, service: Any, holder: Holder,
                      transport: FlaskClientTransport) -> None:
    code = issue(app, NUMERO, valid_days=30)
    with app.app_context():
        compat().clock.fixed = NOW + dt.timedelta(days=31)
    with pytest.raises(zeep.exceptions.Fault):
        service.ConsulterSolde(numeroDossier=NUMERO, codeConfidentiel=code)
    assert fault_code(transport.last_response.content) == "CODE_EXPIRE"
    with app.app_context():
        compat().clock.fixed = NOW + dt.timedelta(days=29)
    assert service.ConsulterSolde(numeroDossier=NUMERO, codeConfidentiel=code).body.solde == 11


def test_every_answer_carries_the_deprecation_headers(client: FlaskClient,
                                                      holder: Holder) -> None:
    for response in (client.get("/telepoints/ws?wsdl"),
                     post(client, envelope(solde_request(NUMERO, holder.code))),
                     post(client, b"garbage"),
                     client.get("/telepoints"),
                     client.get("/telepoints/nowhere")):
        assert response.headers["Deprecation"] == "@1788213600"  # 2026-09-01 00:00 Paris
        assert response.headers["Sunset"] == "Wed, 30 Jun 2027 22:00:00 GMT"
        assert 'rel="deprecation"' in response.headers["Link"]
    assert "Deprecation" not in client.get("/healthz").headers


def test_a_soap_answer_carries_what_every_response_carries(
        client: FlaskClient, holder: Holder, caplog: pytest.LogCaptureFixture) -> None:
    """The SOAP endpoint is served in front of Flask: it still gets the request id, the
    security headers, its access line and its request metric."""
    def served(status: str) -> float:
        return REGISTRY.get_sample_value("http_requests_total", {
            "route": "/telepoints/ws", "method": "POST", "status": status}) or 0.0

    before_ok, before_fault = served("200"), served("500")
    caplog.set_level("INFO", logger="access")
    answer = post(client, envelope(solde_request(NUMERO, holder.code)),
                  headers={"X-Request-Id": "proxy-req-0042"})
    fault = post(client, b"garbage", headers={"X-Request-Id": "<script>"})
    assert answer.status_code == 200 and fault.status_code == 500
    assert answer.headers["X-Request-Id"] == "proxy-req-0042"
    assert fault.headers["X-Request-Id"] not in ("", "<script>")  # a new one instead
    for response in (answer, fault):
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert response.headers["Content-Length"] == str(len(response.data))
    lines = [record for record in caplog.records if record.name == "access"]
    assert [(line.route, line.status, line.request_id) for line in lines[-2:]] == [
        ("/telepoints/ws", 200, "proxy-req-0042"),
        ("/telepoints/ws", 500, fault.headers["X-Request-Id"])]
    assert (served("200"), served("500")) == (before_ok + 1, before_fault + 1)


def test_other_methods_and_the_wsdl_still_go_through_flask(client: FlaskClient) -> None:
    assert client.get("/telepoints/ws?wsdl").status_code == 200
    refused = client.put("/telepoints/ws", data=b"<x/>")
    assert refused.status_code == 405 and "X-Request-Id" in refused.headers


def test_the_served_wsdl_is_the_contract_with_our_address(client: FlaskClient) -> None:
    served = client.get("/telepoints/ws?wsdl", base_url="https://points.example.fr")
    assert served.headers["Content-Type"] == "text/xml; charset=utf-8"
    original = contract_file("telepoints-v1.wsdl").read_bytes()
    expected = original.replace(b'location="http://localhost/telepoints/ws"',
                                b'location="https://points.example.fr/telepoints/ws"')
    assert served.data == expected


def test_a_client_built_from_the_served_wsdl_works(client: FlaskClient, holder: Holder) -> None:
    transport = FlaskClientTransport(client)
    service = zeep.Client("http://localhost/telepoints/ws?wsdl", transport=transport).service
    assert service.ConsulterSolde(numeroDossier=NUMERO, codeConfidentiel=holder.code).body.solde \
        == 11


@pytest.mark.parametrize("settings_overrides", [
    {"telepoints_deprecation_date": dt.date(2026, 1, 1),
     "telepoints_sunset_date": dt.date(2026, 11, 25)}])
def test_after_the_closing_date_everything_answers_service_clos(
        app: Flask, client: FlaskClient, soap11: Any, soap12: Any, holder: Holder,
        transport: FlaskClientTransport) -> None:
    for service in (soap11, soap12):
        for call in (lambda s: s.ConsulterSolde(numeroDossier=NUMERO, codeConfidentiel=holder.code),
                     lambda s: s.ConsulterReleveRestreint(numeroDossier=NUMERO,
                                                          codeConfidentiel=holder.code),
                     lambda s: s.DemanderCodeConfidentiel(numeroDossier=NUMERO,
                                                          dateNaissance=holder.birth)):
            with pytest.raises(zeep.exceptions.Fault):
                call(service)
            assert fault_code(transport.last_response.content) == "SERVICE_CLOS"
            assert transport.last_response.status_code == 500
    page = client.get("/telepoints")
    assert page.status_code == 410
    assert "Le service Télépoints est fermé" in page.get_data(as_text=True)
    with app.app_context():
        compat().clock.fixed = dt.datetime(2026, 11, 25, 22, 59, tzinfo=dt.UTC)  # 23:59 Paris
    assert client.get("/telepoints").status_code == 200
