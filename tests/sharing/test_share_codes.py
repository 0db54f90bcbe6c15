"""Share codes: the holder makes one, a third party checks it with the birth name and sees
driving rights but never points, the look is shown to the holder (and e-mailed when asked),
revocation and expiry end it, and every refusal is the same bytes."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from modern.db import db
from modern.settings import Settings
from modern.sharing import codes
from modern.sharing.hashing import Hasher
from modern.sharing.models import ShareCode, ShareLook
from modern.throttling import throttling
from tests.accounts.support import csrf_from, outbox
from tests.conftest import empty_database
from tests.consultation.support import demo_records, import_records, open_account, sign_in
from wsgi import create_app

PAGE = "/tableau-de-bord/partages"


def make_code(client: FlaskClient, motif: str = "location", duree: str = "21",
              **extra: str) -> tuple[str, Any]:
    token = csrf_from(client.get(PAGE).get_data(as_text=True))
    response = client.post(PAGE, data={"csrf_token": token, "motif": motif, "duree": duree,
                                       **extra})
    assert response.status_code == 201, response.get_data(as_text=True)
    found = re.search(r'id="code-partage">([A-Z0-9-]+)<', response.get_data(as_text=True))
    assert found
    return found.group(1), response


def check(client: FlaskClient, code: str, nom: str) -> Any:
    return client.post("/verifier/partage", data={"code": code, "nom": nom})


def test_a_third_party_sees_rights_and_never_points(
        app: Flask, client: FlaskClient, as_holder: Callable[..., dict[str, Any]]) -> None:
    record = as_holder(client, "poids_lourd")
    code, _ = make_code(client)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)

    third = app.test_client()
    # Typed loosely: lower case, spaces instead of hyphens, the name without its accents.
    response = check(third, code.lower().replace("-", " "), record["titulaire"]["nom"].lower())
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Catégorie C" in page and "Poids lourds" in page
    assert "Location de véhicule" in page and "Code valable jusqu" in page
    assert "Fichier national mis à jour le" in page
    shown = page[page.index('id="resultat"'):page.index("<form")]
    assert "point" not in shown.lower() and "solde" not in shown.lower()
    for movement in record["mouvements"]:
        assert not movement.get("libelle") or movement["libelle"] not in page

    api = third.post("/api/v1/partages/consultation",
                     json={"code": code, "nom": record["titulaire"]["nom"]})
    assert api.status_code == 200
    body = api.get_json()
    assert body["etat"] == record["etatPermis"]
    assert {c["code"] for c in body["categories"]} == {c["code"] for c in record["categories"]}
    assert not {"solde", "points", "historique", "mouvements"} & set(body)
    assert "solde" not in api.get_data(as_text=True)

    # The holder sees both looks: when, the purpose, the network only.
    mine = client.get(PAGE).get_data(as_text=True)
    assert mine.count("127.0.0.x") == 2
    listing = client.get("/api/v1/partages").get_json()["partages"]
    assert [len(s["consultations"]) for s in listing] == [2]
    assert {look["reseau"] for look in listing[0]["consultations"]} == {"127.0.0.x"}


def test_an_invalidated_licence_is_shown_invalid_without_its_balance(
        app: Flask, client: FlaskClient, as_holder: Callable[..., dict[str, Any]]) -> None:
    record = as_holder(client, "invalide")
    code, _ = make_code(client)
    nom = record["titulaire"]["nom"]
    third = app.test_client()
    body = third.post("/api/v1/partages/consultation", json={"code": code, "nom": nom}
                      ).get_json()
    assert body["etat"] == "INVALIDE" and body["etatLibelle"] == "Invalide"
    page = check(third, code, nom).get_data(as_text=True)
    shown = page[page.index('id="resultat"'):page.index("<form")]
    assert "Invalide" in shown and "solde" not in shown.lower()
    # The holder's own dashboard still says why.
    assert "solde nul" in client.get("/tableau-de-bord").get_data(as_text=True)


def _refusals(app: Flask, client: FlaskClient, record: dict[str, Any]) -> dict[str, Any]:
    nom = record["titulaire"]["nom"]
    revoked, _ = make_code(client, "employeur")
    expired, _ = make_code(client, "assurance")
    wrong_name, _ = make_code(client, "autre")
    shares = client.get("/api/v1/partages").get_json()["partages"]
    by_purpose = {s["motif"]: s["id"] for s in shares}
    token = csrf_from(client.get(PAGE).get_data(as_text=True))
    assert client.post(f"{PAGE}/{by_purpose['employeur']}/revocation",
                       data={"csrf_token": token}).status_code == 302
    with app.app_context():
        db.session.execute(update(ShareCode).where(ShareCode.id == by_purpose["assurance"])
                           .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        db.session.commit()
    return {"revoked": (revoked, nom), "expired": (expired, nom),
            "wrong name": (wrong_name, nom + "X"), "unknown": ("ABCD-EFGH-JKLM", nom)}


def test_revoked_expired_wrong_name_and_unknown_answer_the_same_bytes(
        app: Flask, client: FlaskClient, as_holder: Callable[..., dict[str, Any]]) -> None:
    record = as_holder(client, "sans_infraction")
    cases = _refusals(app, client, record)
    third = app.test_client()
    pages = {name: check(third, *args) for name, args in cases.items()}
    assert {r.status_code for r in pages.values()} == {404}
    assert len({r.get_data() for r in pages.values()}) == 1
    assert "inconnu, expiré ou révoqué" in pages["revoked"].get_data(as_text=True)
    apis = {name: third.post("/api/v1/partages/consultation", json={"code": code, "nom": nom})
            for name, (code, nom) in cases.items()}
    assert {r.status_code for r in apis.values()} == {404}
    bodies = {r.get_data() for r in apis.values()}
    # The problem document carries the request id: everything else is the same.
    assert len({re.sub(rb'"request_id":"[^"]*"', b"", body) for body in bodies}) == 1
    # Nothing recorded for the holder.
    with app.app_context():
        assert db.session.scalar(select(ShareLook.id)) is None


def test_a_code_is_stored_only_as_keyed_hashes(
        app: Flask, client: FlaskClient, as_holder: Callable[..., dict[str, Any]]) -> None:
    record = as_holder(client, "sans_infraction")
    code, _ = make_code(client)
    with app.app_context():
        [share] = db.session.scalars(select(ShareCode)).all()
        values = [str(getattr(share, c.key)) for c in ShareCode.__table__.columns]
    raw = codes.normalise(code)
    assert not any(raw in v or code in v for v in values)
    assert not any(record["titulaire"]["nom"].lower() in v.lower() for v in values)
    assert len(share.code_hash) == 64


def test_guessing_locks_a_code_after_failures_and_the_rate_limit_holds(
        make_settings: Callable[..., Settings], tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_settings(rate_limit_per_minute=100_000, lockout_threshold=3))
    app.config["TESTING"] = True
    try:
        record = demo_records()["sans_infraction"]
        import_records(app, [record])
        client = app.test_client()
        sign_in(client, open_account(app, record["numeroDossier"], "a@exemple.fr"))
        code, _ = make_code(client)
        third = app.test_client()
        for _ in range(3):
            assert check(third, code, "PERSONNE").status_code == 404
        # Locked now: even the right name gets the common refusal, until the lock lapses.
        locked = check(third, code, record["titulaire"]["nom"])
        assert locked.status_code == 404
        assert locked.get_data() == check(third, code, "PERSONNE").get_data()
        with app.app_context():
            assert db.session.scalar(select(ShareLook.id)) is None
    finally:
        empty_database(app)


def test_the_right_name_checked_while_concurrent_guesses_lock_the_code_is_refused(
        app: Flask, client: FlaskClient, as_holder: Callable[..., dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    record = as_holder(client, "poids_lourd")
    code, _ = make_code(client)
    with app.app_context():
        share_id = db.session.scalar(select(ShareCode.id))
    real = Hasher.digests

    def digests(self: Hasher, purpose: str, value: str) -> list[str]:
        if purpose == "nom":  # wrong names sent at the same time, counted meanwhile
            for _ in range(5):
                throttling().lockout.record_failure(f"partage:{share_id}", channel="partage")
        return real(self, purpose, value)

    monkeypatch.setattr(Hasher, "digests", digests)
    answer = check(app.test_client(), code, record["titulaire"]["nom"])
    assert answer.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(ShareLook.id)) is None


def test_refused_guesses_leave_no_counter_per_guessed_code(
        make_settings: Callable[..., Settings], tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each guessed code used to leave its own failure counter, kept 90 days: a store filled
    by guessing. Failures now count per share; unknown codes on one short-lived key."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_settings(rate_limit_per_minute=100_000))
    app.config["TESTING"] = True
    try:
        record = demo_records()["sans_infraction"]
        import_records(app, [record])
        client = app.test_client()
        sign_in(client, open_account(app, record["numeroDossier"], "a@exemple.fr"))
        code, _ = make_code(client)
        third = app.test_client()
        answers = {third.post("/api/v1/partages/consultation",
                              json={"code": f"GUES-S{n:03d}-ABCD", "nom": "X"}).status_code
                   for n in range(120)}
        answers |= {check(third, code, f"PERSONNE{n}").status_code for n in range(2)}
        assert answers == {404}
        with app.app_context():
            rows = db.session.execute(text(
                "SELECT key, expires_at FROM throttle_counter WHERE key LIKE 'lock:%'")).all()
            [share_id] = db.session.scalars(select(ShareCode.id)).all()
        kept = {key: expires - time.time() for key, expires in rows}
        assert kept.pop(f"lock:fail:partage:{share_id}") > 60  # the real code's count
        # The 120 unknown codes: counters gone within a minute.
        assert kept and all(key.startswith("lock:fail:partage:inconnu:") and seconds <= 60
                   for key, seconds in kept.items())
        # The right name still opens the code (two failures are below the lock threshold).
        assert check(third, code, record["titulaire"]["nom"]).status_code == 200
    finally:
        empty_database(app)


def test_the_rate_limit_per_address_applies(
        make_settings: Callable[..., Settings], tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_settings(rate_limit_per_minute=3))
    app.config["TESTING"] = True
    try:
        third = app.test_client()
        answers = [check(third, f"ABCD-EFGH-JKL{n}", "X").status_code for n in range(2, 7)]
        assert answers[:3] == [404] * 3 and answers[3:] == [429, 429]
        api = third.post("/api/v1/partages/consultation", json={"code": "A", "nom": "B"})
        assert api.status_code == 429 and "Retry-After" in api.headers
    finally:
        empty_database(app)


def test_the_rate_limit_counts_an_ipv6_client_by_its_64(
        make_settings: Callable[..., Settings], tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A client holding a /64 used to get a fresh counter for each of its addresses."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_settings(rate_limit_per_minute=3))
    app.config["TESTING"] = True
    try:
        third = app.test_client()

        def guess(address: str) -> int:
            return third.post("/api/v1/partages/consultation",
                              json={"code": "ABCD-EFGH-JKLM", "nom": "X"},
                              environ_base={"REMOTE_ADDR": address}).status_code

        rotating = [guess(f"2001:db8:1:2::{n + 100:x}") for n in range(6)]
        assert rotating[:3] == [404] * 3 and set(rotating[3:]) == {429}
        assert guess("2001:db8:1:2:ffff:ffff:ffff:ffff") == 429  # the same /64
        assert guess("2001:db8:1:3::1") == 404  # the next /64: another client
        # IPv4, also when written IPv4-mapped, still counts per address.
        assert [guess("192.0.2.7") for _ in range(3)] == [404] * 3
        assert guess("::ffff:192.0.2.7") == 429
        assert guess("192.0.2.8") == 404
    finally:
        empty_database(app)


def test_the_holder_is_told_by_email_when_asked(
        app: Flask, client: FlaskClient, as_holder: Callable[..., dict[str, Any]]) -> None:
    record = as_holder(client, "sans_infraction")
    page = client.get(PAGE).get_data(as_text=True)
    assert "sans_infraction@exemple.fr" in page
    code, _ = make_code(client, alerte="y")
    quiet, _ = make_code(client, "employeur")
    third = app.test_client()
    assert check(third, code, record["titulaire"]["nom"]).status_code == 200
    assert check(third, quiet, record["titulaire"]["nom"]).status_code == 200
    sent = [m for m in outbox(app, "sans_infraction@exemple.fr")
            if m.purpose == "partage_consultation"]
    assert len(sent) == 1
    assert "Location de véhicule" in sent[0].body and "127.0.0.x" in sent[0].body
    assert str(record["solde"]) + " point" not in sent[0].body


def test_limits_on_creation(app: Flask, client: FlaskClient,
                            as_holder: Callable[..., dict[str, Any]]) -> None:
    as_holder(client, "sans_infraction")
    token = csrf_from(client.get(PAGE).get_data(as_text=True))
    for duree in ("0", "31", "abc", ""):
        bad = client.post(PAGE, data={"csrf_token": token, "motif": "location", "duree": duree})
        assert bad.status_code == 422
        if duree in ("0", "31"):
            assert "de 1 à 30 jours" in bad.get_data(as_text=True)
    assert client.post(PAGE, data={"csrf_token": token, "duree": "5"}).status_code == 422
    assert client.post(PAGE, data={"motif": "location", "duree": "5"}).status_code == 400
    for _ in range(codes.MAX_ACTIVE):
        make_code(client)
    token = csrf_from(client.get(PAGE).get_data(as_text=True))
    sixth = client.post(PAGE, data={"csrf_token": token, "motif": "location", "duree": "5"})
    assert sixth.status_code == 409 and "révoquez-en" in sixth.get_data(as_text=True)
    api = client.post("/api/v1/partages", json={"motif": "autre", "dureeJours": 3})
    assert api.status_code == 409
    assert client.post("/api/v1/partages", json={"motif": "x", "dureeJours": 3}
                       ).status_code == 400


def test_the_api_creates_lists_and_revokes(
        app: Flask, client: FlaskClient, as_holder: Callable[..., dict[str, Any]]) -> None:
    record = as_holder(client, "sans_infraction")
    made = client.post("/api/v1/partages", json={"motif": "employeur", "dureeJours": 2})
    assert made.status_code == 201
    share = made.get_json()
    assert share["actif"] and share["motif"] == "employeur"
    third = app.test_client()
    nom = record["titulaire"]["nom"]
    assert third.post("/api/v1/partages/consultation",
                      json={"code": share["code"], "nom": nom}).status_code == 200
    after = client.delete(f"/api/v1/partages/{share['id']}")
    assert after.status_code == 200 and after.get_json()["partages"][0]["actif"] is False
    assert third.post("/api/v1/partages/consultation",
                      json={"code": share["code"], "nom": nom}).status_code == 404
    # Nobody else's code can be revoked, and anonymous requests are refused.
    assert client.delete("/api/v1/partages/999999").status_code == 404
    # A Unicode digit ("²", "٣") is no share number: the same 404, not a server error.
    for odd in ("%C2%B2", "%D9%A3", "1%C2%B2"):
        answer = client.delete(f"/api/v1/partages/{odd}")
        assert answer.status_code == 404 and answer.is_json, odd
        token = csrf_from(client.get(PAGE).get_data(as_text=True))
        assert client.post(f"{PAGE}/{odd}/revocation", data={"csrf_token": token}
                           ).status_code == 404
    assert third.post("/api/v1/partages", json={"motif": "autre", "dureeJours": 3}
                      ).status_code == 401


def test_openapi_documents_the_share_endpoints(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/partages"])
    consult = paths["/api/v1/partages/consultation"]["post"]
    assert consult["security"] == []
    assert "201" in paths["/api/v1/partages"]["post"]["responses"]


def test_codes_and_calendar_addresses_survive_a_secret_key_rotation(
        make_settings: Callable[..., Settings], tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Made under the old key, used under the new one with the old as a fallback: they work
    and are re-hashed, so that they keep working once the fallback is gone."""
    from modern.sharing.hashing import Hasher

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    old, new = "o" * 40, "n" * 40
    app = create_app(make_settings(secret_key=old, rate_limit_per_minute=100_000))
    app.config["TESTING"] = True
    try:
        record = demo_records()["un_point_recent"]
        import_records(app, [record])
        client = app.test_client()
        sign_in(client, open_account(app, record["numeroDossier"], "a@exemple.fr"))
        code, _ = make_code(client)
        token = csrf_from(client.get("/tableau-de-bord/calendrier").get_data(as_text=True))
        page = client.post("/tableau-de-bord/calendrier/abonnement",
                           data={"csrf_token": token}).get_data(as_text=True)
        found = re.search(r'<code id="adresse">[^<]*(/calendrier/[^<]+)</code>', page)
        assert found
        feed = found.group(1)
        nom = record["titulaire"]["nom"]
        for settings in ({"secret_key": new, "secret_key_fallbacks": (old,)},
                         {"secret_key": new}):
            rotated = create_app(make_settings(rate_limit_per_minute=100_000, **settings))
            third = rotated.test_client()
            assert check(third, code, nom).status_code == 200
            assert third.get(feed).status_code == 200
        with rotated.app_context():
            [share] = db.session.scalars(select(ShareCode)).all()
            assert share.code_hash == Hasher(new).digest("code", codes.normalise(code))
    finally:
        empty_database(app)
