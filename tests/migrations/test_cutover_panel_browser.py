"""The admin page's cutover evidence in headless Chromium, served on a loopback port: the
go/no-go with each criterion's figure and threshold, the parallel run's differences, the
clients of the legacy interface, and brownouts planned and removed from the page; axe finds
no serious or critical violation at each step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from migrations.parallel_run.models import ParallelRunDay, ParallelRunMismatch
from modern.db import db
from telepoints_compat.legacy_traffic import EXTENSION
from tests.browser import assert_accessible
from tests.compat.conftest import envelope, post, solde_request

pytestmark = pytest.mark.browser
NOTICE = dt.date.today() - dt.timedelta(days=30)  # TELEPOINTS_DEPRECATION_DATE


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"telepoints_deprecation_date": NOTICE}


def test_the_cutover_evidence_on_the_admin_page(app: Flask, base_url: str, page: Any,
                                                make_token: Callable[..., str]) -> None:
    from playwright.sync_api import expect

    # A legacy client, and one difference found by the parallel run.
    post(app.test_client(), envelope(solde_request("991091010000", "AAAAAAAA")),
         headers={"User-Agent": "AutoEcole/2.1"}, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        app.extensions[EXTENSION].census.flush()
        db.session.add_all([
            ParallelRunDay(day=now.date(), kind="ConsulterSolde", result="identique", count=99),
            ParallelRunDay(day=now.date(), kind="ConsulterSolde", result="different", count=1),
            ParallelRunMismatch(at=now, kind="ConsulterSolde", numero="********0001",
                                field="solde", here="12", legacy="11")])
        db.session.commit()

    page.goto(f"{base_url}/admin/migrations")
    page.get_by_label("Jeton d'administration").fill(make_token(name="bascule"))
    page.get_by_role("button", name="Utiliser ce jeton").click()
    expect(page.locator("#pret-verdict")).to_have_text(
        "Non : au moins un critère n'est pas atteint.")
    readiness = page.get_by_role("region", name="Critères pour éteindre l'ancien service")
    rate = readiness.get_by_role("row").filter(has_text="Taux de différences")
    expect(rate).to_contain_text("0.01")
    expect(rate).to_contain_text("non atteint")
    clients = readiness.get_by_role("row").filter(has_text="Clients de l'interface")
    expect(clients).to_contain_text("non atteint")
    expect(page.locator("#parallele-resume")).to_contain_text(
        "100 réponse(s) comparée(s), 1 différente(s) (taux 1.00 %)")
    differences = page.get_by_role("region", name="Dernières différences entre les réponses")
    expect(differences.get_by_role("row").filter(has_text="********0001")).to_contain_text(
        "solde")
    table = page.get_by_role("region", name="Clients de l'interface Télépoints")
    row = table.get_by_role("row").filter(has_text="AutoEcole/2.1")
    expect(row).to_contain_text("192.0.2.0/24")
    expect(row).to_contain_text("ConsulterSolde : 1")
    # Seen today, after the notice's date: it received the notice and still calls.
    expect(row.get_by_role("cell").last).to_have_text("appelle encore depuis l'avis")
    expect(page.locator("#clients-avis")).to_contain_text(
        f"Avis de fermeture daté du {NOTICE:%d/%m/%Y}")
    assert "192.0.2.10" not in page.content()
    assert_accessible(page)

    tomorrow = (dt.datetime.now() + dt.timedelta(days=1)).replace(second=0, microsecond=0)
    page.get_by_label("Début").fill(tomorrow.strftime("%Y-%m-%dT10:00"))
    page.get_by_label("Fin").fill(tomorrow.strftime("%Y-%m-%dT11:00"))
    page.get_by_label("Part refusée").fill("0.5")
    page.get_by_role("button", name="Programmer").click()
    expect(page.get_by_role("status")).to_contain_text("Interruption programmée.")
    planned = page.get_by_role("region", name="Interruptions programmées")
    expect(planned.get_by_role("row").filter(has_text="50 %")).to_have_count(1)
    expect(page.locator("#annonce")).to_contain_text("Interruptions programmées de Télépoints")
    assert_accessible(page)

    planned.get_by_role("button", name="Retirer").click()
    expect(page.get_by_role("status")).to_contain_text("Interruption retirée.")
    expect(planned).to_contain_text("Aucune interruption programmée.")
