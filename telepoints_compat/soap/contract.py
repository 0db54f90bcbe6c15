"""The legacy contract, read once from the checked-in WSDL (identical to the one legacy
clients were generated from, `soap:address` apart, which is rewritten when served).

From it come the XSD validator of request bodies and the table of operations: the body
element that names each one, its SOAPAction and its response element.
"""

from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree

WSDL_PATH = Path(__file__).resolve().parent / "contract" / "telepoints-v1.wsdl"
TNS = "urn:fr:interieur:telepoints:v1"
NS = {
    "wsdl": "http://schemas.xmlsoap.org/wsdl/",
    "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
    "soap12": "http://schemas.xmlsoap.org/wsdl/soap12/",
    "xs": "http://www.w3.org/2001/XMLSchema",
}
_ADDRESS = b'location="http://localhost/telepoints/ws"'


@dataclass(frozen=True)
class Operation:
    name: str
    request: str  # Clark notation, {ns}name
    response: str
    action: str
    fields: frozenset[str] = frozenset()  # the local names of the request's child elements
    # Those whose XSD type collapses whitespace (every built-in type but xs:string and
    # xs:normalizedString, XSD part 2 section 4.3.6): `<dateNaissance> 1995-12-13 </…>`.
    collapsed: frozenset[str] = frozenset()


class Contract:
    def __init__(self, path: Path = WSDL_PATH) -> None:
        self.wsdl = path.read_bytes()
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(self.wsdl, parser)
        schema_element = root.find("wsdl:types/xs:schema", NS)
        if schema_element is None:
            raise ValueError("the WSDL holds no schema")
        self._schema_element = copy.deepcopy(schema_element)  # standalone, namespaces kept
        self._validators = threading.local()
        self.schema = self.validator()
        self.operations = self._operations(root)
        self.by_request = {operation.request: operation for operation in self.operations}

    @staticmethod
    def _operations(root: etree._Element) -> list[Operation]:
        parts = {message.get("name"): message.find("wsdl:part", NS)
                 for message in root.findall("wsdl:message", NS)}

        def element_of(message_qname: str) -> str:
            part = parts.get(message_qname.split(":", 1)[-1])
            if part is None:
                raise ValueError(f"message {message_qname} has no part")
            return f"{{{TNS}}}{part.get('element', '').split(':', 1)[-1]}"

        actions = {
            operation.get("name"): operation.find("soap:operation", NS).get("soapAction", "")
            for operation in root.findall("wsdl:binding/wsdl:operation", NS)
            if operation.find("soap:operation", NS) is not None
        }
        schema = root.find("wsdl:types/xs:schema", NS)
        assert schema is not None  # checked by the caller
        operations = []
        for operation in root.findall("wsdl:portType/wsdl:operation", NS):
            name = operation.get("name", "")
            input_message = operation.find("wsdl:input", NS)
            output_message = operation.find("wsdl:output", NS)
            if input_message is None or output_message is None:
                continue
            request = element_of(input_message.get("message", ""))
            fields = _fields(schema, request.split("}", 1)[1])
            operations.append(Operation(
                name=name, request=request,
                response=element_of(output_message.get("message", "")),
                action=actions.get(name, ""), fields=frozenset(fields),
                collapsed=frozenset(field for field, type_name in fields.items()
                                    if _collapses(schema, type_name))))
        return operations

    def other_operation_named(self, action: str, operation: Operation) -> bool:
        """Whether a SOAPAction names an operation of the contract other than `operation`:
        its exact action, or its name as the action's last segment (`"ConsulterSolde"`,
        `urn:…#ConsulterSolde`, `…/ConsulterSolde`), in any case."""
        last = re.split(r"[#/:]", action)[-1].lower()
        return any(other is not operation and (action == other.action
                                               or last == other.name.lower())
                   for other in self.operations)

    def validator(self) -> etree.XMLSchema:
        """The XSD validator of the calling thread: with threaded workers each thread
        validates with its own, as it parses with its own parser (lxml objects are not shared
        between threads)."""
        schema: etree.XMLSchema | None = getattr(self._validators, "schema", None)
        if schema is None:
            schema = etree.XMLSchema(etree.ElementTree(copy.deepcopy(self._schema_element)))
            self._validators.schema = schema
        return schema

    def wsdl_for(self, address: str) -> bytes:
        """The WSDL as checked in, with `soap:address` naming the address the client used."""
        return self.wsdl.replace(_ADDRESS, b"location=" + quoteattr(address).encode())


def _local(qname: str) -> str:
    return qname.split(":", 1)[-1]


def _fields(schema: etree._Element, element_name: str) -> dict[str, str]:
    """The child elements of a top-level element (its type named or inline): name → type."""
    element = schema.find(f"xs:element[@name='{element_name}']", NS)
    if element is None:
        raise ValueError(f"the schema declares no element {element_name}")
    complex_type = element.find("xs:complexType", NS)
    if complex_type is None:
        complex_type = schema.find(
            f"xs:complexType[@name='{_local(element.get('type', ''))}']", NS)
    if complex_type is None:
        raise ValueError(f"element {element_name} has no complex type")
    return {child.get("name", ""): child.get("type", "")
            for child in complex_type.iterfind("xs:sequence/xs:element", NS)}


def _collapses(schema: etree._Element, type_name: str) -> bool:
    """Whether the simple type named `type_name` collapses whitespace: a built-in type other
    than xs:string and xs:normalizedString, or a restriction of one."""
    prefix, _, local = type_name.rpartition(":")
    if prefix in ("xs", "xsd"):
        return local not in ("string", "normalizedString")
    simple = schema.find(f"xs:simpleType[@name='{local}']", NS)
    restriction = None if simple is None else simple.find("xs:restriction", NS)
    if restriction is None:
        return False
    if restriction.find("xs:whiteSpace[@value='collapse']", NS) is not None:
        return True
    return _collapses(schema, restriction.get("base", ""))
