"""The attack corpus of the SOAP endpoint (checklist X1 to X4), shared by the tests and the
bench that times it. `{file}` and `{url}` are filled with a local file and a loopback URL."""

from __future__ import annotations

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TNS = "urn:fr:interieur:telepoints:v1"
TEXT_XML = "text/xml; charset=utf-8"


def _envelope(inner: str, ns: str = SOAP11, tns: str = TNS) -> str:
    return (f'<s:Envelope xmlns:s="{ns}" xmlns:tp="{tns}"><s:Body>'
            f"<tp:ConsulterSolde><tp:numeroDossier>{inner}</tp:numeroDossier>"
            "<tp:codeConfidentiel>ABCDEFGH</tp:codeConfidentiel></tp:ConsulterSolde>"
            "</s:Body></s:Envelope>")


def _laughs() -> str:
    entities = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    entities += [f"<!ENTITY lol{i} \"{f'&lol{i - 1};' * 10}\">" for i in range(1, 10)]
    return (f"<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [{''.join(entities)}]>"
            + _envelope("&lol9;"))


def _quadratic() -> str:
    return ('<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY a "' + "x" * 30000 + '">]>'
            + _envelope("&a;" * 8000))


def _entity(system: str) -> str:
    return (f'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "{system}">]>'
            + _envelope("&x;"))


def corpus(file: str, url: str) -> dict[str, tuple[str, bytes]]:
    """name: (content type, body)."""
    deep_closed = _envelope("<a>" * 10000 + "</a>" * 10000)
    deep_within_limit = _envelope("<a>" * 2000 + "</a>" * 2000)
    return {
        "billion laughs": (TEXT_XML, _laughs().encode()),
        "quadratic blow-up": (TEXT_XML, _quadratic().encode()),
        "external entity, local file": (TEXT_XML, _entity(file).encode()),
        "external entity, URL": (TEXT_XML, _entity(url).encode()),
        "external DTD": (TEXT_XML, (f'<?xml version="1.0"?><!DOCTYPE s:Envelope SYSTEM "{url}">'
                                    + _envelope("991091010000")).encode()),
        "DTD alone": (TEXT_XML, ('<?xml version="1.0"?><!DOCTYPE s:Envelope>'
                                 + _envelope("991091010000")).encode()),
        "billion laughs in UTF-16": (TEXT_XML, _laughs().replace(
            '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16")),
        "DTD in UTF-16": (TEXT_XML, ('<?xml version="1.0" encoding="UTF-16"?>'
                                     '<!DOCTYPE s:Envelope [<!ENTITY a "b">]>'
                                     + _envelope("&a;")).encode("utf-16")),
        "10,000-deep nesting": (TEXT_XML, deep_closed.encode()),
        "10,000-deep nesting, unclosed": (TEXT_XML, ("<a>" * 10000).encode()),
        "2,000-deep nesting": (TEXT_XML, deep_within_limit.encode()),
        "1 MiB body": (TEXT_XML, _envelope("1" * (1024 * 1024)).encode()),
        "wrong namespace": (TEXT_XML, _envelope("991091010000", tns="urn:evil").encode()),
        "SOAP 1.2 body with a 1.1 content type": (TEXT_XML,
                                                  _envelope("991091010000", SOAP12).encode()),
        "garbage bytes": (TEXT_XML, bytes(range(256)) * 16),
        "empty body": (TEXT_XML, b""),
    }
