"""Property-based fuzzing of the registry extract reader: whatever the bytes, every non-blank
line ends up either as a licence or as a rejection with its line number, and nothing raises."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from modern.licences.importer import parse_lines

VALID = json.dumps({
    "numeroDossier": "991091010000",
    "titulaire": {"nom": "BERNARD", "prenoms": "Hélène", "dateNaissance": "1957-02-18"},
    "etatPermis": "VALIDE", "dateMiseAJour": "2026-11-17T03:00:00Z", "solde": 12,
}).encode()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["numeroDossier", "titulaire", "etatPermis", "dateMiseAJour", "solde",
                         "mouvements", "categories", "nom", "type", "points", "x"]),
        children, max_size=6),
    max_leaves=20)


def _outcomes(data: bytes) -> tuple[int, list[int]]:
    rejected: list[int] = []
    records = list(parse_lines(io.BytesIO(data), lambda number, _reason: rejected.append(number)))
    return len(records), rejected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_the_reader(data: bytes) -> None:
    accepted, rejected = _outcomes(data)
    lines = [line for line in data.split(b"\n") if line.strip()]
    assert accepted + len(rejected) == len(lines)
    assert rejected == sorted(set(rejected))


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values | st.just(json.loads(VALID)), min_size=1, max_size=8))
def test_json_of_any_shape_is_accepted_or_rejected_line_by_line(values: list[object]) -> None:
    data = b"\n".join(json.dumps(value).encode() for value in values)
    accepted, rejected = _outcomes(data)
    assert accepted + len(rejected) == len(values)
    assert accepted >= sum(1 for value in values if value == json.loads(VALID))
