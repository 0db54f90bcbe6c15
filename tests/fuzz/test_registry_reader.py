"""Property-based fuzzing of the registry extract's reader and import (contract section 3):
arbitrary bytes, JSON of any shape, and valid licences of the sample and of the demo generator
mutated field by field.

What an operator and a holder rely on: every non-blank line ends up either as a licence or as
a rejection with its line number and a one-line reason, and nothing raises; a line's outcome
does not depend on its neighbours; the import stores every licence it accepted (a bad line
never costs the batch of 2,000 it travels in); and a licence the import accepted can be read by
its holder on the legacy contract.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import assume, example, given
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy import String, select

from modern.db import db
from modern.licences.generator import generate
from modern.licences.importer import import_extract, parse_lines
from modern.licences.models import Licence
from modern.licences.record import LicenceRecord
from modern.points.rules import assess
from tests.compat.conftest import NOW, TNS, envelope, issue, post
from tests.conftest import SAMPLES
from tests.fuzz.budget import fuzz

VALID = json.dumps({
    "numeroDossier": "991091010000",
    "titulaire": {"nom": "BERNARD", "prenoms": "Hélène", "dateNaissance": "1957-02-18"},
    "etatPermis": "VALIDE", "dateMiseAJour": "2026-11-17T03:00:00Z", "solde": 12,
}).encode()


def _seeds() -> list[dict[str, Any]]:
    path = SAMPLES / "registry-extract.jsonl"
    sample = [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()] \
        if path.exists() else []
    return sample + list(generate(40, seed=11, as_of=NOW.date()))


SEEDS = _seeds()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["numeroDossier", "titulaire", "etatPermis", "dateMiseAJour", "solde",
                         "mouvements", "categories", "nom", "type", "points", "x"]),
        children, max_size=6),
    max_leaves=20)

# Values on the edges of what a field of the record may hold.
EDGE_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 12, 13, 2**31, 2**63, -(2**63) - 1, 1.5, 1e308, "", " ",
    "x" * 101, "x" * 201, "\x00", "A\x00B", "\x01\x1f", "\ufffe", "\ud800", "é" * 100, [], {},
    "0001-01-01", "9999-12-31", "1900-01-01", "2024-02-29", "2023-02-29", "2026-13-01",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9999-12-31T23:30:00Z",
    "2026-11-17T03:00:00", "2026-11-17T03:00:00.123456789Z", "2026-11-17T03:00:00+23:59",
    "2026-11-17", "17/11/2026", "VALIDE", "SUSPENDU", "ANNULE", "RETRAIT", "STAGE",
    "RESTITUTION", "INVALIDATION", "C1", "DELIT", "SIX_MOIS", "B", "BE", "ZZ", "ab 12345",
    "991091010000", "99 1091 0100 00", "１２３４５",
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
offsets = st.builds(dt.timezone, st.timedeltas(min_value=-dt.timedelta(hours=23, minutes=59),
                                               max_value=dt.timedelta(hours=23, minutes=59))
                    .map(lambda delta: dt.timedelta(minutes=delta // dt.timedelta(minutes=1))))


def _same_kind(value: Any) -> st.SearchStrategy[Any]:
    """Another value of the field's own type, anywhere in that type's range: a date for a
    date, a zoned time for a time, any text for a text."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(-2, 14)
    if isinstance(value, str) and DATE.fullmatch(value):
        return st.dates().map(dt.date.isoformat)
    if isinstance(value, str) and DATE.match(value):
        return st.datetimes(timezones=offsets).map(dt.datetime.isoformat)
    if isinstance(value, str):
        return st.text(max_size=30) | st.text(min_size=90, max_size=210)
    return st.sampled_from(EDGE_VALUES)


ANY_CHANGE = ("same kind", "same kind", "replace", "delete", "add")


