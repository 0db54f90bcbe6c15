"""The holder's account page in headless Chromium, in French and in English, against a real
server and FranceConnect (oidc-provider) on loopback: the page from the header, a password
change that ends the other browser's session, the sessions list and its buttons, FranceConnect
linked from the page then unlinked, and an account opened with FranceConnect that sets a
password, downloads its data and deletes itself. axe finds no serious or critical violation
on any page of it."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from modern.accounts.models import Account, AccountPossession
from modern.accounts.passwords import hash_password
from modern.db import db
from tests.accounts import test_browser as shared
from tests.accounts.support import HELENE, HELENE_FC, LOIC, LOIC_FC, PASSWORD, link_in
from tests.accounts.test_browser import Live
from tests.browser import assert_accessible

# The account browser tests' fixtures: the service and the local FranceConnect on loopback.
browser, live = shared.browser, shared.live
pytestmark = pytest.mark.browser
NEW_PASSWORD = "la marée monte vite à Saint-Malo"
LOCALES = {"fr": "fr-FR", "en": "en-GB"}
# What the holder reads and presses, in each language.
WORDS = {
    "fr": {
        "account": "Mon compte",
        "change": "Changer de mot de passe",
        "save_new": "Enregistrer le nouveau mot de passe",
        "changed": "Votre mot de passe est modifié",
        "end": "Fermer la session",
        "end_others": "Fermer toutes les autres sessions",
        "ended": "La session a été fermée",
        "this": "Cette session",
        "fc": "S’identifier avec FranceConnect",
        "unlink": "Dissocier FranceConnect",
        "unlinked": "n'est plus associé à FranceConnect",
        "linked": "Associé",
        "set": "Définir un mot de passe",
        "save": "Enregistrer le mot de passe",
        "saved": "Votre mot de passe est enregistré",
        "download": "Télécharger mes données (JSON)",
        "delete": "Supprimer mon compte…",
        "delete_now": "Supprimer définitivement mon compte",
        "deleted": "Votre compte est supprimé",
        "device": "Chrome sur Linux",
        "date": r"\d{1,2} [a-zéû]+ \d{4} à \d\d:\d\d",
    },
    "en": {
        "account": "My account",
        "change": "Change your password",
        "save_new": "Save the new password",
        "changed": "Your password has been changed",
        "end": "End session",
        "end_others": "End all other sessions",
        "ended": "The session has been ended",
        "this": "This session",
        "fc": "Sign in with FranceConnect",
        "unlink": "Unlink FranceConnect",
        "unlinked": "is no longer linked to FranceConnect",
        "linked": "Linked",
        "set": "Set a password",
        "save": "Save the password",
        "saved": "Your password has been saved",
        "download": "Download my data (JSON)",
        "delete": "Delete my account…",
        "delete_now": "Delete my account for good",
        "deleted": "Your account has been deleted",
        "device": "Chrome on Linux",
        "date": r"\d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d",
    },
}


@pytest.fixture(params=sorted(LOCALES))
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def context(browser: Any, live: Live, lang: str) -> Iterator[Any]:
    """A browser of the holder's, speaking `lang`; `context.new_page()` for each tab."""
    made = browser.new_context(base_url=live.url, locale=LOCALES[lang])
    made.set_default_timeout(15_000)
    yield made
    made.close()


@pytest.fixture
def devices(browser: Any, live: Live, lang: str) -> Iterator[list[Any]]:
    """Two other browsers of the same holder (each with its own cookies)."""
    contexts = [browser.new_context(base_url=live.url, locale=LOCALES[lang]) for _ in "ab"]
    yield [made.new_page() for made in contexts]
    for made in contexts:
        made.close()


def password_account(app: Flask, email: str = HELENE.email, numero: str = HELENE.numero) -> None:
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        account = Account(numero=numero, email=email, email_confirmed_at=now, proof="code",
                          password_hash=hash_password(PASSWORD), password_changed_at=now,
                          created_at=now)
        db.session.add(account)
        db.session.flush()
        db.session.add(AccountPossession(account_id=account.id, numero=numero, proof="code",
                                         proved_at=now))
        db.session.commit()


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/compte/connexion")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/tableau-de-bord")


def open_account_page(page: Any, words: dict[str, str]) -> None:
    """From the header, as a holder finds it."""
    page.get_by_role("link", name=words["account"], exact=True).first.click()
    page.wait_for_url("**/compte")
    assert page.get_by_role("heading", level=1).inner_text() == words["account"]


def through_franceconnect(page: Any, live: Live, who: str, numero: str) -> None:
    """At the provider, chooses `who`; back here, gives the file number when asked."""
    page.wait_for_url(f"{live.provider.base}/api/v2/interaction/**")
    page.get_by_role("button", name=f"Continuer avec {who}").click()
    page.wait_for_url(lambda url: url.startswith(live.url))
    if "/compte/franceconnect/rattacher" in page.url:
        page.locator("#numero").fill(numero)
        page.locator("#numero").press("Enter")


