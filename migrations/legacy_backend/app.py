"""The legacy backend's web service: the contract's WSDL and its three operations.

The XML is read with a parser that loads no DTD, resolves no entity and reaches no network.
Codes are checked as the legacy system did: upper-cased, against the SHA-1 (salted) or MD5
fingerprint; failures are counted and lock the account for a while; a closed or suspended
account opens with no code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from flask import Flask, Response, request
from lxml import etree
from lxml.builder import ElementMaker
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from migrations.legacy_backend.store import accounts, engine_for, licences
from modern.licences.record import decode_record, normalise_numero
from telepoints_compat.soap.contract import WSDL_PATH

TNS = "urn:fr:interieur:telepoints:v1"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
LOCK_AFTER = 5
LOCK_MINUTES = 30
MAX_BODY = 64 * 1024
tp = ElementMaker(namespace=TNS, nsmap={"tp": TNS})
soap = ElementMaker(namespace=SOAP11, nsmap={"soap": SOAP11})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_comments=True)


class Refusal(Exception):
    def __init__(self, code: str, message: str, until: dt.datetime | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.until = until


def create_legacy_app(database: str) -> Flask:
    app = Flask("legacy_telepoints")
    engine = engine_for(database)
    app.config["LEGACY_ENGINE"] = engine

    @app.get("/telepoints/ws")
    def wsdl() -> Response:
        address = request.host_url.rstrip("/") + "/telepoints/ws"
        body = WSDL_PATH.read_bytes().replace(
            b'location="http://localhost/telepoints/ws"', f'location="{address}"'.encode())
        return Response(body, mimetype="text/xml")

    @app.post("/telepoints/ws")
    def endpoint() -> Response:
        data = request.get_data(cache=False)
        if len(data) > MAX_BODY or b"<!DOCTYPE" in data:
            return _fault("REQUETE_INVALIDE", "Requête invalide.", status=400)
        try:
            root = etree.fromstring(data, _PARSER)
            body = root.find(f"{{{SOAP11}}}Body")
            operation = body[0] if body is not None and len(body) else None
        except etree.XMLSyntaxError:
            operation = None
        if operation is None:
            return _fault("REQUETE_INVALIDE", "Requête invalide.", status=400)
        name = etree.QName(operation).localname
        try:
            if name == "ConsulterSolde":
                answer = _solde(engine, operation)
            elif name == "ConsulterReleveRestreint":
                answer = _releve(engine, operation)
            elif name == "DemanderCodeConfidentiel":
                answer = tp.DemanderCodeConfidentielReponse(
                    tp.demandeEnregistree("true"),
                    tp.message("Si ce dossier existe, un nouveau code sera envoyé."))
            else:
                return _fault("REQUETE_INVALIDE", "Opération inconnue.", status=400)
        except Refusal as refusal:
            return _fault(refusal.code, refusal.message, refusal.until)
        envelope = soap.Envelope(soap.Body(answer))
        return Response(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
                        mimetype="text/xml")

    return app


def _fault(code: str, message: str, until: dt.datetime | None = None,
           status: int = 500) -> Response:
    detail = tp.ErreurTelepoints(tp.code(code), tp.message(message))
    if until is not None:
        detail.append(tp.dateDeblocage(until.strftime("%Y-%m-%dT%H:%M:%SZ")))
    envelope = soap.Envelope(soap.Body(soap.Fault(
        etree.Element("faultcode"), etree.Element("faultstring"), etree.Element("detail"))))
    fault = envelope[0][0]
    fault[0].text = "soap:Client" if status == 400 or code != "SERVICE_INDISPONIBLE" \
        else "soap:Server"
    fault[1].text = message
    fault[2].append(detail)
    return Response(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
                    status=status, mimetype="text/xml")


def _field(element: etree._Element, name: str) -> str:
    return (element.findtext(f"{{{TNS}}}{name}") or "").strip()


def _matches(empreinte: str, code: str) -> bool:
    scheme, salt, inner = empreinte.split(":", 2)
    if scheme == "legacy-sha1":
        computed = hashlib.sha1(bytes.fromhex(salt) + code.encode(),
                                usedforsecurity=False).hexdigest()
    else:
        computed = hashlib.md5(code.encode(), usedforsecurity=False).hexdigest()
    return hmac.compare_digest(computed, inner)


def _authenticate(engine: Engine, operation: etree._Element) -> str:
    numero = normalise_numero(_field(operation, "numeroDossier"))
    code = _field(operation, "codeConfidentiel").upper()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        row = connection.execute(select(accounts).where(accounts.c.numero == numero)).first()
        if row is None or row.statut != "ACTIF":
            raise Refusal("IDENTIFIANTS_INVALIDES", "Identifiants invalides.")
        if row.bloque_jusqu_au is not None and row.bloque_jusqu_au > now:
            raise Refusal("COMPTE_BLOQUE", "Compte bloqué.",
                          row.bloque_jusqu_au.replace(tzinfo=dt.UTC))
        matched = _matches(row.empreinte, code)
        if not matched:  # counted, and committed: the refusal below must not undo it
            failures = row.echecs + 1
            until = now + dt.timedelta(minutes=LOCK_MINUTES) if failures >= LOCK_AFTER else None
            connection.execute(update(accounts).where(accounts.c.numero == numero).values(
                echecs=failures, bloque_jusqu_au=until))
        elif row.valide_jusqu_au is None or row.valide_jusqu_au > now:
            connection.execute(update(accounts).where(accounts.c.numero == numero).values(
                echecs=0, bloque_jusqu_au=None))
    if not matched:
        raise Refusal("IDENTIFIANTS_INVALIDES", "Identifiants invalides.")
    if row.valide_jusqu_au is not None and row.valide_jusqu_au <= now:
        raise Refusal("CODE_EXPIRE", "Code expiré.")
    return numero


def _record(engine: Engine, numero: str):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        document = connection.scalar(select(licences.c.document).where(
            licences.c.numero == numero))
    if document is None:
        raise Refusal("SERVICE_INDISPONIBLE", "Relevé indisponible.")
    return decode_record(document)


def _solde(engine: Engine, operation: etree._Element) -> etree._Element:
    numero = _authenticate(engine, operation)
    record = _record(engine, numero)
    probatoire = record.probatoire is not None
    return tp.ConsulterSoldeReponse(
        tp.numeroDossier(numero), tp.solde(str(record.solde)), tp.etatPermis(record.etat_permis),
        tp.probatoire("true" if probatoire else "false"),
        tp.dateMiseAJour(record.date_mise_a_jour.astimezone(dt.UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ")))


def _releve(engine: Engine, operation: etree._Element) -> etree._Element:
    numero = _authenticate(engine, operation)
    record = _record(engine, numero)
    holder = record.titulaire
    categories = tp.categories()
    for category in record.categories:
        categories.append(tp.categorie(tp.code(category.code),
                                       tp.dateObtention(category.date_obtention.isoformat())))
    return tp.ConsulterReleveRestreintReponse(
        tp.numeroDossier(numero),
        tp.titulaire(tp.nom(holder.nom), tp.prenoms(holder.prenoms),
                     tp.dateNaissance(holder.date_naissance.isoformat())),
        tp.etatPermis(record.etat_permis),
        tp.droitsSuspendus("true" if record.etat_permis == "SUSPENDU" else "false"),
        categories,
        tp.dateEdition(dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
