"""A pseudo-language to find the texts that are not in the catalogue.

Every text marked for translation is rendered, in the language `eo` made here for the tests, as
`⟦text⟧`. A page rendered in it must show nothing a person reads outside those brackets but
data (figures, dates, file numbers, names, addresses) and the names of things that are not
translated (FranceConnect, the Republic's logo): any other text was written in a template or
in the code without going through the catalogue, and an English reader would see it in French.
"""

from __future__ import annotations

import functools
import io
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parents[2]
PSEUDO = "eo"
OPEN, CLOSE = "⟦", "⟧"

# Names that stay as they are in every language (brands, the State's logo, languages' own names).
NAMES = {"FranceConnect", "République", "Française", "Télépoints", "Français", "English",
         "FR", "EN", PSEUDO.upper(), "Mes points permis"}
# Attributes a person reads or hears (screen readers).
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "aria-description")
# What a text may be made of when it is data: figures, dates, times, masked numbers, signs.
_DATA = re.compile(r"^[\d\s.,:;/+\-−–—()%°*•·×#€@_'\"«»!?…|<>=\[\]⟦⟧]*$")
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_URL = re.compile(r"^(https?://|/)\S*$")
# The innermost marked text: a marked text may hold others (a label inside a sentence).
_MARKED = re.compile(re.escape(OPEN) + f"[^{OPEN}{CLOSE}]*" + re.escape(CLOSE))
_HEX = re.compile(r"^[0-9a-f]{8,}$")  # request references
_SEPARATOR = "\x00"


def marked_messages(folder: Path) -> list[Any]:
    """What `pybabel extract` finds in the code and templates, as the README says to run it
    (`folder` holds the template it writes)."""
    template = folder / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "--quiet", "extract",
                    "-F", "babel.cfg", "-k", "N_", "-o", str(template), "."],
                   cwd=ROOT, check=True)
    with template.open("rb") as source:
        return list(read_po(source))


@functools.cache
def _pseudo_mo() -> bytes:
    """The compiled pseudo catalogue, extracted once per test session (the sources do not
    change while the tests run)."""
    catalogue = Catalog(locale=PSEUDO)
    with tempfile.TemporaryDirectory() as scratch:
        messages = marked_messages(Path(scratch))
    for message in messages:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            message.string = tuple(f"{OPEN}{text}{CLOSE}" for text in message.id)
        else:
            message.string = f"{OPEN}{message.id}{CLOSE}"
        catalogue[message.id] = message
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    return compiled.getvalue()


def build_pseudo_catalogue(folder: Path) -> Path:
    """`folder/eo/LC_MESSAGES/messages.mo`: each marked text translated as `⟦text⟧`."""
    target = folder / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    (target / "messages.mo").write_bytes(_pseudo_mo())
    return folder


@contextmanager
def pseudo_language(app: Flask, folder: Path) -> Iterator[None]:
    """Every page of `app` rendered in the pseudo-language while inside the block."""
    babel = app.extensions["babel"]
    before = (babel.translation_directories, babel.locale_selector)
    babel.translation_directories = [str(build_pseudo_catalogue(folder))]
    babel.locale_selector = lambda: PSEUDO
    for domain_cache in _caches(app):
        domain_cache.pop((PSEUDO, "messages"), None)
    try:
        yield
    finally:
        babel.translation_directories, babel.locale_selector = before


def _caches(app: Flask) -> Iterable[dict[Any, Any]]:
    from flask_babel import get_domain

    with app.test_request_context():
        yield get_domain().cache


def _is_data(text: str, data: Iterable[str]) -> bool:
    if _DATA.match(text) or _EMAIL.match(text) or _URL.match(text) or _HEX.match(text) \
            or text in NAMES:
        return True
    rest = text
    for value in sorted(data, key=len, reverse=True):
        if value:
            rest = rest.replace(value, " ")
    for name in NAMES:
        rest = rest.replace(name, " ")
    return bool(_DATA.match(rest))


def _unmark(text: str, by: str) -> str:
    """`text` with each marked text, nested ones included, replaced `by`."""
    while True:
        unmarked = _MARKED.sub(by, text)
        if unmarked == text:
            return text
        text = unmarked


def _pieces(element: Any) -> Iterator[str]:
    """The element's texts in reading order, script and style left out."""
    if element.tag in ("script", "style", "template"):
        return
    if element.text:
        yield element.text
    for child in element:
        if isinstance(child.tag, str):
            yield from _pieces(child)
        if child.tail:
            yield child.tail


def unmarked_texts(page: str, data: Iterable[str] = ()) -> list[str]:
    """The texts of an HTML page's body (and the attributes people read) that are neither in
    the catalogue nor data. A marked text may hold markup (`{% trans %}` with a link): the
    brackets are matched across the elements."""
    data = tuple(data)
    body = lxml_html.document_fromstring(page).find("body")
    if body is None:
        return []
    flow = _SEPARATOR.join(_pieces(body))
    texts = _unmark(flow, _SEPARATOR).split(_SEPARATOR)
    for element in body.iter():
        if isinstance(element.tag, str):
            texts += [_unmark(element.get(name) or "", " ") for name in READ_ATTRIBUTES]
            if element.tag == "input" and element.get("type") in ("submit", "button"):
                texts.append(_unmark(element.get("value") or "", " "))
    texts = [" ".join(text.split()) for text in texts]
    return [text for text in texts if text and not _is_data(text, data)]


def unmarked_messages(payload: Any, keys: Iterable[str] = ("title", "detail", "message",
                                                            "messages", "errors")) -> list[str]:
    """The texts for people in a JSON answer (problem details, validation messages) that are
    not in the catalogue. Codes (upper-case identifiers) are for programs and are skipped."""
    wanted = set(keys)
    found: list[str] = []

    def walk(value: Any, readable: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, readable or key in wanted)
        elif isinstance(value, list):
            for item in value:
                walk(item, readable)
        elif (isinstance(value, str) and readable and not re.fullmatch(r"[A-Z0-9_]+", value)
              and not _is_data(_unmark(value, " ").strip(), ())):
            found.append(value)

    walk(json.loads(payload) if isinstance(payload, str | bytes) else payload, False)
    return found
