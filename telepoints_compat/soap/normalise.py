"""What real toolkits add to a request, taken off before the XSD judges it: strict about
meaning, lenient about form. This is the only place of the pipeline that forgives anything.

- `xsi:type` (Perl SOAP::Lite's default `autotype`, RPC toolkits) and `soap:encodingStyle`
  say how the sender typed a value; the contract's schema types it anyway, so they are
  dropped and the content is validated as the contract says.
- Child elements sent without a namespace under the operation's element (RPC toolkits that
  qualify the method only) are the contract's fields of that name.
- Whitespace is collapsed where the field's XSD type collapses it (`xs:date`,
  `xs:boolean`…), as XSD part 2 says a processor does, and file numbers and codes lose every
  space, as clients type them as printed (contract section 1).
"""

from __future__ import annotations

from lxml import etree

from telepoints_compat.soap.contract import TNS, Operation
from telepoints_compat.soap.errors import EnvelopeError

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_ENCODING_STYLES = ("{http://schemas.xmlsoap.org/soap/envelope/}encodingStyle",
                    "{http://www.w3.org/2003/05/soap-envelope}encodingStyle")
_TYPED_WITH_SPACES = frozenset({"numeroDossier", "codeConfidentiel"})


def normalise(payload: etree._Element, operation: Operation) -> None:
    """Rewrites `payload` in place; the XSD validation that follows judges the result."""
    for element in payload.iter(etree.Element):
        attributes = element.attrib
        if attributes:
            for name in (XSI_TYPE, *_ENCODING_STYLES):
                attributes.pop(name, None)
    for child in payload.iterchildren(etree.Element):
        tag = child.tag
        if tag[0] != "{":  # unqualified
            if tag not in operation.fields:
                raise EnvelopeError(f"élément inattendu {tag[:40]}")
            child.tag = tag = f"{{{TNS}}}{tag}"
        local = tag[len(TNS) + 2:]
        text = child.text
        if not text:
            continue
        if local in _TYPED_WITH_SPACES:
            child.text = "".join(text.split())
        elif local in operation.collapsed:
            child.text = " ".join(text.split())