@st.composite
def mutated_records(draw: st.DrawFn, actions: tuple[str, ...] = ANY_CHANGE,
                    most: int = 3) -> dict[str, Any]:
    """A valid licence with one to `most` of its fields replaced (by a value of the same type,
    or by anything), removed or added."""
    record = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, most))):
        path = draw(st.sampled_from([p for p in _paths(record) if p]))
        parent = record
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(actions))
        if action == "same kind":
            parent[path[-1]] = draw(_same_kind(parent[path[-1]]))
        elif action == "replace":
            parent[path[-1]] = draw(st.sampled_from(EDGE_VALUES) | json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["x", "solde", "probatoire", "suspensions"]))] = \
                draw(st.sampled_from(EDGE_VALUES))
    return record


def _line(record: Any) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass")


lines = st.one_of(
    st.sampled_from(SEEDS).map(_line),
    mutated_records().map(_line),
    json_values.map(_line),
    st.binary(max_size=200).map(lambda raw: raw.replace(b"\n", b"")),
)


def _outcomes(data: bytes) -> tuple[list[LicenceRecord], list[tuple[int, str]]]:
    rejected: list[tuple[int, str]] = []
    records = list(parse_lines(io.BytesIO(data), lambda number, reason: rejected.append(
        (number, reason))))
    return records, rejected


def _alone(line: bytes) -> LicenceRecord | None:
    records, rejected = _outcomes(line)
    assert len(records) + len(rejected) == 1
    return records[0] if records else None


# A name in Latin-1 inside a UTF-8 extract: msgspec raised UnicodeDecodeError, which stopped
# the whole import.
LATIN1_NAME = VALID.replace(b"BERNARD", "BÉRNARD".encode("latin-1"))


@fuzz(300)
@given(st.binary(max_size=2000))
@example(LATIN1_NAME + b"\n" + VALID)
def test_arbitrary_bytes_never_crash_the_reader(data: bytes) -> None:
    accepted, rejected = _outcomes(data)
    non_blank = [line for line in data.split(b"\n") if line.strip()]
    assert len(accepted) + len(rejected) == len(non_blank)
    assert [number for number, _ in rejected] == sorted({number for number, _ in rejected})


@fuzz(200)
@given(st.lists(json_values | st.just(json.loads(VALID)), min_size=1, max_size=8))
def test_json_of_any_shape_is_accepted_or_rejected_line_by_line(values: list[object]) -> None:
    data = b"\n".join(json.dumps(value).encode() for value in values)
    accepted, rejected = _outcomes(data)
    assert len(accepted) + len(rejected) == len(values)
    assert len(accepted) >= sum(1 for value in values if value == json.loads(VALID))


@fuzz(150)
@given(st.lists(lines, min_size=1, max_size=10), st.sampled_from([b"\n", b"\r\n"]))
def test_each_line_has_the_outcome_it_has_alone(items: list[bytes], end: bytes) -> None:
    """Every line is accepted or rejected exactly as it would be alone in its file, and a
    rejection names its own line with a one-line reason."""
    accepted, rejected = _outcomes(end.join(items) + end)
    reasons = dict(rejected)
    records = iter(accepted)
    for number, line in enumerate(items, 1):
        if not line.strip():
            continue
        expected = _alone(line)
        if expected is None:
            assert reasons.get(number), f"line {number} is neither accepted nor rejected"
            assert "\n" not in reasons[number]
        else:
            assert number not in reasons
            assert next(records) == expected
    assert next(records, None) is None


LIMITS = {column.name: column.type.length for column in Licence.__table__.columns
          if isinstance(column.type, String)}


def _servable(record: LicenceRecord) -> None:
    """What storing and reading an accepted licence needs: text the database and XML can
    hold, within its column, a time that converts to UTC, and the points rules' verdict."""
    columns = {"numero": record.numero_dossier, "nom": record.titulaire.nom,
               "prenoms": record.titulaire.prenoms, "etat": record.etat_permis}
    for name, value in columns.items():
        assert len(value) <= LIMITS[name], name
    texts = [record.titulaire.nom, record.titulaire.prenoms, record.titulaire.lieu_naissance or ""]
    texts += [text for category in record.categories for text in category.restrictions]
    texts += [text or "" for movement in record.mouvements
              for text in (movement.id, movement.libelle, movement.lieu)]
    for text in texts:
        etree.Element("t").text = text  # raises on what XML 1.0 cannot carry (NUL, controls)
        text.encode("utf-8")  # lone surrogates
    record.date_mise_a_jour.astimezone(dt.UTC)
    assess(record, NOW.date())


