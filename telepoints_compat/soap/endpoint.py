"""`POST /telepoints/ws`: the SOAP 1.1 and 1.2 endpoint, served as a plain WSGI application in
front of Flask.

Why not a Flask view: legacy clients call this one endpoint far more than any page, and
Flask's per-request machinery (request context, URL matching, hooks, response object) costs
more CPU than a whole consultation's own work (about 0.13 ms against 0.07 ms, measured in
process). What the hooks give every response is given here by the same functions: the request
id and the access line (`modern.logs`), the request metrics (`modern.metrics`), the security
headers (`modern.security_headers`) and the notice's `Deprecation`/`Sunset`/`Link`. Anything
else under /telepoints, the WSDL included, goes to Flask.

The order of the pipeline is the point: content type, size (413 before reading more than the
limit), closing date, decoding (`Content-Encoding` inflated within the same limit, the
character encoding read and the text checked for any DTD: `decoding`), hardened parse
(`envelope`), dispatch on the body element (a SOAPAction that names another operation is
refused; any other is accepted), what toolkits add taken off (`normalise`, the only lenient
step), XSD validation of that element, the rate limit of the client
address (refused messages count too) read with the file's lock state in one round trip, and
only then the operation, in one transaction committed here. Whatever goes wrong becomes a
fault with an `ErreurTelepoints` detail; nothing else leaks (no trace, no SQL).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from lxml import etree
from werkzeug.http import HTTP_STATUS_CODES, parse_options_header

from modern.db import db
from modern.licences.record import normalise_numero
from modern.logs import REQUEST_ID_HEADER, log_request, request_id_for, request_id_var
from modern.metrics import LEGACY_REQUESTS, count_request
from modern.prepared import one_connection
from modern.security_headers import security_headers
from modern.throttling import Admission, StoreUnavailable, throttling
from telepoints_compat.context import EXTENSION, Compat
from telepoints_compat.errors import TelepointsError
from telepoints_compat.legacy_traffic import SOAP, LegacyRequest, LegacyTraffic, installed
from telepoints_compat.soap import decoding, envelope
from telepoints_compat.soap.contract import TNS
from telepoints_compat.soap.envelope import SOAP11, MigrationNotice, SoapVersion
from telepoints_compat.soap.errors import MAX_BODY, EnvelopeError, TooLarge
from telepoints_compat.soap.normalise import normalise
from telepoints_compat.soap.operations import CHECK_A_CODE, HANDLERS
from telepoints_compat.soap.views import contract

log = logging.getLogger("telepoints.soap")
PATH = "/telepoints/ws"
RATE_SCOPE = "telepoints"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_REQUEST_ID_KEY = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")  # its WSGI name


@dataclass
class _Exchange:
    """One request as the pipeline knows it."""

    environ: dict[str, Any]
    context: Compat  # the layer's settings, codes and clock (read once, not through a proxy)
    traffic: LegacyTraffic | None = None  # census, brownouts, parallel run (legacy_traffic.py)
    operation: str = "-"  # the contract's operation, once the body has named one
    framing: _Framing | None = None  # what the headers say, read once

    def __post_init__(self) -> None:
        self.now = self.context.clock()  # one instant for every decision of the request

    @property
    def address(self) -> str:
        # REMOTE_ADDR as the proxy fix left it (modern.throttling.client), outside this app.
        return str(self.environ.get("REMOTE_ADDR") or "unknown")


@functools.lru_cache(maxsize=8)
def _migration_notice(message: str, url: str, last_day: Any) -> MigrationNotice:
    """One instance per notice: the answer's frame is cached by it (`envelope._frame`), and
    the same instance is found at once, without comparing fields."""
    return MigrationNotice(message, url, last_day)


def _notice(exchange: _Exchange) -> MigrationNotice:
    notice = exchange.context.notice
    message = notice.message
    if exchange.traffic is not None:  # planned outages (brownouts) are announced beforehand
        coming = exchange.traffic.announcement(exchange.now)
        message = f"{message} {coming}" if coming else message
    return _migration_notice(message, notice.url, notice.last_day)


@functools.lru_cache(maxsize=256)
def _counter(operation: str, outcome: str) -> Any:
    """The legacy request counter of this operation and outcome. Cached: `labels()` checks
    and looks its labels up under a lock on every call (the Prometheus client documents
    keeping the child it returns)."""
    return LEGACY_REQUESTS.labels("soap", operation, outcome)


@dataclass(frozen=True)
class _Framing:
    """What the HTTP headers say of the message: its SOAP version, the action it names (the
    SOAP 1.1 `SOAPAction` header or the SOAP 1.2 `action` parameter) and its `charset`."""

    version: SoapVersion | None
    action: str | None
    charset: str | None


@functools.lru_cache(maxsize=64)
def _content_type(header: str) -> tuple[SoapVersion | None, str | None, str | None]:
    """Version, `action` and `charset` of a content type: clients send one or two content
    types, each parsed once."""
    media_type, options = parse_options_header(header)
    return (envelope.VERSIONS.get(media_type.lower()), options.get("action"),
            options.get("charset"))


def _action(value: str | None) -> str | None:
    """A SOAPAction as toolkits write it: quoted or not, with spaces or not."""
    if value is None:
        return None
    return "".join(value.split()).strip('"') or None


def _framing(environ: dict[str, Any]) -> _Framing:
    version, action, charset = _content_type(environ.get("CONTENT_TYPE", ""))
    if version is SOAP11:
        action = environ.get("HTTP_SOAPACTION")  # the SOAPAction header
    return _Framing(version, _action(action), charset)


@dataclass(frozen=True)
class _Answer:
    """Status, body and the headers of this endpoint's own."""

    body: bytes
    status: int
    content_type: str
    retry_after: int | None = None
    outcome: str = "OK"  # or the contract's error code


