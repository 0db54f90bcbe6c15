"""The first step of reading a SOAP request: from the bytes on the wire to UTF-8 bytes that
the hardened parser may see.

Two things happen here, and nowhere else:

- **Compression.** Legacy toolkits may compress their requests (PHP's `SoapClient` with its
  documented `compression` option sends `Content-Encoding: gzip` or `deflate`). The body is
  inflated within the same `MAX_BODY` bound as a plain one: a compression bomb stops at
  `MAX_BODY + 1` bytes of output and is refused as too large (413), nothing more is inflated.
- **Character encoding.** The encoding is found as XML 1.0 appendix F says (byte order mark,
  then the first bytes, then the declaration), the HTTP `charset` when the body declares
  nothing, else UTF-8; the body is decoded here, and a DTD is looked for in the decoded text.
  libxml2 is then always handed UTF-8 with its encoding forced: a DTD hidden from a byte
  check by UTF-16, UTF-32, an EBCDIC code page or UTF-7 is seen and refused before any parser
  runs (a DTD's parameter entity makes libxml2 read files even with `load_dtd=False`).
"""

from __future__ import annotations

import codecs
import functools
import re
import zlib

from telepoints_compat.soap.errors import MAX_BODY, EnvelopeError, TooLarge

# Byte order marks, longest first: UTF-32 LE's begins with UTF-16 LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_EBCDIC_START = b"\x4c\x6f\xa7\x94"  # "<?xm" in the EBCDIC code pages
_DECLARED = re.compile(
    r"""<\?xml[ \t\r\n][^>]*?encoding[ \t\r\n]*=[ \t\r\n]*["']([A-Za-z][\w.\-]*)["']""")
# Anything that opens a markup declaration: DOCTYPE, ENTITY, ELEMENT, ATTLIST, NOTATION, or a
# conditional section. Comments and CDATA sections are the only `<!` a request may hold.
_MARKUP_DECLARATION = re.compile(r"<!(?!--|\[CDATA\[)")
_MARKUP_DECLARATION_BYTES = re.compile(rb"<!(?!--|\[CDATA\[)")
# Codecs Python knows that are not character sets of documents: they would turn escapes or
# punycode into markup, and no XML processor reads them.
_NOT_CHARSETS = frozenset({"unicode_escape", "raw_unicode_escape", "punycode", "idna",
                           "undefined", "mbcs", "oem"})
_UTF8_NAMES = frozenset({"utf-8", "utf8", "utf_8"})


def inflate(body: bytes, content_encoding: str | None) -> bytes:
    """The body without its `Content-Encoding` (gzip, deflate or none), within MAX_BODY."""
    coding = (content_encoding or "").strip().lower()
    if coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip"):
        return _inflate(body, zlib.MAX_WBITS | 16)
    if coding == "deflate":
        # RFC 9110 says zlib format; some clients send raw deflate: both are read.
        try:
            return _inflate(body, zlib.MAX_WBITS)
        except TooLarge:
            raise
        except EnvelopeError:
            return _inflate(body, -zlib.MAX_WBITS)
    raise EnvelopeError("Content-Encoding non pris en charge (gzip ou deflate)")


def _inflate(body: bytes, wbits: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        plain = inflater.decompress(body, MAX_BODY + 1)
    except zlib.error:
        raise EnvelopeError("corps compressé illisible") from None
    if len(plain) > MAX_BODY:
        raise TooLarge()
    if not inflater.eof or inflater.unused_data:
        raise EnvelopeError("corps compressé illisible")
    return plain


def to_utf8(body: bytes, charset: str | None) -> bytes:
    """The document as UTF-8 bytes without a byte order mark, no markup declaration in it."""
    encoding, start = _encoding(body, charset)
    if encoding in _UTF8_NAMES:
        # The common case, checked on the bytes themselves: in UTF-8 "<!" is those two bytes,
        # and the parser (forced to UTF-8) refuses any malformed sequence.
        document = body[start:]
        if _MARKUP_DECLARATION_BYTES.search(document):
            raise EnvelopeError("DTD interdite")
        return document
    try:
        text = body[start:].decode(encoding)
        # Some decoders (UTF-7) let a lone surrogate through, which UTF-8 cannot encode.
        document = text.lstrip("\ufeff").encode("utf-8")
    except (UnicodeError, LookupError):
        raise EnvelopeError(f"corps illisible dans l'encodage {encoding}") from None
    if _MARKUP_DECLARATION.search(text):
        raise EnvelopeError("DTD interdite")
    return document


def _encoding(body: bytes, charset: str | None) -> tuple[str, int]:
    """The Python codec that reads `body`, and where the document starts (after a BOM)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, len(bom)
    head = body[:4]
    if len(head) == 4:
        if head[:3] == b"\0\0\0" and head[3]:
            return "utf-32-be", 0
        if head[0] and head[1:] == b"\0\0\0":
            return "utf-32-le", 0
        if head[0] == 0 and head[1] and head[2] == 0:
            return "utf-16-be", 0
        if head[0] and head[1] == 0 and head[3] == 0:
            return "utf-16-le", 0
    family = "cp037" if head == _EBCDIC_START else "latin-1"
    match = _DECLARED.match(body[:256].decode(family))
    if match is not None:
        return _codec(match.group(1)), 0
    if family == "cp037":
        raise EnvelopeError("encodage EBCDIC sans déclaration")
    return _codec(charset) if charset else "utf-8", 0


@functools.lru_cache(maxsize=64)
def _codec(name: str) -> str:
    """The Python codec of a declared or HTTP charset name, or EnvelopeError. Cached: every
    zeep request declares "utf-8" (a refusal is not cached, and is cheap)."""
    try:
        codec = codecs.lookup(name.strip())
    except LookupError:
        raise EnvelopeError("encodage non pris en charge") from None
    if codec.name.replace("-", "_") in _NOT_CHARSETS:
        raise EnvelopeError("encodage non pris en charge")
    try:
        b"".decode(codec.name)  # refuses the codecs that are not text encodings (zlib, hex…)
    except LookupError:
        raise EnvelopeError("encodage non pris en charge") from None
    return codec.name