@fuzz(300)
@given(mutated_records(("same kind",), 1) | mutated_records())
@example({**json.loads(VALID), "dateMiseAJour": "0001-01-01T00:00:00+01:00"})
@example({**json.loads(VALID), "titulaire": {**json.loads(VALID)["titulaire"], "nom": "A\x00B"}})
@example({**json.loads(VALID), "titulaire": {**json.loads(VALID)["titulaire"], "nom": "\x0c"}})
def test_an_accepted_licence_can_be_stored_and_read(record: dict[str, Any]) -> None:
    accepted, rejected = _outcomes(_line(record))
    if accepted:
        _servable(accepted[0])
    else:
        assert len(rejected) == 1 and rejected[0][1]


@fuzz(40)
@given(st.lists(lines, min_size=1, max_size=12))
@example([_line(SEEDS[0]), _line({**SEEDS[1], "dateMiseAJour": "9999-12-31T23:59:59-01:00"}),
          _line(SEEDS[2])])
@example([_line(SEEDS[0]), _line({**SEEDS[1], "titulaire": {**SEEDS[1]["titulaire"],
                                                             "prenoms": "\x00"}})])
@example([_line(SEEDS[0]), LATIN1_NAME, _line(SEEDS[2])])
def test_the_import_stores_every_licence_it_accepts(app: Flask, items: list[bytes]) -> None:
    """The real import, on the test database (PostgreSQL in the second CI pass): it ends, its
    summary adds up, and every accepted licence is stored as it was read."""
    data = b"\n".join(items) + b"\n"
    expected, _ = _outcomes(data)
    rejected: list[int] = []
    with app.app_context():
        db.session.execute(Licence.__table__.delete())
        db.session.commit()
        summary = import_extract(db.session, io.BytesIO(data),
                                 lambda number, _reason: rejected.append(number))
        stored = {row.numero: row.record() for row in db.session.scalars(select(Licence))}
    assert summary.read == sum(1 for item in items if item.strip())
    assert summary.rejected == len(rejected)
    latest: dict[str, LicenceRecord] = {}
    for record in expected:  # a licence delivered twice: the newer delivery wins
        known = latest.get(record.numero_dossier)
        if known is None or record.date_mise_a_jour > known.date_mise_a_jour:
            latest[record.numero_dossier] = record
    assert stored == latest


@fuzz(25)
@given(mutated_records(("same kind",), 1))
@example({**SEEDS[0], "titulaire": {**SEEDS[0]["titulaire"], "lieuNaissance": "Lyon\x01"}})
@example({**SEEDS[0], "titulaire": {**SEEDS[0]["titulaire"], "nom": "\x0c"}})  # JSON's "\f"
def test_the_holder_of_an_accepted_licence_gets_its_balance(client: FlaskClient, app: Flask,
                                                            record: dict[str, Any]) -> None:
    """On the legacy contract: ConsulterSolde and ConsulterReleveRestreint answer the holder of
    any licence the import accepted, never SERVICE_INDISPONIBLE."""
    accepted, _ = _outcomes(_line(record))
    assume(accepted)
    numero = accepted[0].numero_dossier
    with app.app_context():
        db.session.execute(Licence.__table__.delete())
        db.session.commit()
        import_extract(db.session, io.BytesIO(_line(record)), lambda *_: None)
    code = issue(app, numero)
    for operation in ("ConsulterSolde", "ConsulterReleveRestreint"):
        response = post(client, envelope(
            f"<tp:{operation}><tp:numeroDossier>{numero}</tp:numeroDossier>"
            f"<tp:codeConfidentiel>{code}</tp:codeConfidentiel></tp:{operation}>"))
        assert response.status_code == 200, response.data
        assert etree.fromstring(response.data).find(f".//{{{TNS}}}{operation}Reponse") \
            is not None
