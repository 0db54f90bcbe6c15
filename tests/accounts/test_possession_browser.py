"""The employer, in headless Chromium: with what a licence and an attestation print, an
account is opened, confirmed and signed in to, and shows no points, no history, no alerts,
on any page or API route (`/api/v1/*` taken route by route from the application's URL map).
Then the holder's "ce n'est pas moi" link closes that account, and a FranceConnect sign-in of
the holder takes the file over from the next one. axe finds no serious violation."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from flask import Flask

from modern.consultation.api import OPERATIONS
from modern.consultation.documents import OFFERS
from modern.db import db
from modern.documents.pdf import build, printable_code
from modern.documents.seal import ATTESTATION
from modern.licences.importer import import_extract
from modern.licences.models import Licence
from telepoints_compat.contacts.services import save_contact
from tests.accounts import test_browser as shared
from tests.accounts.support import HELENE, PASSWORD, link_in, outbox
from tests.accounts.test_browser import Live, franceconnect_button, sign_in
from tests.browser import assert_accessible

# The account browser tests' fixtures: the service and the local FranceConnect on loopback.
browser, live, page = shared.browser, shared.live, shared.page
pytestmark = pytest.mark.browser
MOBILE = "+33639981234"
EMPLOYER = "rh@transports-exemple.fr"
BALANCE = "Solde : 7 points"  # Hélène's, as the dashboard shows it to her
HOLDER_MARKERS = (BALANCE, "Historique des dix dernières années",
                  "Prochaines restitutions de points", "Choisir mes alertes")


def prepare(app: Flask) -> str:
    """Hélène's file with a balance of 7 and her mobile number on file; returns the code of
    an attestation she handed to her employer."""
    with app.app_context():
        # A later delivery of the national file: the import keeps the newest.
        record = {**HELENE.record(solde=7), "dateMiseAJour": "2026-11-27T03:00:00Z"}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        import_extract(db.session(), io.BytesIO(line.encode()), lambda n, r: None)
        save_contact(db.session(), HELENE.numero, mobile=MOBILE, address=None, source="legacy",
                     now=dt.datetime.now(dt.UTC))
        db.session.commit()
        licence = db.session.get(Licence, HELENE.numero)
        assert licence is not None
        document = build(licence.record(), ATTESTATION, app.extensions["seal_keys"],
                         dt.date.today())
        return printable_code(document.code)


def read_attestation(page: Any, code: str) -> dict[str, str]:
    """What the employer reads from the attestation, through the public verification."""
    answer = page.request.post("/api/v1/verifications", data={"code": code})
    assert answer.status == 200
    return {field["libelle"]: field["valeur"] for field in answer.json()["champs"]}


def sign_up_as_employer(page: Any, live: Live, fields: dict[str, str]) -> None:
    page.goto("/compte/creer")
    page.get_by_label("Numéro de dossier").fill(fields["Numéro de dossier"])
    page.get_by_label("Nom de naissance").fill(fields["Nom"])
    page.get_by_label("Prénoms").fill(fields["Prénoms"])
    birth = fields["Date de naissance"]
    if re.fullmatch(r"\d\d/\d\d/\d{4}", birth):
        birth = "-".join(reversed(birth.split("/")))
    page.locator("#date_naissance").fill(birth)
    page.locator("#email").fill(EMPLOYER)
    page.locator("#password").fill(PASSWORD)
    page.locator("#cgu").check(force=True)
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url("**/compte/creer/verifiez-vos-courriels")
    page.goto(link_in(live.app, EMPLOYER, "/compte/confirmation/"))
    page.get_by_role("button", name="Confirmer mon adresse et activer mon compte").click()
    page.wait_for_url("**/compte/connexion")
    sign_in(page, EMPLOYER, PASSWORD)
    page.wait_for_url("**/tableau-de-bord")


def pages_of(app: Flask) -> list[str]:
    """Every GET page of the application a browser can open without parameters, and the
    document downloads."""
    paths = [rule.rule for rule in app.url_map.iter_rules()
             if "GET" in (rule.methods or ()) and not rule.arguments
             and not rule.rule.startswith(("/api/", "/dsfr", "/static"))]
    return paths + [f"/tableau-de-bord/documents/{offer.slug}.pdf" for offer in OFFERS]


def api_requests(app: Flask) -> list[tuple[str, str, str]]:
    """(method, path, endpoint) of every /api/v1 route, path parameters filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if "kind" in rule.arguments:  # the documents: each one
                found += [(method, rule.rule.replace("<kind>", o.slug), rule.endpoint)
                          for o in OFFERS]
            else:  # any other parameter: an identifier, which the refusal comes before
                found.append((method, re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", rule.rule),
                              rule.endpoint))
    return found


