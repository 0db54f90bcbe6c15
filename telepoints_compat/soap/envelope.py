"""SOAP envelopes: reading requests safely, writing answers and faults (SOAP 1.1 and 1.2).

Reading is hardened (OWASP XML Security, checklist X1 to X3) and is the second step of one
pipeline: `decoding` has inflated the body within `MAX_BODY` bytes and turned it into UTF-8
with no markup declaration (DTD, entity) in it, whatever its encoding; the parser here is
forced to UTF-8, expands no entity, fetches nothing from the network, keeps libxml2's own
limits (`huge_tree=False`), and a resolver refuses every load libxml2 would still attempt
(file, URL, entity: defence in depth behind the decoding step). The tree is at most
`MAX_DEPTH` deep and `MAX_ELEMENTS` large.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from dataclasses import dataclass
from typing import Any

from lxml import etree
from lxml.builder import ElementMaker

from telepoints_compat.errors import TelepointsError
from telepoints_compat.soap import decoding
from telepoints_compat.soap.contract import TNS
from telepoints_compat.soap.errors import EnvelopeError

MAX_DEPTH = 16  # the contract's deepest request is Envelope/Body/operation/field: 4
MAX_ELEMENTS = 500
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# Two instances only, compared by identity (`eq=False`): hashing one, as the caches keyed by
# version do on every answer, is then the interpreter's own, not a hash of five fields.
@dataclass(frozen=True, eq=False)
class SoapVersion:
    name: str
    namespace: str
    media_type: str
    client_code: str  # fault code for "the client must change something"
    server_code: str

    # Made once, not on every message.
    @functools.cached_property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"

    @functools.cached_property
    def envelope_tag(self) -> str:
        return f"{{{self.namespace}}}Envelope"

    @functools.cached_property
    def header_tag(self) -> str:
        return f"{{{self.namespace}}}Header"

    @functools.cached_property
    def body_tag(self) -> str:
        return f"{{{self.namespace}}}Body"


SOAP11 = SoapVersion("1.1", SOAP11_NS, "text/xml", "Client", "Server")
SOAP12 = SoapVersion("1.2", SOAP12_NS, "application/soap+xml", "Sender", "Receiver")
VERSIONS = {SOAP11.media_type: SOAP11, SOAP12.media_type: SOAP12}
_ENVELOPE_TAGS = frozenset(version.envelope_tag for version in VERSIONS.values())


@dataclass(frozen=True)
class Request:
    version: SoapVersion
    payload: etree._Element  # the single element of the Body


# Checklist X2: lxml 6.1 or later (libxml2 with its entity-amplification and depth limits).
if etree.LXML_VERSION < (6, 1):
    raise ImportError(f"lxml 6.1 or later is required, found {etree.__version__}")
PARSER_OPTIONS = {
    "resolve_entities": False, "no_network": True, "load_dtd": False, "dtd_validation": False,
    "huge_tree": False, "remove_comments": True, "remove_pis": True, "collect_ids": False,
}
_local = threading.local()


class LoadRefused(Exception):
    """libxml2 asked to load something (a DTD, an entity, any URL or file)."""


class _RefuseEveryLoad(etree.Resolver):
    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        raise LoadRefused()


def _parser() -> etree.XMLParser:
    """One parser per thread (lxml parsers are not shared between threads), forced to UTF-8:
    `decoding` hands it nothing else."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(encoding="utf-8", **PARSER_OPTIONS)
        parser.resolvers.add(_RefuseEveryLoad())
        _local.parser = parser
    return parser


def parse(body: bytes, version: SoapVersion, charset: str | None = None) -> Request:
    """The SOAP request in `body` (already inflated), read in its encoding: the one it
    declares, else the HTTP `charset`, else UTF-8."""
    if not body.strip():
        raise EnvelopeError("corps de requête vide")
    document = decoding.to_utf8(body, charset)
    try:
        root = etree.fromstring(document, _parser())
    except LoadRefused:
        raise EnvelopeError("DTD interdite") from None
    except (etree.XMLSyntaxError, ValueError):
        raise EnvelopeError("XML mal formé") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise EnvelopeError("DTD interdite")
    _check_size(root)
    tag = root.tag  # (lxml makes a new string at each reading of `.tag`)
    if tag != version.envelope_tag:
        if tag in _ENVELOPE_TAGS:
            raise EnvelopeError("version de SOAP différente de celle du type de contenu",
                                soap_code="VersionMismatch")
        raise EnvelopeError("l'élément racine n'est pas une enveloppe SOAP")
    children = list(root.iterchildren(etree.Element))  # elements only, chosen by lxml
    header = body_element = None
    if children and children[0].tag == version.header_tag:
        header = children.pop(0)
    if len(children) != 1 or children[0].tag != version.body_tag:
        raise EnvelopeError("l'enveloppe doit contenir un seul Body")
    body_element = children[0]
    if header is not None:
        _check_headers(header, version)
    payload = list(body_element.iterchildren(etree.Element))
    if len(payload) != 1 or (body_element.text or "").strip() \
            or any((child.tail or "").strip() for child in payload):
        raise EnvelopeError("le Body doit contenir un seul élément")
    return Request(version, payload[0])