def test_password_change_and_sessions(context: Any, devices: list[Any], live: Live,
                                      lang: str) -> None:
    words = WORDS[lang]
    password_account(live.app)
    page = context.new_page()
    sign_in(page, HELENE.email)
    for device in devices:
        sign_in(device, HELENE.email)
    open_account_page(page, words)
    assert_accessible(page)
    table = page.locator("#tableau-sessions")
    assert table.get_by_text(words["this"]).count() == 1
    assert table.locator("tbody tr").count() == 3
    assert words["device"] in table.inner_text()
    assert "127.0.0.x" in table.inner_text() and "127.0.0.1" not in page.content()

    table.get_by_role("button", name=words["end"]).first.click()
    page.wait_for_url("**/compte#sessions")
    assert words["ended"] in page.get_by_role("status").first.inner_text()
    assert page.locator("#tableau-sessions tbody tr").count() == 2
    assert_accessible(page)
    page.get_by_role("button", name=words["end_others"]).click()
    page.wait_for_url("**/compte#sessions")
    assert page.locator("#tableau-sessions tbody tr").count() == 1
    for device in devices:
        device.goto("/compte")
        assert "/compte/connexion" in device.url

    sign_in(devices[0], HELENE.email)  # back in, to be put out by the password change
    page.goto("/compte")
    page.get_by_role("link", name=words["change"]).click()
    page.wait_for_url("**/compte/changer-de-mot-de-passe")
    assert_accessible(page)
    page.locator("#current").fill("not my password")
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name=words["save_new"]).click()
    assert page.get_by_role("alert").count() == 1
    assert_accessible(page)
    page.locator("#current").fill(PASSWORD)
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name=words["save_new"]).click()
    page.wait_for_url("**/compte#mot-de-passe")
    assert words["changed"] in page.get_by_role("status").first.inner_text()
    assert_accessible(page)
    devices[0].goto("/compte")
    assert "/compte/connexion" in devices[0].url


def test_franceconnect_linked_from_the_page_then_unlinked(context: Any, live: Live,
                                                          lang: str) -> None:
    words = WORDS[lang]
    password_account(live.app)
    page = context.new_page()
    sign_in(page, HELENE.email)
    open_account_page(page, words)
    page.get_by_role("button", name=words["fc"]).click()
    through_franceconnect(page, live, f"{HELENE_FC.given_name} {HELENE_FC.family_name}",
                          HELENE.numero)
    page.wait_for_url("**/compte")
    status = page.locator("#franceconnect ~ p").first.inner_text()
    assert words["linked"].upper() in status.upper()  # a badge, in capitals
    assert re.search(words["date"], status), status  # "7 December 2026 at 14:03"
    assert_accessible(page)

    page.get_by_role("link", name=words["unlink"]).click()
    page.wait_for_url("**/compte/franceconnect/dissocier")
    assert_accessible(page)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["unlink"]).click()
    page.wait_for_url("**/compte#franceconnect")
    assert words["unlinked"] in page.get_by_role("status").first.inner_text()
    assert_accessible(page)
    with live.app.app_context():
        assert db.session.scalar(select(Account.fc_sub)) is None


def test_a_franceconnect_account_sets_a_password_downloads_its_data_and_leaves(
        context: Any, live: Live, lang: str, tmp_path: Path) -> None:
    words = WORDS[lang]
    page = context.new_page()
    page.goto("/compte/connexion")
    page.locator("button.fr-connect").click()
    through_franceconnect(page, live, f"{LOIC_FC.given_name} {LOIC_FC.family_name}",
                          LOIC.numero)
    page.wait_for_url("**/tableau-de-bord")
    open_account_page(page, words)
    assert_accessible(page)

    page.get_by_role("link", name=words["set"]).first.click()
    page.wait_for_url("**/compte/definir-un-mot-de-passe")
    assert_accessible(page)
    page.locator("#email").fill(LOIC.email)
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name=words["save"]).click()
    page.wait_for_url("**/compte#mot-de-passe")
    assert words["saved"] in page.get_by_role("status").first.inner_text()
    assert_accessible(page)
    page.goto(link_in(live.app, LOIC.email, "/compte/adresse/confirmation/"))
    page.locator("main form button[type=submit]").click()
    page.goto("/compte")
    assert LOIC.email in page.locator("#adresse ~ p").first.inner_text()

    with page.expect_download() as download:
        page.get_by_role("button", name=words["download"]).click()
    saved = tmp_path / "donnees.json"
    download.value.save_as(saved)
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["compte"]["numero_dossier"] == LOIC.numero
    assert data["compte"]["adresse_electronique"] == LOIC.email
    assert "$argon2" not in saved.read_text(encoding="utf-8")

    page.get_by_role("link", name=words["delete"]).click()
    page.wait_for_url("**/compte/supprimer")
    assert_accessible(page)
    page.locator("#password").fill(NEW_PASSWORD)
    page.locator("#confirm").check(force=True)
    page.get_by_role("button", name=words["delete_now"]).click()
    page.wait_for_url(f"{live.url}/")  # through FranceConnect's logout and back
    assert words["deleted"] in page.content()
    with live.app.app_context():
        assert db.session.scalar(select(Account.id)) is None
    page.goto("/compte")
    assert "/compte/connexion" in page.url
