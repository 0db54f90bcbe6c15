"""Requests as real toolkits write them: strict about meaning, lenient about form.

Each case is what a legacy client stack sends (PHP with `compression`, Perl SOAP::Lite's
autotype, hand-written clients' SOAPActions, Latin-1 bodies); each must get the holder's
balance, and each has a near neighbour that changes the meaning and is still refused.
"""

from __future__ import annotations

import gzip
import zlib

import pytest
from flask.testing import FlaskClient
from lxml import etree

from tests.compat.conftest import BIRTH, TNS, Holder, envelope, fault_code, post, solde_request

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"


def _solde(data: bytes) -> str | None:
    return etree.fromstring(data).findtext(f".//{{{TNS}}}solde")


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "raw deflate"])
def test_a_compressed_body_is_read(client: FlaskClient, holder: Holder, coding: str) -> None:
    body = envelope(solde_request(holder.numero, holder.code))
    if coding == "deflate":
        compressed = zlib.compress(body)  # PHP's gzcompress: the zlib format of RFC 9110
    elif coding == "raw deflate":
        raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        compressed, coding = raw.compress(body) + raw.flush(), "deflate"
    else:
        compressed = gzip.compress(body)
    response = post(client, compressed, headers={"Content-Encoding": coding})
    assert response.status_code == 200, response.data
    assert _solde(response.data) == "11"


def test_compressed_bodies_that_are_not_right_are_refused(client: FlaskClient,
                                                         holder: Holder) -> None:
    body = envelope(solde_request(holder.numero, holder.code))
    bomb = gzip.compress(body.replace(b"</s:Body>", b" " * (1024 * 1024) + b"</s:Body>"))
    assert len(bomb) < 64 * 1024
    response = post(client, bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert fault_code(response.data) == "REQUETE_INVALIDE"
    for headers, data in (({"Content-Encoding": "gzip"}, body),  # says gzip, is not
                          ({"Content-Encoding": "gzip"}, gzip.compress(body)[:-9]),  # cut
                          ({"Content-Encoding": "br"}, body)):
        response = post(client, data, headers=headers)
        assert response.status_code == 500, headers
        assert fault_code(response.data) == "REQUETE_INVALIDE", headers


def test_soap_lite_autotype_and_encoding_style_are_ignored(client: FlaskClient,
                                                           holder: Holder) -> None:
    # What SOAP::Lite's default mode writes: xsi:type on every element, encodingStyle on the
    # envelope and the method, fields left unqualified under a qualified method.
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP11_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><soap:Body>'
        f'<namesp1:ConsulterSolde xmlns:namesp1="{TNS}" '
        'soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
        f'<numeroDossier xsi:type="xsd:string">{holder.numero}</numeroDossier>'
        f'<codeConfidentiel xsi:type="xsd:string">{holder.code}</codeConfidentiel>'
        "</namesp1:ConsulterSolde></soap:Body></soap:Envelope>").encode()
    response = post(client, body, action=f"{TNS}#ConsulterSolde")
    assert response.status_code == 200, response.data
    assert _solde(response.data) == "11"
    # The content is still judged: a type annotation does not make a wrong value right.
    wrong = body.replace(holder.code.encode(), b"12")
    assert fault_code(post(client, wrong).data) == "REQUETE_INVALIDE"
    unknown = body.replace(b"<numeroDossier", b"<dossier").replace(b"</numeroDossier>",
                                                                     b"</dossier>")
    assert fault_code(post(client, unknown).data) == "REQUETE_INVALIDE"


def test_whitespace_is_collapsed_where_the_xsd_type_collapses_it(
        client: FlaskClient, holder: Holder) -> None:
    request = (f"<tp:DemanderCodeConfidentiel><tp:numeroDossier> {holder.numero} "
               f"</tp:numeroDossier><tp:dateNaissance>\n {BIRTH.isoformat()}\t"
               "</tp:dateNaissance></tp:DemanderCodeConfidentiel>")
    response = post(client, envelope(request))
    assert response.status_code == 200, response.data
    assert etree.fromstring(response.data).findtext(f".//{{{TNS}}}demandeEnregistree") == "true"
    # A space inside a date is not whitespace around it: still refused.
    inside = request.replace(BIRTH.isoformat(), BIRTH.isoformat().replace("-", " -", 1))
    assert fault_code(post(client, envelope(inside)).data) == "REQUETE_INVALIDE"