def _check_size(root: etree._Element) -> None:
    if sum(1 for _element in root.iter()) <= MAX_DEPTH:
        # No deeper than it has elements: a legitimate message (five or six elements) is
        # counted without walking it twice.
        return
    depth = count = 0
    for event, _element in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            depth += 1
            count += 1
            if depth > MAX_DEPTH or count > MAX_ELEMENTS:
                raise EnvelopeError("document trop profond ou trop grand")
        else:
            depth -= 1


def _check_headers(header: etree._Element, version: SoapVersion) -> None:
    """No header of this contract must be understood; one that demands it is refused (the
    contract declares no WS-Security: a signed request is refused, not half-read)."""
    attribute = f"{{{version.namespace}}}mustUnderstand"
    for block in header:
        # xs:boolean, read as the XSD reads it (whitespace collapsed): " true" is true.
        if isinstance(block.tag, str) and (block.get(attribute) or "").strip() in ("1", "true"):
            raise EnvelopeError("en-tête obligatoire non pris en charge",
                                soap_code="MustUnderstand")


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


@dataclass(frozen=True)
class MigrationNotice:
    message: str
    url: str
    last_day: dt.date | None


def _makers(version: SoapVersion) -> tuple[ElementMaker, ElementMaker]:
    soap = ElementMaker(namespace=version.namespace, nsmap={"soap": version.namespace,
                                                            "tp": TNS})
    return soap, ElementMaker(namespace=TNS, nsmap={"tp": TNS})


def _header(version: SoapVersion, notice: MigrationNotice) -> etree._Element:
    soap, tp = _makers(version)
    avis = tp.AvisMigration(tp.message(notice.message), tp.urlNouveauService(notice.url))
    if notice.last_day is not None:
        avis.append(tp.dateFinService(notice.last_day.isoformat()))
    return soap.Header(avis)


def _serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


@functools.lru_cache(maxsize=16)
def _frame(version: SoapVersion, notice: MigrationNotice) -> tuple[bytes, bytes]:
    """The bytes of an answer before and after its body element: the same for every answer
    of one version, so built once."""
    soap, _tp = _makers(version)
    text = _serialize(soap.Envelope(_header(version, notice), soap.Body(etree.Element("_"))))
    before, after = text.split(b"<_/>")
    return before, after


def response(version: SoapVersion, notice: MigrationNotice,
             payload: etree._Element | bytes) -> bytes:
    """The answer around `payload`, the body element or its bytes already serialised."""
    before, after = _frame(version, notice)
    if not isinstance(payload, bytes):
        payload = etree.tostring(payload, encoding="utf-8")
    return before + payload + after


def fault(version: SoapVersion, notice: MigrationNotice, error: TelepointsError) -> bytes:
    """A fault whose detail is one `ErreurTelepoints`: its content depends on the error code
    (and the end of a lock) only.

    No `AvisMigration` header: the contract's bindings declare it on outputs only, and
    clients generated strictly from them (Perl SOAP::WSDL) fail on a header their fault
    message does not declare. A fault tells the new address in the HTTP `Link` header, and
    `SERVICE_CLOS` in its reason too."""
    soap, tp = _makers(version)
    detail = tp.ErreurTelepoints(tp.code(error.code), tp.message(error.message))
    if error.locked_until is not None:
        detail.append(tp.dateDeblocage(_iso(error.locked_until)))
    soap_code = getattr(error, "soap_code", None) or (
        version.client_code if error.client_side else version.server_code)
    detail_text = notice.url if error.code == "SERVICE_CLOS" else error.detail
    reason = error.message if detail_text is None else f"{error.message} ({detail_text})"
    prefixed = f"soap:{soap_code}"
    body: Any
    if version is SOAP11:
        plain = ElementMaker()
        body = soap.Fault(plain.faultcode(prefixed), plain.faultstring(reason, {XML_LANG: "fr"}),
                          plain.detail(detail))
    else:
        body = soap.Fault(soap.Code(soap.Value(prefixed)),
                          soap.Reason(soap.Text(reason, {XML_LANG: "fr"})),
                          soap.Detail(detail))
    return _serialize(soap.Envelope(soap.Body(body)))


def http_status(version: SoapVersion, error: TelepointsError) -> int:
    """SOAP 1.1 (WS-I Basic Profile R1126): 500 for every fault, which is what clients
    generated from the contract expect. SOAP 1.2 (part 2, table 20): 400 for Sender faults,
    500 for every other one."""
    if version is SOAP12 and getattr(error, "soap_code", None) is None and error.client_side:
        return 400
    return 500
