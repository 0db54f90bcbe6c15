"""Hypothesis strategies for SOAP requests to `/telepoints/ws`, generated from the contract's
operations: the request elements and their fields come from the WSDL's schema, so a new
operation or field is fuzzed without touching this file.

Two families. `equivalent_requests`: the holder's own request written in any of the ways XML
allows (prefixes, default namespaces, whitespace, comments, processing instructions, CDATA,
character references, encodings and byte order marks, SOAP 1.1 or 1.2, the number as printed),
which a conforming client may send and which must get the same answer. `hostile_requests`:
the same skeleton with fuzzed values (wrong types, huge or control characters, any Unicode),
fields missing, repeated, reordered or added, foreign namespaces and attributes, headers that
must be understood, DTDs and entities, encodings that lie, other content types, and random
byte mutations of the result. Hand-written attacks (entity expansion, external entities, deep
nesting) are `tests/compat/attacks.py`'s; these complement them with volume and variety.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from hypothesis import strategies as st
from lxml import etree

from telepoints_compat.soap.contract import NS, TNS, WSDL_PATH, Contract

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MEDIA_TYPES = {"1.1": "text/xml", "1.2": "application/soap+xml"}
NAMESPACES = {"1.1": SOAP11, "1.2": SOAP12}
CODE = "FUZZ2345AB"  # the holder's code: the fixtures issue this one
NUMERO = "991091010000"  # the holder of tests/compat's fixtures
BIRTH = "1957-02-18"


@dataclass(frozen=True)
class Operation:
    name: str
    action: str
    fields: tuple[tuple[str, str], ...]  # (local name, XSD type), in the schema's order


def _operations() -> list[Operation]:
    contract = Contract()
    root = etree.parse(str(WSDL_PATH)).getroot()
    schema = root.find("wsdl:types/xs:schema", NS)
    assert schema is not None
    elements = {element.get("name"): element for element in schema.findall("xs:element", NS)}
    types = {complex_type.get("name"): complex_type
             for complex_type in schema.findall("xs:complexType", NS)}
    operations = []
    for operation in contract.operations:
        element = elements[operation.request.split("}")[1]]
        named = element.get("type")
        body = types[named.split(":")[1]] if named else element.find("xs:complexType", NS)
        assert body is not None
        fields = tuple((child.get("name", ""), child.get("type", ""))
                       for child in body.iterfind("xs:sequence/xs:element", NS))
        operations.append(Operation(operation.name, operation.action, fields))
    return operations


OPERATIONS = _operations()
# Operations that answer with the holder's data: an equivalent request must get equal bytes.
READING = [operation for operation in OPERATIONS
           if {name for name, _ in operation.fields} == {"numeroDossier", "codeConfidentiel"}]


@dataclass
class Request:
    """What a test posts, and what it needs to judge the answer."""

    body: bytes
    headers: dict[str, str]
    version: str  # the SOAP version the content type announces ("" when it announces none)
    operation: str
    numero: str = ""  # the file number as sent, "" when there is none
    notes: list[str] = field(default_factory=list)  # how it was written, for failure reports


# -- values ---------------------------------------------------------------------------------

def _spaced(numero: str) -> str:
    return " ".join([numero[:2], numero[2:6], numero[6:]])


VALID_VALUES: dict[str, st.SearchStrategy[str]] = {
    "tns:NumeroDossier": st.sampled_from([NUMERO, _spaced(NUMERO), "ab12345"])
    | st.from_regex(r"[0-9A-Za-z]{5,19}", fullmatch=True),
    "tns:CodeConfidentiel": st.just(CODE) | st.from_regex(r"[0-9A-Za-z]{6,12}", fullmatch=True),
    "xs:date": st.sampled_from([BIRTH, "2020-01-01Z", "2020-01-01+14:00", "-2020-01-01",
                                "12345-01-01", "0001-01-01", "9999-12-31"])
    | st.dates().map(lambda day: day.isoformat()),
}
hostile_values = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=5),
    st.sampled_from(["", " ", "\t\n", "\u00a0991091010000", "９９１０９１０１００００", "true",
                     "-1", "1e9", "<x/>", "]]>", "&amp;", "&#0;", "&#x1F;", "&#xD800;", "&lol;",
                     "%pe;", "\ufeff", "\u202e", "\U0001f697"]),
    st.integers(1, 70_000).map(lambda size: "9" * size),
)


def _text(draw: st.DrawFn, value: str, *, hostile: bool) -> str:
    """`value` as element content, written one of the ways XML allows (or, hostile, not)."""
    ways = ["escaped"] * 6 + ["cdata", "charrefs", "comment", "pi"]
    if hostile:
        ways += ["raw", "nested"]
    way = draw(st.sampled_from(ways))
    if way == "cdata":
        return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    if way == "charrefs":
        return "".join(f"&#{ord(char)};" for char in value)
    if way in ("comment", "pi") and len(value) > 1:
        cut = draw(st.integers(1, len(value) - 1))
        middle = "<!-- ici -->" if way == "comment" else "<?traitement ici?>"
        return escape(value[:cut]) + middle + escape(value[cut:])
    if way == "raw":
        return value
    if way == "nested":
        return f"<x>{escape(value)}</x>"
    return escape(value)


# -- elements -------------------------------------------------------------------------------

@dataclass
class Names:
    """How the contract's namespace is written in one message."""

    prefix: str  # "" for a default namespace declared on the operation element
    declare_on_payload: bool
    namespace: str = TNS

    def tag(self, local: str) -> str:
        return f"{self.prefix}:{local}" if self.prefix else local

    def declaration(self) -> str:
        return f' xmlns:{self.prefix}="{self.namespace}"' if self.prefix \
            else f' xmlns="{self.namespace}"'


