"""Every character encoding against the SOAP endpoint: a DTD, an external parameter entity
to a named pipe and to /dev/zero, and a billion laughs, written in each encoding Python
knows (UTF-16/32 in both byte orders with and without BOM, the EBCDIC code pages, ISO-2022,
UTF-7, the Windows, Mac and ISO code pages…), declared in the body, given by the HTTP
`charset` only, or neither. Each must be refused with a contract fault, the pipe never opened
for reading; and the holder's own request written in each encoding libxml2 could also read
must still be answered. (How fast each refusal is: bench/soap_attacks.py.)
"""

from __future__ import annotations

import codecs
import encodings
import os
import pkgutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from tests.compat.attacks import has_reader, parameter_entity
from tests.compat.conftest import Holder, envelope, fault_code, solde_request
from tests.fuzz.budget import fuzz


def _text_codecs() -> list[str]:
    """Every codec of this Python that turns text into bytes and can write markup."""
    names = {module.name for module in pkgutil.iter_modules(encodings.__path__)}
    found = set()
    for name in names:
        try:
            info = codecs.lookup(name)
            "<?xml".encode(info.name)
            b"".decode(info.name)
        except (LookupError, UnicodeError, TypeError, ValueError):
            continue
        found.add(info.name)
    return sorted(found)


CODECS = _text_codecs()


def _laughs() -> str:
    entities = ['<!ENTITY a0 "lollollollollollollollollollol">']
    entities += [f"<!ENTITY a{i} \"{f'&a{i - 1};' * 10}\">" for i in range(1, 10)]
    return f"<!DOCTYPE s:Envelope [{''.join(entities)}]>" + envelope("&a9;").decode().split(
        "?>", 1)[1]


def _attacks(fifo: Path) -> dict[str, str]:
    return {
        "internal DTD": '<!DOCTYPE s:Envelope [<!ENTITY a "b">]>'
                        + envelope("&a;").decode().split("?>", 1)[1],
        "parameter entity to a named pipe": parameter_entity(f"file://{fifo}"),
        "parameter entity to /dev/zero": parameter_entity("file:///dev/zero"),
        "external DTD": f'<!DOCTYPE s:Envelope SYSTEM "file://{fifo}">'
                        + envelope("x").decode().split("?>", 1)[1],
        "billion laughs": _laughs(),
    }


def _bodies(text: str, codec: str) -> Iterator[tuple[str, bytes, str]]:
    """(how, body, content type) for one text in one codec: declared, HTTP charset only,
    neither, and with a byte order mark where the codec has one; none where the codec cannot
    write the text (a code page without "%" carries no parameter entity)."""
    try:
        text.encode(codec)
    except UnicodeError:
        return
    declared = f'<?xml version="1.0" encoding="{codec}"?>' + text
    yield "declared", declared.encode(codec), "text/xml"
    yield "HTTP charset", text.encode(codec), f"text/xml; charset={codec}"
    yield "undeclared", text.encode(codec), "text/xml"
    for bom_codec in ("utf-16", "utf-32", "utf-8-sig"):
        if codec.startswith(bom_codec.split("-sig")[0].replace("-", "_").replace("_", "-")):
            yield "with BOM", text.encode(bom_codec), "text/xml"



def _post(app: Flask, body: bytes, content_type: str) -> Any:
    """The answer, or None when none came within 10 s (a parser blocked on the pipe)."""
    result: dict[str, Any] = {}

    def run() -> None:
        result["response"] = app.test_client().post(
            "/telepoints/ws", data=body, headers={"Content-Type": content_type})

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    return result.get("response")


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "secret"
    os.mkfifo(path)
    yield path
    has_reader(path)  # opening it for writing releases a parser blocked on it, if any


def test_the_list_covers_the_encodings_of_the_issue() -> None:
    for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037", "cp500",
                  "cp1140", "iso2022_jp", "utf-7", "iso8859-1", "cp1252", "utf-8"):
        assert codecs.lookup(codec).name in CODECS, codec
    assert len(CODECS) > 80


def test_every_encoding_of_every_attack_is_refused(app: Flask, holder: Holder,
                                                  fifo: Path) -> None:
    failures = []
    attacks = _attacks(fifo)
    for codec in CODECS:
        for attack, text in attacks.items():
            for how, body, content_type in _bodies(text, codec):
                response = _post(app, body, content_type)
                case = f"{attack} in {codec}, {how}"
                if response is None:
                    failures.append(f"{case}: no answer")
                elif fault_code(response.data) != "REQUETE_INVALIDE" \
                        or b"lollol" in response.data:
                    failures.append(f"{case}: {response.status_code} {response.data[:200]!r}")
                if has_reader(fifo):
                    failures.append(f"{case}: the named pipe was opened")
    assert failures == []
    assert app.test_client().get("/healthz").status_code == 200


# The encodings libxml2 itself reads (its built-in ones and the usual iconv ones): a holder's
# request written in any of them is answered. Those it does not know are refused whatever the
# text, which a legacy client would have met with the old service too.
READABLE = ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
            "iso8859-1", "iso8859-15", "cp1252", "ascii", "cp037", "cp500", "cp1140",
            "iso2022_jp", "utf-7", "shift_jis", "euc_jp", "gb18030", "koi8-r", "mac-roman"]


@pytest.mark.parametrize("codec", READABLE)
def test_a_request_in_a_readable_encoding_is_answered(app: Flask, holder: Holder,
                                                      codec: str) -> None:
    text = envelope(solde_request(holder.numero, holder.code)).decode().split("?>", 1)[1]
    for how, body, content_type in _bodies(text, codec):
        if how == "undeclared" and codecs.lookup(codec).name not in (
                "utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
            continue  # XML 1.0 appendix F: only these can be recognised undeclared
        response = _post(app, body, content_type)
        assert response is not None and response.status_code == 200, (how, response.data)


@fuzz(150)
@given(codec=st.sampled_from(CODECS), data=st.data())
def test_any_placement_of_a_markup_declaration_is_refused(app: Flask, holder: Holder,
                                                          codec: str, data: Any) -> None:
    """A declaration anywhere (before the envelope, in the Body, in a header, after the
    end), with any whitespace inside: refused in every encoding."""
    declaration = data.draw(st.sampled_from(
        ['<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///dev/zero"> %p;]>', "<!ENTITY a 'b'>",
         "<!ELEMENT x ANY>", '<!ATTLIST x y CDATA "z">', "<![INCLUDE[ x ]]>",
         "<!NOTATION n SYSTEM 'x'>"]))
    text = envelope(solde_request(holder.numero, holder.code)).decode().split("?>", 1)[1]
    cut = data.draw(st.integers(0, len(text)))
    body = text[:cut] + declaration + text[cut:]
    for _how, payload, content_type in _bodies(body, codec):
        response = _post(app, payload, content_type)
        assert response is not None
        assert fault_code(response.data) == "REQUETE_INVALIDE", (codec, cut, declaration)
