"""A seal counts only within its key's lifetime and its document's validity period: a key
stolen after its retirement cannot forge documents that either verifier calls valid."""

from __future__ import annotations

import datetime as dt
import json

from flask import Flask
from flask.testing import FlaskClient

from modern.documents import offline_verifier
from modern.documents.keys import KeyRing
from modern.documents.pdf import printable_code
from modern.documents.seal import ATTESTATION, seal
from modern.documents.verification import check
from modern.points.rules import add_months
from modern.points.services import today_in_paris

FIELDS = {"ID": "X", "6G": "DUPONT", "E5": "VALIDE", "E6": "B C D"}


def _ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d%m%Y")


def _offline(client: FlaskClient, code: str, today: dt.date) -> offline_verifier.Verdict:
    published = client.get("/.well-known/cles-cachet.json").get_data()
    return offline_verifier.verify(code, offline_verifier.parse_keys(published), today)


def _retired_key(app: Flask) -> tuple[KeyRing, str, dt.date]:
    ring: KeyRing = app.extensions["seal_keys"]
    old = ring.ensure_active()
    ring.rotate()
    retired = ring.state(old).retired
    assert retired is not None
    return ring, old, retired.date()


def test_a_seal_signed_after_its_key_was_retired_is_refused_everywhere(
        app: Flask, client: FlaskClient) -> None:
    ring, old, retired = _retired_key(app)
    later = retired + dt.timedelta(days=30)
    late = seal(ATTESTATION, {**FIELDS, "E9": _ddmmyyyy(add_months(later, 4))}, old,
                ring.private_key(old), later)
    today = today_in_paris()
    assert not check(late, ring, today).valid
    assert "retrait" in check(late, ring, today).reason
    api = client.post("/api/v1/verifications", json={"code": late}).get_json()
    assert api["authentique"] is False and api["valide"] is False
    page = client.post("/verifier", data={"code": printable_code(late)})
    assert page.status_code == 422 and "retrait" in page.get_data(as_text=True)
    assert _offline(client, late, today).status == "refusé"


def test_a_back_dated_seal_valid_for_decades_is_refused_everywhere(
        app: Flask, client: FlaskClient) -> None:
    # Dated on the retirement day, so the key's retirement does not catch it; its end of
    # validity, though, is far past the 4 months a document is valid from its signature.
    ring, old, retired = _retired_key(app)
    forged = seal(ATTESTATION, {**FIELDS, "E9": "01012099"}, old, ring.private_key(old),
                  retired)
    today = today_in_paris()
    outcome = check(forged, ring, today)
    assert not outcome.authentic and "durée de validité" in outcome.reason
    api = client.post("/api/v1/verifications", json={"code": forged}).get_json()
    assert api["authentique"] is False
    verdict = _offline(client, forged, today)
    assert verdict.status == "refusé" and "durée de validité" in verdict.reason
    # The same seal with an honest end of validity is accepted (the rule is not too wide).
    honest = seal(ATTESTATION, {**FIELDS, "E9": _ddmmyyyy(add_months(retired, 4))}, old,
                  ring.private_key(old), retired)
    assert check(honest, ring, today).valid and _offline(client, honest, today).valid


def test_a_retired_key_counts_no_more_past_its_published_exp(
        app: Flask, client: FlaskClient) -> None:
    ring, old, retired = _retired_key(app)
    code = seal(ATTESTATION, {**FIELDS, "E9": _ddmmyyyy(add_months(retired, 4))}, old,
                ring.private_key(old), retired)
    published = client.get("/.well-known/cles-cachet.json").get_json()
    exp = {k["kid"]: k for k in published["keys"]}[old]["exp"]
    after_exp = dt.datetime.fromtimestamp(exp, dt.UTC).date() + dt.timedelta(days=2)
    keys = offline_verifier.parse_keys(json.dumps(published).encode())
    verdict = offline_verifier.verify(code, keys, after_exp)
    assert verdict.status == "refusé" and "ne fait plus foi" in verdict.reason
    outcome = check(code, ring, after_exp)
    assert not outcome.authentic and "ne fait plus foi" in outcome.reason
    # The day before its exp, the same document is merely expired or valid, not refused.
    assert offline_verifier.verify(code, keys, after_exp - dt.timedelta(days=3)).status in (
        "valide", "expiré")


def test_a_seal_dated_before_its_key_existed_is_refused_online(
        app: Flask, client: FlaskClient) -> None:
    ring: KeyRing = app.extensions["seal_keys"]
    key = ring.ensure_active()
    before = today_in_paris() - dt.timedelta(days=30)
    code = seal(ATTESTATION, {**FIELDS, "E9": _ddmmyyyy(add_months(before, 4))}, key,
                ring.private_key(key), before)
    outcome = check(code, ring, today_in_paris())
    assert not outcome.authentic and "mise en service" in outcome.reason
    assert _offline(client, code, today_in_paris()).status == "refusé"