def _names(draw: st.DrawFn, *, hostile: bool) -> Names:
    prefix = draw(st.sampled_from(["tp", "tel", "ns0", "a", ""]))
    namespace = TNS
    if hostile and draw(st.integers(0, 9)) == 0:
        namespace = draw(st.sampled_from(["urn:evil", TNS.upper(), TNS + "/", "", SOAP11]))
    return Names(prefix, declare_on_payload=not prefix or draw(st.booleans()),
                 namespace=namespace)


HOSTILE_ATTRIBUTES = [
    ' xsi:nil="true"', ' xsi:type="xs:string"', ' xsi:schemaLocation="urn:x http://127.0.0.1:9/x.xsd"',
    ' foo="bar"', ' xml:lang="fr"', ' id="a"', ' a="1" a="2"', ' xmlns:tp="urn:evil"',
    ' xmlns=""',
]


def _attributes(draw: st.DrawFn, *, hostile: bool) -> str:
    if not hostile or draw(st.integers(0, 5)):
        return ""
    return "".join(draw(st.lists(st.sampled_from(HOSTILE_ATTRIBUTES), min_size=1, max_size=2)))


def _gap(draw: st.DrawFn) -> str:
    """What may stand between two elements: nothing, whitespace, a comment, an instruction."""
    return draw(st.sampled_from(["", "", "\n  ", "\r\n\t", " ", "<!-- commentaire -->",
                                 "<?client version='2'?>"]))


