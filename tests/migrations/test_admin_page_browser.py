"""The admin page in headless Chromium, served by a real server on a loopback port: an
administrator types a token, launches a dry run of the sample export, follows it to its end,
reads its counts and the lines it would not migrate (a dry run is told as such everywhere,
outcomes in words), and axe finds no serious or critical violation at any step. The page is
in French and built with the DSFR."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from migrations.accounts.models import MigratedAccount
from modern.db import db
from tests.browser import assert_accessible
from tests.migrations.conftest import sample

pytestmark = pytest.mark.browser


def test_a_dry_run_from_the_admin_page(app: Flask, base_url: str, page: Any,
                                       make_token: Callable[..., str]) -> None:
    from playwright.sync_api import expect

    secret = make_token(name="exploitation")
    page.goto(f"{base_url}/admin/migrations")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.title().startswith("Migration des comptes Télépoints")
    assert page.locator("link[href*='dsfr.min.css']").count() == 1
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Migration des comptes Télépoints")
    assert_accessible(page)

    page.get_by_label("Jeton d'administration").fill(secret)
    page.get_by_role("button", name="Utiliser ce jeton").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Jeton « exploitation » enregistré pour cet onglet.")
    expect(page.locator("#travaux")).to_contain_text("Aucun travail.")

    page.get_by_label("Export des comptes Télépoints").set_input_files(
        str(sample("legacy-export.csv")))
    page.get_by_text("Simulation (rien n'est écrit)").click()  # DSFR: the label is the box
    expect(page.get_by_label("Simulation (rien n'est écrit)")).to_be_checked()
    page.get_by_role("button", name="Lancer la migration").click()
    launched = re.compile(r"Simulation lancée : travail (\d+) \(38 lignes\)\. Rien ne sera "
                          r"écrit\.")
    expect(page.get_by_role("status")).to_contain_text(launched)
    found = launched.search(page.get_by_role("status").inner_text())
    assert found is not None
    job_id = found.group(1)  # ids go on across tests on PostgreSQL

    row = page.get_by_role("row").filter(has_text="legacy-export.csv")
    expect(row).to_contain_text("Simulation : rien n'est écrit")
    expect(row).to_contain_text("terminé", timeout=30_000)
    status = page.get_by_role("status")
    expect(status).to_contain_text(
        f"Travail {job_id} (simulation) terminé : 33 seraient migrés, 3 seraient rejetés sur "
        "38 lignes. Rien n'a été écrit.")
    expect(status).not_to_contain_text("33 migrés")
    cells = [cell.strip() for cell in row.get_by_role("cell").all_inner_texts()]
    # N°, fichier, état, avancement, migrés, doublons, clos, déjà migrés, mis à jour,
    # rejetés, actions
    assert cells[2:10] == ["terminé", "100 %", "33", "1", "1", "0", "0", "3"]
    progress = page.get_by_role("progressbar", name=f"Avancement de la simulation {job_id}")
    expect(progress).to_have_attribute("value", "100")
    assert_accessible(page)

    row.get_by_role("button",
                    name=f"Lignes qui ne seraient pas migrées du travail {job_id}").click()
    errors = page.get_by_role(
        "region", name=f"Lignes qui ne seraient pas migrées par la simulation {job_id}")
    expect(errors.get_by_role("listitem")).to_have_count(5)
    # Outcomes in words, in the conditional: nothing happened.
    expect(errors).to_contain_text("Ligne 39 (081276060106) : serait rejetée – date invalide "
                                   "(CODE_EMIS_LE)")
    expect(errors).to_contain_text("Ligne 34 (810103080101) : serait ignorée : dossier clos")
    assert not re.search(r"REJETE|IGNORE_|MIGRE", page.locator("main").inner_text())
    expect(page.locator("#c-migres")).to_have_text("0")
    assert_accessible(page)

    with app.app_context():  # a dry run writes nothing
        assert db.session.scalar(select(func.count()).select_from(MigratedAccount)) == 0