def _fault(exchange: _Exchange, version: SoapVersion, error: TelepointsError,
           status: int | None = None) -> _Answer:
    _counter(exchange.operation, error.code).inc()
    return _Answer(envelope.fault(version, _notice(exchange), error),
                   status or envelope.http_status(version, error), version.content_type,
                   error.retry_after, error.code)


def answer(exchange: _Exchange) -> _Answer:
    """The answer to one POST: a contract answer or a contract fault, whatever happens."""
    framing = exchange.framing = _framing(exchange.environ)
    version = framing.version
    if version is None:
        return _fault(exchange, SOAP11, EnvelopeError("type de contenu non pris en charge"), 415)
    try:
        return _answer(exchange, version, framing)
    except TelepointsError as error:
        db.session.rollback()
        return _fault(exchange, version, error, 413 if isinstance(error, TooLarge) else None)
    except StoreUnavailable:
        db.session.rollback()
        log.error("counter store unavailable: request refused")
        return _fault(exchange, version, TelepointsError("SERVICE_INDISPONIBLE"))
    except Exception:  # the last resort: logged with the request id, never shown
        db.session.rollback()
        log.exception("SOAP operation failed")
        return _fault(exchange, version, TelepointsError("SERVICE_INDISPONIBLE"))


_NUMERO_DOSSIER = f"{{{TNS}}}numeroDossier"
_CODE = f"{{{TNS}}}codeConfidentiel"


def _read(exchange: _Exchange, body: bytes, version: SoapVersion,
          framing: _Framing) -> tuple[str, etree._Element]:
    """The operation and its validated request element, or EnvelopeError."""
    parsed = envelope.parse(body, version, framing.charset)
    the_contract = contract()
    operation = the_contract.by_request.get(parsed.payload.tag)
    if operation is None:
        raise EnvelopeError("opération inconnue")
    action = framing.action
    if action and action != operation.action \
            and the_contract.other_operation_named(action, operation):
        raise EnvelopeError("SOAPAction contredit l'élément du Body")
    exchange.operation = operation.name
    normalise(parsed.payload, operation)
    if not the_contract.validator().validate(parsed.payload):
        raise EnvelopeError(f"{operation.name} non conforme au schéma")
    return operation.name, parsed.payload


def _admit(exchange: _Exchange, numero: str | None) -> Admission:
    """Counts the request against the client's rate limit (and reads the file's lock state
    in the same round trip); refuses it past the limit."""
    admission = throttling().admit(RATE_SCOPE, exchange.address, numero)
    if not admission.rate.allowed:
        raise TelepointsError("TROP_DE_REQUETES", retry_after=admission.rate.retry_after)
    return admission