def _payload(draw: st.DrawFn, operation: Operation, names: Names, *, hostile: bool,
             values: bool) -> tuple[str, str]:
    """The operation element, and the file number it carries; `values`: fuzzed values, the
    rest as `hostile` says."""
    children: list[tuple[str, str]] = []
    numero = ""
    for name, xsd_type in operation.fields:
        value = draw(VALID_VALUES[xsd_type])
        if values and draw(st.integers(0, 2)) == 0:
            value = draw(hostile_values)
        if name == "numeroDossier":
            numero = value
        children.append((name, value))
    if hostile and draw(st.integers(0, 4)) == 0:
        change = draw(st.sampled_from(["drop", "repeat", "swap", "add", "text"]))
        index = draw(st.integers(0, len(children) - 1))
        if change == "drop":
            del children[index]
        elif change == "repeat":
            children.insert(index, children[index])
        elif change == "swap" and len(children) > 1:
            children[0], children[-1] = children[-1], children[0]
        elif change == "add":
            children.insert(index, (draw(st.sampled_from(
                ["extra", "numeroDossier", "dateNaissance", "code", "Body"])), "x"))
        else:
            children.insert(index, ("#text", draw(hostile_values)))
    parts = []
    for name, value in children:
        parts.append(_gap(draw))
        if name == "#text":
            parts.append(escape(value))
            continue
        content = _text(draw, value, hostile=hostile)
        parts.append(f"<{names.tag(name)}{_attributes(draw, hostile=hostile)}>{content}"
                     f"</{names.tag(name)}>")
    parts.append(_gap(draw))
    local = operation.name
    if hostile and draw(st.integers(0, 9)) == 0:
        local = draw(st.sampled_from([operation.name + "Reponse", operation.name.lower(),
                                      "ErreurTelepoints", "Inconnue"]))
    declaration = names.declaration() if names.declare_on_payload else ""
    element = (f"<{names.tag(local)}{declaration}{_attributes(draw, hostile=hostile)}>"
               + "".join(parts) + f"</{names.tag(local)}>")
    return element, numero


HEADER_BLOCKS = [
    '<m:Trace xmlns:m="urn:client">1</m:Trace>',
    '<m:Trace xmlns:m="urn:client" {env}:mustUnderstand="0">1</m:Trace>',
    '<m:Trace xmlns:m="urn:client" {env}:mustUnderstand="false">1</m:Trace>',
]
HOSTILE_HEADER_BLOCKS = [
    '<m:Trace xmlns:m="urn:client" {env}:mustUnderstand="1">1</m:Trace>',
    '<m:Trace xmlns:m="urn:client" {env}:mustUnderstand="true">1</m:Trace>',
    '<m:Trace xmlns:m="urn:client" {env}:mustUnderstand=" 1 ">1</m:Trace>',
    '<m:Trace xmlns:m="urn:client" {env}:mustUnderstand="TRUE">1</m:Trace>',
    '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
    'oasis-200401-wss-wssecurity-secext-1.0.xsd" {env}:mustUnderstand="1">'
    "<wsse:UsernameToken><wsse:Username>x</wsse:Username></wsse:UsernameToken></wsse:Security>",
    "<tp:AvisMigration><tp:message>écho</tp:message></tp:AvisMigration>",
    "texte libre",
]


def _envelope(draw: st.DrawFn, version: str, payload: str, names: Names, *,
              hostile: bool) -> str:
    namespace = NAMESPACES[version]
    if hostile and draw(st.integers(0, 19)) == 0:
        namespace = NAMESPACES["1.2" if version == "1.1" else "1.1"]
    env = draw(st.sampled_from(["s", "soap", "soapenv", "SOAP-ENV", "env"]))
    declarations = f' xmlns:{env}="{namespace}"'
    if names.prefix and not names.declare_on_payload:
        declarations += names.declaration()
    if hostile:
        declarations += f' xmlns:xsi="{XSI}" xmlns:xs="http://www.w3.org/2001/XMLSchema"'
    header = ""
    if draw(st.booleans()):
        blocks = draw(st.lists(st.sampled_from(
            HEADER_BLOCKS + (HOSTILE_HEADER_BLOCKS if hostile else [])), max_size=2))
        header = f"<{env}:Header>" + "".join(blocks).format(env=env) + f"</{env}:Header>"
    body_attributes = _attributes(draw, hostile=hostile)
    body = [_gap(draw), payload, _gap(draw)]
    after = ""
    if hostile and draw(st.integers(0, 9)) == 0:
        extra = draw(st.sampled_from([payload, "<autre/>", "texte", f"<{env}:Fault/>"]))
        body.insert(draw(st.integers(0, 3)), extra)
    if hostile and draw(st.integers(0, 14)) == 0:
        after = draw(st.sampled_from([header, f"<{env}:Body/>", "<autre/>"]))
    return (f"<{env}:Envelope{declarations}>{_gap(draw)}{header}{_gap(draw)}"
            f"<{env}:Body{body_attributes}>{''.join(body)}</{env}:Body>{after}"
            f"</{env}:Envelope>")


