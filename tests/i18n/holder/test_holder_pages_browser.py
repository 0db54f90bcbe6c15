"""The holder's main pages in English, in headless Chromium with an English-speaking browser
(`Accept-Language: en-GB`): sign-up with its confirmation, sign-in, the password reset and
the old Télépoints pages. Each page says `lang="en"`, has its English heading and no serious
or critical accessibility violation (axe)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from modern.db import db
from telepoints_compat.context import compat
from tests.accounts.support import HELENE, PASSWORD, link_in
from tests.browser import assert_accessible, chromium, serving

pytestmark = pytest.mark.browser
NEW_PASSWORD = "the tide comes in fast at Saint-Malo"


@pytest.fixture
def english(app: Flask) -> Iterator[tuple[Any, str]]:
    """A page of an English-speaking browser, and the address of the running service."""
    with serving(app) as base, chromium() as browser:
        context = browser.new_context(locale="en-GB", base_url=base)
        context.set_default_timeout(15_000)
        yield context.new_page(), base
        context.close()


def in_english(page: Any, heading: str) -> None:
    assert page.locator("html").get_attribute("lang") == "en", page.url
    assert page.locator("h1").inner_text() == heading, page.url
    assert_accessible(page)


def sign_up(page: Any, password: str) -> None:
    page.get_by_label("File number").fill(HELENE.numero)
    page.get_by_label("Surname at birth").fill(HELENE.nom)
    page.get_by_label("First names").fill(HELENE.prenoms)
    page.locator("#date_naissance").fill(HELENE.naissance)
    page.locator("#email").fill(HELENE.email)
    page.locator("#password").fill(password)
    page.locator("#cgu").check(force=True)
    page.get_by_role("button", name="Create my account").click()


def sign_in(page: Any, password: str) -> None:
    page.locator("#email").fill(HELENE.email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_sign_up_sign_in_and_reset_in_english(app: Flask,
                                              english: tuple[Any, str]) -> None:
    page, _base = english
    page.goto("/")
    in_english(page, "Check the points balance of your driving licence")
    page.get_by_role("link", name="Create an account with my file number").click()
    page.wait_for_url("**/compte/creer")
    in_english(page, "Create an account")
    sign_up(page, "azertyuiop123")
    assert "one of the most common passwords" in page.content()
    assert page.title().startswith("Error - Create an account")
    in_english(page, "Create an account")
    sign_up(page, PASSWORD)
    page.wait_for_url("**/compte/creer/verifiez-vos-courriels")
    in_english(page, "Check your email")

    page.goto(link_in(app, HELENE.email, "/compte/confirmation/"))
    in_english(page, "Confirm your email address")
    page.get_by_role("button", name="Confirm my address and activate my account").click()
    page.wait_for_url("**/compte/connexion")
    assert "Your email address is confirmed" in page.get_by_role("status").inner_text()
    in_english(page, "Sign in to Mes points permis")
    sign_in(page, "not the right password")
    assert "Wrong email address or password" in page.get_by_role("alert").inner_text()
    in_english(page, "Sign in to Mes points permis")
    sign_in(page, PASSWORD)
    page.wait_for_url("**/tableau-de-bord")
    assert "Prove that this licence is yours" in page.content()
    in_english(page, "Dashboard")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/")
    assert "You are signed out." in page.content()

    page.goto("/compte/connexion")
    page.get_by_role("link", name="Forgotten your password?").click()
    page.wait_for_url("**/compte/mot-de-passe-oublie")
    in_english(page, "Forgotten password")
    page.locator("#email").fill(HELENE.email)
    page.get_by_role("button", name="Get a link").click()
    page.wait_for_url("**/compte/mot-de-passe-oublie/envoye")
    in_english(page, "Check your email")
    page.goto(link_in(app, HELENE.email, "/compte/mot-de-passe/"))
    in_english(page, "Choose a new password")
    page.locator("#password").fill("password1234")
    page.get_by_role("button", name="Save the new password").click()
    assert "one of the most common passwords" in page.content()
    in_english(page, "Choose a new password")
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    page.wait_for_url("**/compte/connexion")
    assert "Your password has been changed" in page.content()
    sign_in(page, NEW_PASSWORD)
    page.wait_for_url("**/tableau-de-bord")


def test_the_old_telepoints_pages_in_english(app: Flask, english: tuple[Any, str]) -> None:
    with app.app_context():
        code = compat().codes.issue(db.session, HELENE.numero, "agent")
        db.session.commit()
    page, _base = english
    page.goto("/telepoints")
    in_english(page, "Check the points balance of your licence")
    assert page.locator(".fr-notice").inner_text().startswith("Télépoints closes on ")
    page.get_by_label("File number").fill(HELENE.numero)
    page.get_by_label("Confidential code").fill("WRONG2345")
    page.get_by_role("button", name="Check my balance").click()
    assert "Wrong file number or confidential code." in page.get_by_role("alert").inner_text()
    in_english(page, "Check the points balance of your licence")

    page.get_by_label("Confidential code").fill(code)
    page.get_by_role("button", name="Check my balance").click()
    page.wait_for_url("**/telepoints/solde")
    in_english(page, "Points balance")
    assert page.locator("h2.fr-callout__title").inner_text() == "12 points"
    assert "Information up to date on 20/11/2026 at 04:00" in page.content()
    page.get_by_role("link", name="See the restricted information statement").click()
    page.wait_for_url("**/telepoints/releve")
    in_english(page, "Restricted information statement")
    assert "Licence status" in page.content()

    page.goto("/telepoints/code-perdu")
    in_english(page, "Get a new confidential code")
    page.get_by_label("File number").fill(HELENE.numero)
    page.locator("#date_naissance").fill(HELENE.naissance)
    page.get_by_role("button", name="Get a new code").click()
    assert "Request recorded" in page.content()
    in_english(page, "Get a new confidential code")
    app.extensions["after_answer"].drain()
