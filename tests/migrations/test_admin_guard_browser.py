"""The admin page's guard rails in headless Chromium, served on a loopback port: a revert and
a change of cutover mode wait for a confirmation that names what changes (cancelling changes
nothing), the mode is shown as it acts with and without a legacy backend, outcomes are words,
figures follow each action, and the header is the agents' own (the dry run's wording is
checked in test_admin_page_browser.py). In French and in English; axe finds no serious or
critical violation, the dialog open included, and the CSP refuses nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from migrations.accounts.models import MigratedAccount
from migrations.lazy import cutover
from modern.db import db
from tests.browser import assert_accessible, chromium
from tests.migrations.conftest import Server, sample

pytestmark = pytest.mark.browser
NUMERO = "830793030102"  # line 35 of the sample export, migrated in bulk


@pytest.fixture
def watched(page: Any) -> Iterator[Any]:
    """The page, failing the test on a script error or anything the CSP refused."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    assert problems == []


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """With `indirect` "legacy": the local legacy backend configured."""
    if getattr(request, "param", None) != "legacy":
        return {}
    server: Server = request.getfixturevalue("legacy_backend")
    return {"legacy_telepoints_url": server.url + "/telepoints/ws"}


def open_with_token(page: Any, base_url: str, secret: str, name: str = "Utiliser ce jeton"
                    ) -> None:
    page.goto(f"{base_url}/admin/migrations")
    page.get_by_label(re.compile("Jeton d'administration|Administration token")).fill(secret)
    page.get_by_role("button", name=name).click()


def migrated(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(MigratedAccount)) or 0)


def mode(app: Flask) -> str:
    with app.app_context():
        return cutover.get_mode(db.session())


def radio(page: Any, name: str) -> Any:
    """A mode's choice, named by its label (its hint follows)."""
    return page.get_by_role("radio", name=re.compile("^" + re.escape(name)))


def dialog_keeps_the_focus(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#confirmation").get_by_role("button", name=re.compile(
        "Fermer|Close"))).to_be_focused()
    for _ in range(6):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.getElementById('confirmation').contains(document.activeElement)")


def test_the_admin_header_is_the_agents_own(app: Flask, base_url: str, watched: Any,
                                            make_token: Callable[..., str]) -> None:
    from playwright.sync_api import expect

    page = watched
    page.goto(f"{base_url}/admin/migrations")
    header = page.get_by_role("banner")
    expect(header).to_contain_text("Mes points permis")
    expect(header).to_contain_text("Administration de la migration")
    for holders in ("Se connecter", "Mon compte", "Consultation du solde"):
        expect(header).not_to_contain_text(holders)
    assert header.locator("a[href*='connexion'], a[href*='tableau']").count() == 0
    forget = header.get_by_role("button", name="Oublier le jeton")
    agent = header.locator("[data-agent-nom]").first
    expect(forget).to_be_hidden()
    expect(agent).to_be_hidden()

    open_with_token(page, base_url, make_token(name="lead-bascule"))
    expect(page.get_by_role("status")).to_contain_text(
        "Jeton « lead-bascule » enregistré pour cet onglet.")
    expect(agent).to_be_visible()
    expect(agent).to_have_text("Jeton : lead-bascule")
    expect(forget).to_be_visible()
    assert_accessible(page)

    forget.click()
    expect(page.locator("#travaux")).to_contain_text("Saisissez un jeton pour voir les travaux.")
    expect(forget).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('adminToken')") is None

    # A token refused is not kept, and nobody is shown as signed in.
    open_with_token(page, base_url, "tpadm_inconnu")
    expect(page.get_by_role("status")).to_contain_text("Jeton d'administration absent")
    expect(agent).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('adminToken')") is None