DOCTYPES = [
    "<!DOCTYPE Envelope>",
    '<!DOCTYPE Envelope [<!ENTITY x "991091010000">]>',
    '<!DOCTYPE Envelope SYSTEM "http://127.0.0.1:9/x.dtd">',
    '<!DOCTYPE Envelope [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>',
    "<!doctype Envelope>",
]
ENCODINGS = ["utf-8", "utf-8", "utf-16", "utf-16-le", "utf-16-be", "iso-8859-1", "cp1252",
             "ascii"]
DECLARED = {"utf-8": ["utf-8", "UTF-8"], "utf-16": ["UTF-16", "utf-16"],
            "utf-16-le": ["UTF-16"], "utf-16-be": ["UTF-16"],
            "iso-8859-1": ["ISO-8859-1", "latin1"], "cp1252": ["windows-1252"],
            "ascii": ["US-ASCII", "ASCII"]}


def _document(draw: st.DrawFn, envelope: str, *, hostile: bool) -> tuple[bytes, list[str]]:
    """Prolog, encoding, byte order mark; for hostile messages, DTDs and lying declarations."""
    encoding = draw(st.sampled_from(ENCODINGS))
    declared = draw(st.sampled_from(DECLARED[encoding]))
    if hostile and draw(st.integers(0, 9)) == 0:
        declared = draw(st.sampled_from(["UTF-8", "UTF-16", "EBCDIC-US", "bogus", "UCS-4"]))
    declaration = ""
    if encoding == "utf-8" and draw(st.booleans()):
        declaration = draw(st.sampled_from(['<?xml version="1.0"?>',
                                            '<?xml version="1.0" standalone="yes"?>']))
    else:
        declaration = f'<?xml version="1.0" encoding="{declared}"?>'
    if hostile and draw(st.integers(0, 14)) == 0:
        declaration = draw(st.sampled_from([
            '<?xml version="1.1"?>', '<?xml version="2.0"?>', ' <?xml version="1.0"?>',
            "<?xml?>", '<?xml version="1.0" encoding="utf-8"?><?xml version="1.0"?>']))
    prolog = [declaration, _gap(draw)]
    if hostile and draw(st.integers(0, 14)) == 0:
        prolog.append(draw(st.sampled_from(DOCTYPES)))
    trailer = _gap(draw)
    if hostile and draw(st.integers(0, 19)) == 0:
        trailer = draw(st.sampled_from(["texte", "<second/>", "\x00", "]]>"]))
    text = "".join(prolog) + envelope + trailer
    if encoding.startswith("utf-16-") and (not hostile or draw(st.booleans())):
        text = "\ufeff" + text  # the byte order mark UTF-16 requires (XML 1.0, 4.3.3)
    errors = "xmlcharrefreplace" if encoding in ("iso-8859-1", "cp1252", "ascii") \
        else "surrogatepass"
    data = text.encode(encoding, errors)
    if encoding == "utf-8" and draw(st.integers(0, 4)) == 0:
        data = b"\xef\xbb\xbf" + data
    return data, [f"encoding={encoding}", f"declared={declared}"]


def _mutate(draw: st.DrawFn, data: bytes) -> bytes:
    """A few bytes flipped, inserted, removed, or the message cut short."""
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["set", "insert", "delete", "truncate"]))
        position = draw(st.integers(0, max(len(buffer) - 1, 0)))
        if action == "truncate":
            del buffer[position:]
        elif action == "insert" or not buffer:
            buffer.insert(position, draw(st.integers(0, 255)))
        elif action == "set":
            buffer[position] = draw(st.integers(0, 255))
        else:
            del buffer[position]
    return bytes(buffer)


