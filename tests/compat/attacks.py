"""The attack corpus of the SOAP endpoint (checklist X1 to X4), shared by the tests and the
bench that times it. `{file}` and `{url}` are filled with a local file and a loopback URL."""

from __future__ import annotations

import errno
import functools
import gzip
import os
import zlib
from pathlib import Path
from typing import Any, NamedTuple

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


@functools.cache
def _deflate_bomb() -> bytes:
    """The same in the zlib format that `Content-Encoding: deflate` names."""
    return zlib.compress(_envelope("1" * (16 * 1024 * 1024)).encode(), 9)


@functools.cache
def _gzip_bomb() -> bytes:
    """16 MiB of envelope in about 16 KiB: inflated, it is far over the 64 KiB bound."""
    return gzip.compress(_envelope("1" * (16 * 1024 * 1024)).encode(), 9)


class Attack(NamedTuple):
    content_type: str
    body: bytes
    headers: dict[str, str] | None = None

    def all_headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, **(self.headers or {})}


def _entity(system: str) -> str:
    return (f'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "{system}">]>'
            + _envelope("&x;"))


def has_reader(fifo: Path) -> bool:
    """Whether anybody has the named pipe open for reading (or is blocked opening it): a
    non-blocking open for writing fails with ENXIO when nobody has. Opening it releases a
    parser blocked on it, if any."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as error:
        if error.errno == errno.ENXIO:
            return False
        raise
    return True


def parameter_entity(system: str) -> str:
    """The attack that made libxml2 read files despite `load_dtd=False`: a parameter entity
    in the internal subset, invisible to a byte check once the body is not in UTF-8."""
    return (f'<!DOCTYPE s:Envelope [<!ENTITY % p SYSTEM "{system}"> %p;]>'
            + _envelope("991091010000"))


# Encodings with their XML names, BOM or not: the byte check on "<!DOCTYPE" sees none of them.
ENCODED = {
    "UTF-16": ("utf-16", "UTF-16"), "UTF-16BE": ("utf-16-be", "UTF-16BE"),
    "UTF-32": ("utf-32", "UTF-32"), "UTF-32BE": ("utf-32-be", "UTF-32BE"),
    "EBCDIC (IBM037)": ("cp037", "IBM037"), "EBCDIC (IBM500)": ("cp500", "IBM500"),
    "UTF-7": ("utf-7", "UTF-7"), "ISO-2022-JP": ("iso2022_jp", "ISO-2022-JP"),
}


def encoded(text: str, codec: str, xml_name: str) -> bytes:
    return (f'<?xml version="1.0" encoding="{xml_name}"?>' + text).encode(codec)


def corpus(file: str, url: str) -> dict[str, Attack]:
    """Each attack by its name."""
    deep_closed = _envelope("<a>" * 10000 + "</a>" * 10000)
    deep_within_limit = _envelope("<a>" * 2000 + "</a>" * 2000)
    attacks: dict[str, tuple[Any, ...]] = {
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
        **{f"parameter entity to a file in {name}": ("text/xml", encoded(
            parameter_entity(file), codec, xml_name))
           for name, (codec, xml_name) in ENCODED.items()},
        **{f"parameter entity to /dev/zero in {name}": ("text/xml", encoded(
            parameter_entity("file:///dev/zero"), codec, xml_name))
           for name, (codec, xml_name) in ENCODED.items()},
        "billion laughs in EBCDIC": ("text/xml", encoded(
            _laughs().replace('<?xml version="1.0"?>', ""), "cp037", "IBM037")),
        "gzip bomb": ("text/xml", _gzip_bomb(), {"Content-Encoding": "gzip"}),
        "deflate bomb": ("text/xml", _deflate_bomb(), {"Content-Encoding": "deflate"}),
        # Thousands of attributes on the operation: the XSD validator reported each one.
        "attribute bomb": (TEXT_XML, _envelope("991091010000").replace(
            "<tp:ConsulterSolde>", "<tp:ConsulterSolde " + " ".join(
                f'a{index}=""' for index in range(6000)) + ">").encode()),
        # UTF-7 lets a lone surrogate through its decoder, which UTF-8 cannot encode.
        "lone surrogate in UTF-7": ("text/xml", (
            '<?xml version="1.0" encoding="UTF-7"?>'
            f'<s:Envelope xmlns:s="{SOAP11}"><s:Body>+2D0-</s:Body></s:Envelope>').encode()),
        "empty body": (TEXT_XML, b""),
    }
    return {name: Attack(*value) for name, value in attacks.items()}
