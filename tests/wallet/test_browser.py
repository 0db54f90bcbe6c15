"""The wallet's pages in headless Chromium against a served application: the holder's offer
(from the dashboard's button to the QR code), the verifier's request and its result after a
presentation by the Node wallet. axe finds no serious or critical violation on any of them."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.browser import assert_accessible, chromium
from tests.wallet.support import holder_client, node_wallet, served, tx_code

pytestmark = pytest.mark.browser
EMAIL = "titulaire@exemple.fr"


def _session_cookie(client: Any) -> tuple[str, str]:
    for name in ("__Host-session", "session"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            return name, cookie.value
    raise AssertionError("the test client holds no session cookie")


def test_offer_and_verifier_pages(app: Flask, demo: dict[str, Any]) -> None:
    record = demo["poids_lourd"]
    holder = holder_client(app, record, EMAIL)
    holder.get("/tableau-de-bord")
    name, value = _session_cookie(holder)
    with served(app) as base, chromium() as browser:
        context = browser.new_context(base_url=base, locale="fr-FR")
        context.set_default_timeout(15_000)
        # The session of a FranceConnect sign-in, made by the test client: its `__Host-` cookie
        # cannot be planted over http, so the holder's requests carry it as a header.
        context.set_extra_http_headers({"Cookie": f"{name}={value}"})
        page = context.new_page()

        # The holder: from the dashboard to the offer.
        page.goto("/tableau-de-bord")
        page.get_by_role("link", name="Ajouter à mon portefeuille").click()
        page.wait_for_url("**/portefeuille/ajouter")
        assert_accessible(page)
        page.get_by_role("button", name="Créer l'offre").click()
        assert "Un code à 6 chiffres vient de vous être envoyé (t…@exemple.fr)" in \
            page.locator("#offre").inner_text()
        assert page.get_by_role("img", name="Code QR de l'offre").is_visible()
        link = page.locator("#lien-offre").get_attribute("href")
        assert link and link.startswith("openid-credential-offer://?credential_offer=")
        assert_accessible(page)
        received = node_wallet("receive", {"offer": link, "tx_code": tx_code(app, EMAIL)})
        assert "error" not in received, received

        # The verifier: the request, then what the holder showed.
        verifier = browser.new_context(base_url=base, locale="fr-FR").new_page()
        verifier.goto("/verifier")
        verifier.get_by_role("link", name="Vérifier un permis numérique").click()
        assert_accessible(verifier)
        # The DSFR draws the boxes on their labels: a person clicks the label.
        verifier.locator("label[for=information-identite]").click()
        verifier.locator("label[for=information-categories]").click()
        assert verifier.get_by_label("Identité : nom, prénoms, date de naissance").is_checked()
        verifier.get_by_role("button", name="Créer la demande").click()
        assert verifier.get_by_role("img", name="Code QR de la demande").is_visible()
        assert_accessible(verifier)
        request = verifier.locator("#lien-demande").get_attribute("href")
        presented = node_wallet("present", {"request": request,
                                            "credential": received["credential"],
                                            "holder_key": received["holder_key"]})
        assert presented["http_status"] == 200, presented
        verifier.get_by_role("link", name="Voir la réponse").click()
        table = verifier.locator("#informations").inner_text()
        assert record["titulaire"]["nom"] in table and "Valide" in table  # the state in words
        assert "Catégories" not in table and record["numeroDossier"] not in table
        assert verifier.locator("#informations tbody tr").count() == 4
        assert_accessible(verifier)
        context.close()
        verifier.context.close()