def _headers(draw: st.DrawFn, version: str, operation: Operation, *,
             hostile: bool) -> tuple[dict[str, str], str]:
    """Content type (and the SOAP version it announces) and SOAPAction."""
    announced = version
    media_type = MEDIA_TYPES[version]
    if hostile and draw(st.integers(0, 19)) == 0:
        media_type = draw(st.sampled_from(["application/xml", "text/plain", "", "TEXT/XML",
                                           "application/soap+xml;", "multipart/related",
                                           MEDIA_TYPES["1.2" if version == "1.1" else "1.1"]]))
        announced = {"text/xml": "1.1", "application/soap+xml": "1.2"}.get(
            media_type.lower().rstrip(";"), "")
    content_type = media_type + draw(st.sampled_from(["", "; charset=utf-8", "; charset=UTF-8",
                                                      "; charset=utf-16"]))
    headers = {"Content-Type": content_type}
    actions = [operation.action, ""]
    if hostile:
        actions += [other.action for other in OPERATIONS] + ["urn:x#Autre", "é", "\t"]
    action = draw(st.sampled_from([None, *actions]))
    if action is not None:
        if announced == "1.2" and version == "1.2":
            headers["Content-Type"] += f'; action="{action}"'
        else:
            headers["SOAPAction"] = draw(st.sampled_from([f'"{action}"', action]))
    return headers, announced


@st.composite
def equivalent_requests(draw: st.DrawFn) -> Request:
    """The holder's reading request, written any way a conforming client may write it."""
    operation = draw(st.sampled_from(READING))
    version = draw(st.sampled_from(["1.1", "1.2"]))
    names = _names(draw, hostile=False)
    numero = draw(st.sampled_from([NUMERO, _spaced(NUMERO)]))
    code = draw(st.sampled_from([CODE, CODE.lower()]))
    children = {"numeroDossier": numero, "codeConfidentiel": code}
    parts = [_gap(draw) + f"<{names.tag(name)}>{_text(draw, children[name], hostile=False)}"
             f"</{names.tag(name)}>" for name, _ in operation.fields]
    declaration = names.declaration() if names.declare_on_payload else ""
    payload = (f"<{names.tag(operation.name)}{declaration}>" + "".join(parts) + _gap(draw)
               + f"</{names.tag(operation.name)}>")
    envelope = _envelope(draw, version, payload, names, hostile=False)
    body, notes = _document(draw, envelope, hostile=False)
    headers, announced = _headers(draw, version, operation, hostile=False)
    return Request(body, headers, announced, operation.name, numero, notes)


@st.composite
def hostile_requests(draw: st.DrawFn) -> Request:
    """A request built on the contract's skeleton, with anything wrong that can be; one in
    three keeps a sound message around fuzzed values, so that they reach the schema and the
    operations instead of stopping at the parser."""
    hostile = draw(st.integers(0, 2)) > 0
    operation = draw(st.sampled_from(OPERATIONS))
    version = draw(st.sampled_from(["1.1", "1.2"]))
    names = _names(draw, hostile=hostile)
    payload, numero = _payload(draw, operation, names, hostile=hostile, values=True)
    envelope = _envelope(draw, version, payload, names, hostile=hostile)
    body, notes = _document(draw, envelope, hostile=hostile)
    if hostile and draw(st.integers(0, 3)) == 0:
        body = _mutate(draw, body)
        notes.append("mutated")
    headers, announced = _headers(draw, version, operation, hostile=hostile)
    return Request(body, headers, announced, operation.name, numero,
                   [*notes, "hostile" if hostile else "values only"])


def plain(operation: str, version: str = "1.1", **fields: str) -> Request:
    """The request as the contract's examples write it (prefix `tp`, UTF-8, no SOAPAction)."""
    children = "".join(f"<tp:{name}>{escape(value)}</tp:{name}>" for name, value in fields.items())
    body = (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{NAMESPACES[version]}"'
            f' xmlns:tp="{TNS}"><s:Body><tp:{operation}>{children}</tp:{operation}></s:Body>'
            "</s:Envelope>").encode()
    headers = {"Content-Type": f"{MEDIA_TYPES[version]}; charset=utf-8"}
    return Request(body, headers, version, operation, fields.get("numeroDossier", ""))
