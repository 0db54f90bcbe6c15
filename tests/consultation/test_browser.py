"""The holder's pages in headless Chromium, against a real server on loopback (and FranceConnect
(oidc-provider) on another port): the dashboard of demo holders in each situation, on a desktop
and on a phone, the forecast, a document downloaded then verified on /verifier, a tampered
code and an expired document refused with their reason, the full record through FranceConnect,
the alerts page. axe finds no serious or critical violation on any page."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from werkzeug.serving import make_server

from adapters.franceconnect_provider import DemoIdentity, ProviderProcess
from modern.documents.pdf import build, printable_code
from modern.documents.seal import ATTESTATION
from modern.licences.record import decode_record
from modern.points.rules import french_date
from modern.points.services import today_in_paris
from modern.settings import Settings
from tests.accounts.support import RunningProvider, settings_for, start_provider
from tests.browser import assert_accessible, chromium
from tests.conftest import empty_database, seal_key_in_service_since
from tests.consultation.support import (
    PASSWORD,
    demo_records,
    import_records,
    open_account,
)
from wsgi import create_app

pytestmark = pytest.mark.browser

# Scenario -> what its dashboard must say besides the balance.
SITUATIONS = {
    "sans_infraction": "Votre solde est au maximum possible aujourd'hui",
    "un_point_recent": "revient six mois plus tard",
    "plusieurs_retraits": "Récupérer des points avec un stage",
    "retraits_anciens_restitues": "Restitution de points",
    "stage_apres_retraits": "Stage de sensibilisation",
    "probatoire_sans_infraction": "Votre solde ne peut dépasser 8 points",
    "probatoire_aac": "Période probatoire",
    "probatoire_avec_infraction": "Stage obligatoire de sensibilisation",
    "probatoire_formation_complementaire": "Période probatoire",
    "suspendu": "Votre permis est suspendu du",
    "invalide": "Votre permis n'est plus valide",
    "poids_lourd": "Poids lourds",
    "longue_histoire": "Historique des dix dernières années",
    "numero_ancien": "01.01 (Lunettes)",
    "solde_en_ecart": "Le solde du fichier ne correspond pas aux mouvements enregistrés",
    "solde_bas": "Récupérer des points avec un stage",
}


@dataclass
class Live:
    app: Flask
    url: str
    provider: RunningProvider
    records: dict[str, dict[str, Any]]

    def email(self, scenario: str) -> str:
        return f"{scenario.replace('_', '.')}@exemple.fr"


def identity(record: dict[str, Any]) -> DemoIdentity:
    holder = record["titulaire"]
    return DemoIdentity(given_name=holder["prenoms"], family_name=holder["nom"],
                        birthdate=holder["dateNaissance"])


@pytest.fixture
def live(make_settings: Callable[..., Settings], tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch,
         franceconnect_process: ProviderProcess) -> Iterator[Live]:
    """The service and FranceConnect (oidc-provider) on loopback; the demo licences
    imported, an account (e-mail and password) for each situation."""
    records = demo_records()
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start),
                         threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    provider = start_provider(franceconnect_process, url,
                              (identity(records["plusieurs_retraits"]),))
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(settings_for(make_settings, url, provider))
    holder["app"] = app
    import_records(app, records.values())
    result = Live(app, url, provider, records)
    for scenario in SITUATIONS:
        open_account(app, records[scenario]["numeroDossier"], result.email(scenario),
                     password=PASSWORD)
    thread = threading.Thread(target=server.serve_forever, daemon=True,
                              kwargs={"poll_interval": 0.05})
    thread.start()
    yield result
    server.shutdown()
    thread.join(5)
    server.server_close()
    empty_database(app)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def new_page(browser: Any, live: Live, **options: Any) -> Any:
    context = browser.new_context(base_url=live.url, locale="fr-FR", accept_downloads=True,
                                  **options)
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    opened = new_page(browser, live)
    yield opened
    opened.context.close()


def sign_in(page: Any, email: str) -> None:
    page.goto("/compte/connexion")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    page.wait_for_url("**/tableau-de-bord")


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/")


def test_the_dashboard_of_each_situation(page: Any, live: Live) -> None:
    assert set(SITUATIONS) == set(live.records)  # every scenario of the demo generator
    for scenario, expected in SITUATIONS.items():
        record = live.records[scenario]
        sign_in(page, live.email(scenario))
        balance = page.locator("#solde-titre")
        assert balance.inner_text() == (
            f"Solde : {record['solde']} point{'s' if record['solde'] > 1 else ''}"), scenario
        updated = dt.datetime.fromisoformat(record["dateMiseAJour"]).date()
        assert french_date(updated) in page.locator("#fraicheur").inner_text()
        assert expected in page.locator("main").inner_text(), scenario
        assert_accessible(page)
        sign_out(page)


def test_the_forecast_is_shown_with_its_reasons(page: Any, live: Live) -> None:
    sign_in(page, live.email("probatoire_sans_infraction"))
    table = page.locator("#tableau-previsions")
    rows = table.locator("tbody tr")
    assert rows.count() >= 1
    assert "période probatoire" in rows.first.inner_text()
    assert "R223-1" in rows.first.inner_text()
    page.get_by_role("link", name="Prochaines restitutions").click()
    assert page.url.endswith("#previsions")


def test_the_dashboard_is_usable_on_a_phone(browser: Any, live: Live) -> None:
    phone = new_page(browser, live, viewport={"width": 360, "height": 740}, is_mobile=True,
                     has_touch=True, device_scale_factor=2)
    try:
        sign_in(phone, live.email("longue_histoire"))
        # Nothing wider than the screen but the tables, which scroll in their own frame.
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, width
        assert phone.locator("#tableau-historique").is_visible()
        assert_accessible(phone)
    finally:
        phone.context.close()


def download(page: Any, name: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.get_by_role("link", name=f"Télécharger (PDF) : {name}").click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_a_downloaded_attestation_verifies_and_tampering_or_expiry_is_refused(
        page: Any, live: Live, tmp_path: Path) -> None:
    record = live.records["plusieurs_retraits"]
    sign_in(page, live.email("plusieurs_retraits"))
    pdf = download(page, "Attestation de droits à conduire", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")
    sign_out(page)

    # A third party, not signed in, checks the file it was handed.
    page.goto("/verifier")
    assert_accessible(page)
    page.locator("#document").set_input_files(str(pdf))
    page.get_by_role("button", name="Vérifier").click()
    result = page.locator("#resultat")
    assert "Document authentique" in result.inner_text()
    table = page.locator("table").inner_text()
    assert record["numeroDossier"] in table and record["titulaire"]["nom"] in table
    assert "Signé par" in table and "Valable jusqu'au" in table
    # Each attested field once, in words.
    rows = [line.split("\t")[0] for line in table.splitlines() if "\t" in line]
    assert len(rows) == len(set(rows)), rows
    assert "Fin de validité du document" not in table and "Date d'édition" not in table
    assert "VALIDE" not in table  # the state in words
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert f"{live.url}/verifier" in " ".join(text.split())  # the document names its verifier
    assert "olde" not in page.locator("main table").inner_text()  # never the points
    assert_accessible(page)

    # The printed code with one letter changed.
    seal_key_in_service_since(live.app, 300)  # in service since before the old document
    with live.app.app_context():
        issued = build(decode_record(json.dumps(record)), ATTESTATION,
                       live.app.extensions["seal_keys"], today_in_paris())
        old = build(decode_record(json.dumps(record)), ATTESTATION,
                    live.app.extensions["seal_keys"], today_in_paris() - dt.timedelta(days=130))
    printed = printable_code(issued.code)
    tampered = printed.replace(record["numeroDossier"], "0" + record["numeroDossier"][1:])
    assert tampered != printed
    page.goto("/verifier")
    page.locator("#code").fill(tampered)
    page.get_by_role("button", name="Vérifier").click()
    assert "Document refusé" in page.locator("#resultat").inner_text()
    assert "a été modifié" in page.locator("#resultat").inner_text()
    assert_accessible(page)

    # A document older than its four months.
    page.goto("/verifier")
    page.locator("#code").fill(printable_code(old.code))
    page.get_by_role("button", name="Vérifier").click()
    assert "Document expiré" in page.locator("#resultat").inner_text()
    assert "validité est dépassée" in page.locator("#resultat").inner_text()
    assert_accessible(page)


def test_the_full_record_through_franceconnect(page: Any, live: Live, tmp_path: Path) -> None:
    record = live.records["plusieurs_retraits"]
    sign_in(page, live.email("plusieurs_retraits"))
    # With the password session, the full record asks for FranceConnect.
    documents = page.locator("#documents ~ .fr-grid-row")
    assert "demande une connexion avec FranceConnect" in documents.inner_text()
    documents.get_by_role("button", name="S’identifier avec FranceConnect").click()
    holder = record["titulaire"]
    page.get_by_role("button", name=f"Continuer avec {holder['prenoms']} {holder['nom']}").click()
    page.wait_for_url("**/compte/franceconnect/rattacher")
    page.get_by_label("Numéro de dossier").fill(record["numeroDossier"])
    page.get_by_role("button", name="Rattacher mon dossier").click()
    page.wait_for_url("**/tableau-de-bord")
    assert "Connecté avec FranceConnect" in page.content()
    assert_accessible(page)
    pdf = download(page, "Relevé d'information intégral", tmp_path)

    page.goto("/verifier")
    page.locator("#document").set_input_files(str(pdf))
    page.get_by_role("button", name="Vérifier").click()
    assert "Document authentique" in page.locator("#resultat").inner_text()
    assert "Relevé d'information intégral" in page.locator("table caption").inner_text()


def test_the_alerts_page(page: Any, live: Live) -> None:
    sign_in(page, live.email("solde_bas"))
    page.get_by_role("link", name="Choisir mes alertes").click()
    page.wait_for_url("**/tableau-de-bord/alertes")
    assert_accessible(page)
    page.get_by_role("button", name="Activer les alertes par courriel").click()
    assert "Alertes par courriel activées." in page.content()
    page.locator("#telephone").fill("06 12")
    page.get_by_role("button", name="Activer les alertes par SMS").click()
    assert "numéro de téléphone mobile valide" in page.content()
    assert_accessible(page)