def assert_no_points(page: Any, live: Live) -> None:
    for path in pages_of(live.app):
        answer = page.request.get(path, max_redirects=0)
        if answer.headers.get("content-type", "").startswith("application/pdf"):
            raise AssertionError(f"{path} gave a document")
        text = answer.text() if answer.status != 404 else ""
        for marker in HOLDER_MARKERS:
            assert marker not in text, f"{path}: {marker}"
    holder = {f"api_v1.{o.name}" for o in OPERATIONS if o.holder}
    routes = api_requests(live.app)
    assert holder <= {endpoint for _, _, endpoint in routes}
    for method, path, endpoint in routes:
        answer = page.request.fetch(path, method=method, data={} if method == "POST" else None)
        if endpoint not in holder:  # public (verification, OpenAPI…): nobody's data
            assert HELENE.numero not in answer.text(), path
            assert "LEFÈVRE" not in answer.text() and "LEFEVRE" not in answer.text(), path
            continue
        assert answer.status == 403, f"{method} {path}: {answer.status}"
        assert answer.json()["code"] == "POSSESSION_REQUISE", path


def test_the_employer_gets_no_points_and_the_holder_takes_the_file_back(
        page: Any, live: Live, browser: Any) -> None:
    code = prepare(live.app)
    fields = read_attestation(page, code)
    assert fields["Numéro de dossier"] == HELENE.numero  # all a sign-up asks is printed there
    sign_up_as_employer(page, live, fields)

    assert "Prouvez que ce permis est le vôtre" in page.content()
    assert BALANCE not in page.content()
    assert_accessible(page)
    assert_no_points(page, live)
    page.goto("/compte/adresse")
    assert_accessible(page)

    # The holder's phone: the SMS announcing the account, with its "ce n'est pas moi" link.
    [sms] = [m for m in outbox(live.app, MOBILE)]
    link = re.search(r"https?://\S+(/compte/ce-n-est-pas-moi/\S+)", sms.body)
    assert link
    phone = browser.new_context(base_url=live.url, locale="fr-FR").new_page()
    phone.goto(link.group(1))
    assert_accessible(phone)
    phone.get_by_role("button", name="Ce n'est pas moi : fermer ce compte").click()
    assert "Compte fermé" in phone.content()
    page.goto("/tableau-de-bord")
    assert "/compte/connexion" in page.url  # the employer's session ended with the account

    # The employer tries again; the holder signs in with FranceConnect and takes the file.
    sign_up_as_employer(page, live, fields)
    phone.goto("/compte/connexion")
    franceconnect_button(phone).click()
    phone.get_by_role("button", name="Continuer avec HELENE MARIE LEFEVRE").click()
    phone.wait_for_url("**/compte/franceconnect/rattacher")
    phone.get_by_label("Numéro de dossier").fill(HELENE.numero)
    phone.get_by_role("button", name="Rattacher mon dossier").click()
    phone.wait_for_url("**/compte/franceconnect/compte-existant")
    assert "r•••@transports-exemple.fr" in phone.content()
    assert_accessible(phone)
    phone.get_by_label("Non : il doit être fermé, ce dossier est le mien").check(force=True)
    phone.get_by_role("button", name="Continuer").click()
    phone.wait_for_url("**/tableau-de-bord")
    assert BALANCE in phone.content()
    assert_accessible(phone)
    page.goto("/tableau-de-bord")
    assert "/compte/connexion" in page.url
    assert "FranceConnect" in outbox(live.app, EMPLOYER)[0].body
    phone.context.close()