@pytest.mark.parametrize("action", [
    "ConsulterSolde", TNS, f" {TNS}#ConsulterSolde ", f"{TNS} # ConsulterSolde",
    "http://example.org/legacy/ConsulterSolde", "", "anything"])
def test_a_soapaction_that_names_no_other_operation_is_accepted(
        client: FlaskClient, holder: Holder, action: str) -> None:
    body = envelope(solde_request(holder.numero, holder.code))
    for version in ("1.1", "1.2"):
        if version == "1.2":
            body = envelope(solde_request(holder.numero, holder.code), "1.2")
        response = post(client, body, version, action=action)
        assert response.status_code == 200, (version, action, response.data)


@pytest.mark.parametrize("action", [
    "DemanderCodeConfidentiel", f"{TNS}#ConsulterReleveRestreint", "consulterreleverestreint",
    f" {TNS}#DemanderCodeConfidentiel"])
def test_a_soapaction_that_names_another_operation_is_still_refused(
        client: FlaskClient, holder: Holder, action: str) -> None:
    response = post(client, envelope(solde_request(holder.numero, holder.code)), action=action)
    assert fault_code(response.data) == "REQUETE_INVALIDE"


def test_the_http_charset_is_honoured_when_the_body_declares_none(client: FlaskClient,
                                                                 holder: Holder) -> None:
    # A header block written in Latin-1 (é is the single byte E9, not UTF-8).
    text = (f'<s:Envelope xmlns:s="{SOAP11_NS}" xmlns:tp="{TNS}"><s:Header>'
            '<x:Poste xmlns:x="urn:auto-ecole">Auto-école</x:Poste></s:Header><s:Body>'
            + solde_request(holder.numero, holder.code) + "</s:Body></s:Envelope>")
    body = text.encode("latin-1")
    latin = client.post("/telepoints/ws", data=body,
                        headers={"Content-Type": "text/xml; charset=ISO-8859-1"})
    assert latin.status_code == 200, latin.data
    # Without the charset the same bytes are not UTF-8: refused, not guessed.
    plain = client.post("/telepoints/ws", data=body, headers={"Content-Type": "text/xml"})
    assert fault_code(plain.data) == "REQUETE_INVALIDE"
    # A declaration in the body wins over the HTTP charset.
    declared = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + body
    assert client.post("/telepoints/ws", data=declared, headers={
        "Content-Type": "text/xml; charset=utf-8"}).status_code == 200


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "cp037"])
def test_a_request_in_another_encoding_is_read(client: FlaskClient, holder: Holder,
                                               encoding: str) -> None:
    names = {"utf-16": "UTF-16", "utf-16-le": "UTF-16LE", "utf-32": "UTF-32",
             "cp037": "IBM037"}
    body = envelope(solde_request(holder.numero, holder.code)).decode().replace(
        'encoding="utf-8"', f'encoding="{names[encoding]}"').encode(encoding)
    response = post(client, body)
    assert response.status_code == 200, response.data
    assert _solde(response.data) == "11"


@pytest.mark.parametrize("value", ["1", "true", " true", "true\n", " 1 "])
def test_must_understand_is_read_as_an_xs_boolean(client: FlaskClient, holder: Holder,
                                                  value: str) -> None:
    header = f'<x:Signature xmlns:x="urn:sig" s:mustUnderstand="{value}"/>'
    response = post(client, envelope(solde_request(holder.numero, holder.code), header=header))
    assert response.status_code == 500
    assert b"MustUnderstand" in response.data
    optional = header.replace(f'"{value}"', '" false "')
    assert post(client, envelope(solde_request(holder.numero, holder.code),
                                 header=optional)).status_code == 200