def test_a_real_run_then_a_revert_confirmed_in_a_dialog(
        app: Flask, base_url: str, watched: Any, make_token: Callable[..., str]) -> None:
    from playwright.sync_api import expect

    page = watched
    open_with_token(page, base_url, make_token(name="exploitation"))
    expect(page.locator("#c-migres")).to_have_text("0")
    page.get_by_label("Export des comptes Télépoints").set_input_files(
        str(sample("legacy-export.csv")))
    page.get_by_role("button", name="Lancer la migration").click()
    row = page.get_by_role("row").filter(has_text="legacy-export.csv")
    expect(row).to_contain_text("terminé", timeout=30_000)
    job_id = row.get_by_role("cell").first.inner_text().strip()
    expect(page.get_by_role("status")).to_contain_text(
        f"Travail {job_id} terminé : 33 migrés, 3 rejetés sur 38 lignes.")
    # The figures drawn from the jobs follow without waiting for the next look (10 s).
    expect(page.locator("#c-migres")).to_have_text("33", timeout=3000)
    expect(page.locator("#c-echecs")).to_have_text("3", timeout=3000)
    pending = page.get_by_role("row").filter(has_text="Lignes d'export en attente")
    expect(pending.get_by_role("cell").nth(1)).to_have_text("3", timeout=3000)

    row.get_by_role("button", name=f"Lignes non migrées du travail {job_id}").click()
    errors = page.get_by_role("region", name=f"Lignes non migrées du travail {job_id}")
    expect(errors).to_contain_text("Ligne 39 (081276060106) : rejetée – date invalide "
                                   "(CODE_EMIS_LE)")
    expect(errors).to_contain_text("Ligne 32 (820694020100) : ignorée : doublon d'une ligne "
                                   "plus récente du même dossier")
    expect(errors).to_contain_text("Ligne 34 (810103080101) : ignorée : dossier clos")
    assert not re.search(r"REJETE|IGNORE_|MIGRE|MIS_A_JOUR", page.locator("main").inner_text())

    # Revert: a dialog names the file, the job and its figures; nothing happens before.
    page.get_by_label("Numéro de dossier").fill("8307 9303 0102")
    trigger = page.get_by_role("button", name="Annuler la migration…")
    trigger.click()
    dialog = page.get_by_role("dialog", name=f"Annuler la migration du dossier {NUMERO} ?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"par le travail {job_id} (fichier legacy-export.csv, "
                                   "ligne 35)")
    expect(dialog).to_contain_text("Ce travail : 33 migrés, 3 rejetés sur 38 lignes.")
    expect(dialog).to_contain_text("Son code Télépoints est venu avec la migration.")
    dialog_keeps_the_focus(page)
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(trigger).to_be_focused()
    assert migrated(app) == 33

    trigger.click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Garder la migration").click()
    expect(dialog).to_be_hidden()
    trigger.click()
    dialog.get_by_role("button", name="Fermer").click()
    expect(dialog).to_be_hidden()
    assert migrated(app) == 33

    trigger.click()
    dialog.get_by_role("button", name=f"Annuler la migration du dossier {NUMERO}").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Migration du dossier {NUMERO} annulée (1 code retiré).")
    assert migrated(app) == 32
    expect(page.locator("#c-migres")).to_have_text("32", timeout=3000)
    expect(page.locator("#c-masse")).to_have_text("32", timeout=3000)
    assert_accessible(page)


def test_without_a_legacy_backend_the_mode_shows_the_legacy_side_off(
        app: Flask, base_url: str, watched: Any, make_token: Callable[..., str]) -> None:
    """The recorded mode is `migration` (the default) but, with no legacy backend configured,
    nothing is ever asked there: the page says so, and only the switch-off can be chosen."""
    from playwright.sync_api import expect

    page = watched
    open_with_token(page, base_url, make_token(name="lead"))
    expect(page.locator("#mode-effectif")).to_have_text(
        "Mode en vigueur : Ancien service coupé. Aucun ancien service n'est configuré "
        "(LEGACY_TELEPOINTS_URL) : il n'est jamais interrogé. Le mode enregistré, « Migration "
        "à la première utilisation », n'agira qu'une fois un ancien service configuré.")
    lazy = radio(page, "Migration à la première utilisation")
    expect(lazy).not_to_be_checked()
    expect(lazy).to_be_disabled()
    expect(radio(page, "Retour à l'ancien service")).to_be_disabled()
    expect(radio(page, "Ancien service coupé")).to_be_checked()
    assert_accessible(page)

    # Recording `off` asks for its name, typed; Escape from the text field changes nothing.
    apply = page.get_by_role("button", name="Appliquer le mode de bascule")
    apply.click()
    dialog = page.get_by_role("dialog", name="Passer en mode « Ancien service coupé » ?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Aujourd'hui : Ancien service coupé.")
    expect(dialog).to_contain_text("Mode enregistré : « Migration à la première utilisation », "
                                   "sans effet tant qu'aucun ancien service n'est configuré.")
    expect(dialog).to_contain_text("L'ancien service ne sera plus jamais interrogé.")
    expect(dialog).to_contain_text("En ce moment : 0 ligne en attente, 0 ligne rejetée")
    confirm = dialog.get_by_role("button", name="Passer en mode « Ancien service coupé »")
    confirm.click()
    typed = dialog.get_by_label("Pour confirmer, saisissez « Ancien service coupé »")
    expect(typed).to_be_focused()
    expect(dialog).to_contain_text("Saisissez exactement « Ancien service coupé »")
    assert_accessible(page)
    typed.press("Escape")
    expect(dialog).to_be_hidden()
    expect(apply).to_be_focused()
    assert mode(app) == "migration"

    apply.click()
    typed.fill("ancien service coupé")
    confirm.click()
    expect(page.get_by_role("status")).to_contain_text("Mode « Ancien service coupé » appliqué.")
    assert mode(app) == "off"
    expect(page.locator("#mode-effectif")).to_have_text(
        "Mode en vigueur : Ancien service coupé. Aucun ancien service n'est configuré "
        "(LEGACY_TELEPOINTS_URL).", timeout=3000)


@pytest.mark.parametrize("settings_overrides", ["legacy"], indirect=True)
def test_with_a_legacy_backend_the_recorded_mode_acts(
        app: Flask, base_url: str, watched: Any, make_token: Callable[..., str]) -> None:
    from playwright.sync_api import expect

    page = watched
    open_with_token(page, base_url, make_token(name="lead"))
    expect(page.locator("#mode-effectif")).to_have_text(
        "Mode en vigueur : Migration à la première utilisation.")
    expect(radio(page, "Migration à la première utilisation")).to_be_checked()
    expect(radio(page, "Retour à l'ancien service")).to_be_enabled()

    rollback = radio(page, "Retour à l'ancien service")
    page.locator("label[for='mode-legacy']").click()
    expect(rollback).to_be_checked()
    page.get_by_role("button", name="Appliquer le mode de bascule").click()
    dialog = page.get_by_role("dialog", name="Passer en mode « Retour à l'ancien service » ?")
    expect(dialog).to_contain_text("Aujourd'hui : Migration à la première utilisation.")
    expect(dialog).to_contain_text("la migration à la première utilisation s'arrête")
    dialog.get_by_role("button", name="Garder le mode actuel").click()
    expect(dialog).to_be_hidden()
    assert mode(app) == "migration"
    expect(radio(page, "Migration à la première utilisation")).to_be_checked()

    page.locator("label[for='mode-legacy']").click()
    page.get_by_role("button", name="Appliquer le mode de bascule").click()
    dialog.get_by_role("button", name="Passer en mode « Retour à l'ancien service »").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Mode « Retour à l'ancien service » appliqué.")
    assert mode(app) == "legacy"
    expect(page.locator("#mode-effectif")).to_have_text(
        "Mode en vigueur : Retour à l'ancien service.", timeout=3000)
    expect(rollback).to_be_checked()
    assert_accessible(page)


def test_the_admin_page_in_english(app: Flask, base_url: str,
                                   make_token: Callable[..., str]) -> None:
    from playwright.sync_api import expect

    with chromium() as browser:
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        page.goto(f"{base_url}/admin/migrations")
        assert page.locator("html").get_attribute("lang") == "en"
        header = page.get_by_role("banner")
        expect(header).to_contain_text("Migration administration")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Migration of Télépoints accounts")
        open_with_token(page, base_url, make_token(name="lead"), name="Use this token")
        expect(page.get_by_role("status")).to_contain_text(
            "Token “lead” saved for this tab.")
        expect(page.locator("#mode-effectif")).to_contain_text(
            "Mode in force: Legacy service switched off.")

        page.get_by_label("Export of the Télépoints accounts").set_input_files(
            str(sample("legacy-export.csv")))
        page.get_by_text("Dry run (nothing is written)").click()
        page.get_by_role("button", name="Start the migration").click()
        row = page.get_by_role("row").filter(has_text="legacy-export.csv")
        expect(row).to_contain_text("Dry run: nothing is written")
        expect(row).to_contain_text("finished", timeout=30_000)
        expect(page.get_by_role("status")).to_contain_text(
            "33 would be migrated, 3 would be rejected out of 38 lines. Nothing was written.")
        row.get_by_role("button", name=re.compile("Lines that would not be migrated")).click()
        expect(page.locator("#erreurs")).to_contain_text(
            "Line 34 (810103080101): would be ignored: file closed")
        assert_accessible(page)

        page.get_by_role("button", name="Apply the cutover mode").click()
        dialog = page.get_by_role("dialog", name="Switch to “Legacy service switched off”?")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_label(
            "To confirm, type “Legacy service switched off”")).to_be_visible()
        assert_accessible(page)
        dialog.get_by_role("button", name="Keep the current mode").click()
        expect(dialog).to_be_hidden()
        assert mode(app) == "migration"
        context.close()
