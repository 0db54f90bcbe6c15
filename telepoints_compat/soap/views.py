"""`/telepoints/ws`: GET ?wsdl serves the contract, POST answers SOAP 1.1 and 1.2.

The order of the POST pipeline is the point: content type, size (413 before reading more than
the limit), closing date, hardened parse, dispatch on the body element (a SOAPAction that names
another operation is refused), XSD validation of that element, the rate limit of the client
address (refused messages count too) read with the file's lock state in one round trip, and
only then the operation, in one transaction that this view commits. Whatever goes wrong
becomes a fault with an `ErreurTelepoints` detail; nothing else leaks (no trace, no SQL).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

from flask import Blueprint, Response, g, request
from lxml import etree
from werkzeug.http import parse_options_header

from modern.db import db
from modern.licences.record import normalise_numero
from modern.metrics import LEGACY_REQUESTS
from modern.prepared import one_connection
from modern.throttling import Admission, StoreUnavailable, client_address, throttling
from telepoints_compat.context import Compat, compat
from telepoints_compat.errors import TelepointsError
from telepoints_compat.soap import envelope
from telepoints_compat.soap.contract import TNS, Contract
from telepoints_compat.soap.envelope import (
    SOAP11,
    EnvelopeError,
    MigrationNotice,
    SoapVersion,
    TooLarge,
)
from telepoints_compat.soap.operations import CHECK_A_CODE, HANDLERS

log = logging.getLogger("telepoints.soap")
blueprint = Blueprint("telepoints_soap", __name__)
RATE_SCOPE = "telepoints"


@functools.cache
def contract() -> Contract:
    """The contract, read and compiled once, on first use."""
    return Contract()


@functools.lru_cache(maxsize=8)
def _migration_notice(message: str, url: str, last_day: dt.date) -> MigrationNotice:
    """One instance per notice: the answer's frame is cached by it (`envelope._frame`), and
    the same instance is found at once, without comparing fields."""
    return MigrationNotice(message, url, last_day)


def _notice(context: Compat | None = None) -> MigrationNotice:
    notice = (context or compat()).notice
    return _migration_notice(notice.message, notice.url, notice.last_day)


@functools.lru_cache(maxsize=256)
def _counter(operation: str, outcome: str) -> Any:
    """The legacy request counter of this operation and outcome. Cached: `labels()` checks
    and looks its labels up under a lock on every call (the Prometheus client documents
    keeping the child it returns)."""
    return LEGACY_REQUESTS.labels("soap", operation, outcome)


def _fault(version: SoapVersion, error: TelepointsError, status: int | None = None) -> Response:
    _counter(g.get("soap_operation", "-"), error.code).inc()
    response = Response(envelope.fault(version, _notice(), error),
                        status=status or envelope.http_status(version, error),
                        content_type=version.content_type)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@blueprint.get("/telepoints/ws")
def wsdl() -> Response:
    if "wsdl" not in {key.lower() for key in request.args}:
        return Response("Service Télépoints (SOAP) : la description du service est à "
                        "l'adresse ?wsdl.\n", content_type="text/plain; charset=utf-8")
    return Response(contract().wsdl_for(request.base_url), content_type="text/xml; charset=utf-8")


@functools.lru_cache(maxsize=64)
def _content_type(header: str) -> tuple[SoapVersion | None, str | None]:
    """The SOAP version and the SOAP 1.2 `action` parameter: clients send one or two
    content types, each parsed once."""
    media_type, options = parse_options_header(header)
    return envelope.VERSIONS.get(media_type.lower()), options.get("action")


def _version() -> tuple[SoapVersion | None, str | None]:
    environ = request.environ
    version, action = _content_type(environ.get("CONTENT_TYPE", ""))
    if version is SOAP11:
        soap_action = environ.get("HTTP_SOAPACTION")  # the SOAPAction header
        return version, None if soap_action is None else soap_action.strip().strip('"')
    return version, action


@blueprint.post("/telepoints/ws")
def endpoint() -> Response:
    version, action = _version()
    if version is None:
        return _fault(SOAP11, EnvelopeError("type de contenu non pris en charge"), 415)
    try:
        return _answer(version, action)
    except TelepointsError as error:
        db.session.rollback()
        return _fault(version, error, 413 if isinstance(error, TooLarge) else None)
    except StoreUnavailable:
        db.session.rollback()
        log.error("counter store unavailable: request refused")
        return _fault(version, TelepointsError("SERVICE_INDISPONIBLE"))
    except Exception:  # the last resort: logged with the request id, never shown
        db.session.rollback()
        log.exception("SOAP operation failed")
        return _fault(version, TelepointsError("SERVICE_INDISPONIBLE"))


_NUMERO_DOSSIER = f"{{{TNS}}}numeroDossier"
_TYPED_WITH_SPACES = {_NUMERO_DOSSIER, f"{{{TNS}}}codeConfidentiel"}


def _normalise_identifiers(payload: etree._Element) -> None:
    """File numbers and codes are typed as printed, spaces included (contract section 1):
    the spaces go before validation, so that the pattern judges the identifier itself."""
    for child in payload:
        if child.tag in _TYPED_WITH_SPACES and child.text:
            child.text = "".join(child.text.split())


def _read(body: bytes, version: SoapVersion, action: str | None) -> tuple[str, etree._Element]:
    """The operation and its validated request element, or EnvelopeError."""
    parsed = envelope.parse(body, version)
    operation = contract().by_request.get(parsed.payload.tag)
    if operation is None:
        raise EnvelopeError("opération inconnue")
    if action and action != operation.action:
        raise EnvelopeError("SOAPAction contredit l'élément du Body")
    g.soap_operation = operation.name
    _normalise_identifiers(parsed.payload)
    if not contract().validator().validate(parsed.payload):
        raise EnvelopeError(f"{operation.name} non conforme au schéma")
    return operation.name, parsed.payload


def _admit(numero: str | None) -> Admission:
    """Counts the request against the client's rate limit (and reads the file's lock state
    in the same round trip); refuses it past the limit."""
    admission = throttling().admit(RATE_SCOPE, client_address(), numero)
    if not admission.rate.allowed:
        raise TelepointsError("TROP_DE_REQUETES", retry_after=admission.rate.retry_after)
    return admission


def _answer(version: SoapVersion, action: str | None) -> Response:
    length = request.content_length
    if length is not None and length > envelope.MAX_BODY:
        raise TooLarge()
    body = request.stream.read(envelope.MAX_BODY + 1)
    if len(body) > envelope.MAX_BODY:
        raise TooLarge()
    context = compat()
    if context.notice.closed(context.clock()):
        raise TelepointsError("SERVICE_CLOS")
    # Parsing comes before the rate limit (it is bounded: 64 KiB, no DTD, limited depth), so
    # that one round trip to the counters both counts the request and reads the file's lock.
    try:
        name, payload = _read(body, version, action)
    except EnvelopeError:
        _admit(None)  # a refused message counts against the limit too
        raise
    numero = None
    if name in CHECK_A_CODE:
        numero = normalise_numero(next(
            (child.text or "" for child in payload if child.tag == _NUMERO_DOSSIER), ""))
    # The counters and the code read share one database connection (one checkout).
    with one_connection(db.engine):
        admission = _admit(numero)
        result = HANDLERS[name](payload, admission.lock)
    if db.session.registry.has():  # the operation wrote (a new code, a code re-hashed)
        db.session.commit()
    _counter(name, "OK").inc()
    return Response(envelope.response(version, _notice(context), result),
                    content_type=version.content_type)