def _body(environ: dict[str, Any]) -> bytes:
    """At most MAX_BODY bytes of the request body, or TooLarge. Without a Content-Length the
    body is read only when the server marks its end (a chunked request under gunicorn), as
    werkzeug does: otherwise reading could wait for bytes that never come."""
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH")
    if declared:
        try:
            length = int(declared)
        except ValueError:
            raise EnvelopeError("Content-Length illisible") from None
        if length > MAX_BODY:
            raise TooLarge()
        return bytes(stream.read(max(length, 0)))
    if not environ.get("wsgi.input_terminated"):
        return b""
    body = bytes(stream.read(MAX_BODY + 1))
    if len(body) > MAX_BODY:
        raise TooLarge()
    return body


def _answer(exchange: _Exchange, version: SoapVersion, framing: _Framing) -> _Answer:
    body = _body(exchange.environ)
    context = exchange.context
    if context.notice.closed(exchange.now):
        raise TelepointsError("SERVICE_CLOS")
    # Parsing comes before the rate limit (it is bounded: 64 KiB, no DTD, limited depth), so
    # that one round trip to the counters both counts the request and reads the file's lock.
    try:
        body = decoding.inflate(body, exchange.environ.get("HTTP_CONTENT_ENCODING"))
        name, payload = _read(exchange, body, version, framing)
    except EnvelopeError:
        _admit(exchange, None)  # a refused message counts against the limit too
        raise
    if exchange.traffic is not None and exchange.traffic.refuse(exchange.now):
        raise TelepointsError("SERVICE_CLOS")  # a planned outage (brownout)
    numero = None
    if name in CHECK_A_CODE:
        numero = normalise_numero(next(
            (child.text or "" for child in payload if child.tag == _NUMERO_DOSSIER), ""))
    # The counters and the code read share one database connection (one checkout).
    with one_connection(db.engine):
        admission = _admit(exchange, numero)
        result = HANDLERS[name](payload, admission.lock)
    if db.session.registry.has():  # the operation wrote (a new code, a code re-hashed)
        db.session.commit()
    if numero is not None and exchange.traffic is not None:  # the parallel run, if drawn
        code = next((child.text or "" for child in payload if child.tag == _CODE), "")
        exchange.traffic.compare(name, numero, code, lambda: result if isinstance(
            result, bytes) else etree.tostring(result))
    _counter(name, "OK").inc()
    return _Answer(envelope.response(version, _notice(exchange), result), 200,
                   version.content_type)


class SoapEndpoint:
    """WSGI middleware: answers `POST /telepoints/ws`, hands every other request to `inner`."""

    def __init__(self, app: Flask, inner: WsgiApp) -> None:
        self.app, self.inner = app, inner

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.inner(environ, start_response)
        started = time.perf_counter()
        request_id = request_id_for(environ.get(_REQUEST_ID_KEY))
        token = request_id_var.set(request_id)
        try:
            with self.app.app_context():
                context: Compat = self.app.extensions[EXTENSION]
                exchange = _Exchange(environ, context, installed(self.app))
                result = answer(exchange)
                if exchange.traffic is not None:  # the client census
                    version = exchange.framing.version if exchange.framing else None
                    exchange.traffic.observe(LegacyRequest(
                        SOAP, exchange.operation, result.outcome,
                        str(environ.get("HTTP_USER_AGENT", "")), exchange.address,
                        version.name if version else None))
                headers = [("Content-Type", result.content_type),
                           ("Content-Length", str(len(result.body))),
                           (REQUEST_ID_HEADER, request_id),
                           *security_headers(self.app),
                           *context.notice.headers]
                if result.retry_after is not None:
                    headers.append(("Retry-After", str(result.retry_after)))
                count_request(PATH, "POST", result.status, started)
                log_request("POST", PATH, result.status, started)
        finally:
            request_id_var.reset(token)
        # The status line as werkzeug (Flask) writes it.
        start_response(f"{result.status} {HTTP_STATUS_CODES[result.status].upper()}", headers)
        return [result.body]
