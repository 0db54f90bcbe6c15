"""The holder's pages and the verification pages in English, in headless Chromium (a browser
set to British English): the dashboard, share codes (made by the holder, checked by a third
party), the calendar, /verifier, the wallet's offer and the digital licence check. Each page
says `lang="en"`, has English headings, and axe finds no serious or critical violation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from modern.documents.pdf import build, printable_code
from modern.documents.seal import ATTESTATION
from modern.licences.record import decode_record
from modern.points.services import today_in_paris
from tests.browser import assert_accessible, chromium, serving
from tests.i18n.test_consultation_pages_in_catalogue import holder

pytestmark = pytest.mark.browser


@pytest.fixture
def english(app: Flask) -> Iterator[tuple[Any, str]]:
    """A British English browser, and the service's address."""
    with serving(app) as base, chromium() as browser:
        context = browser.new_context(base_url=base, locale="en-GB")
        context.set_default_timeout(15_000)
        yield context, base
        context.close()


def signed_in(context: Any, base: str, client: Any) -> Any:
    """A page of the browser carrying the test client's session (FranceConnect)."""
    [cookie] = [c for c in client._cookies.values() if c.key.endswith("session")]
    # Secure, as the service sets it outside development: Chromium keeps it on loopback.
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "path": "/",
                          "domain": urlsplit(base).hostname, "secure": True}])
    return context.new_page()


def in_english(page: Any, heading: str, *more: str) -> None:
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").first.inner_text().strip() == heading
    headings = page.locator("h1, h2, h3").all_inner_texts()
    for text in more:
        assert text in headings, headings
    assert_accessible(page)


def test_the_holder_pages_in_english(app: Flask, demo: dict[str, Any],
                                     english: tuple[Any, str]) -> None:
    context, base = english
    record = demo["probatoire_avec_infraction"]
    page = signed_in(context, base, holder(app, record))

    page.goto("/tableau-de-bord")
    in_english(page, "Dashboard", "Licence status", "Good to know now",
               "Mandatory road safety awareness course", "Coming recoveries of points",
               "Categories", "History of the last ten years", "Documents", "Digital wallet",
               "Alerts")
    assert page.locator("#solde-titre").inner_text().startswith("Balance: ")
    assert "Probationary period" in page.locator("#solde").inner_text()

    page.goto("/tableau-de-bord/partages")
    in_english(page, "Share my driving rights", "Create a code", "My codes")
    page.locator("label", has_text="Vehicle rental").click()  # DSFR draws the radio on the label
    page.get_by_role("button", name="Create the code").click()
    page.locator("#nouveau-code").wait_for()
    in_english(page, "Share my driving rights", "Your share code")
    code = page.locator("#code-partage").inner_text()

    third_party = context.browser.new_context(base_url=base, locale="en-GB").new_page()
    third_party.goto("/verifier/partage")
    in_english(third_party, "Verify a share code")
    third_party.get_by_label("Share code").fill(code)
    third_party.get_by_label("Holder's birth name").fill(record["titulaire"]["nom"])
    third_party.get_by_role("button", name="Verify the code").click()
    third_party.locator("#resultat").wait_for()
    in_english(third_party, "Verify a share code", "Licence: valid")
    third_party.context.close()

    page.goto("/tableau-de-bord/calendrier")
    in_english(page, "My forecast in my calendar", "Download the file",
               "Subscribe: the calendar updates itself")

    page.goto("/portefeuille/ajouter")
    in_english(page, "Add to my wallet")
    page.get_by_role("button", name="Create the offer").click()
    page.locator("#offre").wait_for()
    in_english(page, "Add to my wallet", "Offer ready, valid for 10 minutes",
               "On another device", "On this device")


def test_the_verification_pages_in_english(app: Flask, demo: dict[str, Any],
                                           english: tuple[Any, str]) -> None:
    context, _base = english
    licence = decode_record(json.dumps(demo["poids_lourd"]).encode())
    document = build(licence, ATTESTATION, app.extensions["seal_keys"], today_in_paris())
    page = context.new_page()

    page.goto("/verifier")
    in_english(page, "Verify a document")
    page.get_by_label("Or the code printed under the seal").fill(printable_code(document.code))
    page.get_by_role("button", name="Verify", exact=True).click()
    page.locator("#resultat").wait_for()
    in_english(page, "Verify a document", "Authentic document")
    assert "Licence status" in page.locator("table").inner_text()

    page.goto("/verifier/permis-numerique")
    in_english(page, "Verify a digital licence")
    page.get_by_role("button", name="Create the request").click()
    page.locator("#qr-demande").wait_for()
    in_english(page, "Verify a digital licence")
    assert page.get_by_role("img", name="QR code of the verification request").is_visible()
