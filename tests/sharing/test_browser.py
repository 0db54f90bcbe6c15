"""Share codes and the calendar in headless Chromium, against a real server on loopback: the
holder makes a code, a third party checks it from /verifier, the holder sees the look and
revokes the code; a revoked code, an expired one and a wrong name read alike. axe finds no
serious or critical violation on any of these pages."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from werkzeug.serving import make_server

from modern.db import db
from modern.settings import Settings
from modern.sharing.models import ShareCode
from tests.browser import assert_accessible, chromium
from tests.conftest import empty_database
from tests.consultation.support import PASSWORD, demo_records, import_records, open_account
from wsgi import create_app

pytestmark = pytest.mark.browser
EMAIL = "titulaire@exemple.fr"


@pytest.fixture
def live(make_settings: Callable[..., Settings], tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Flask, str, dict[str, Any]]]:
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start),
                         threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_settings(public_url=url, rate_limit_per_minute=100_000))
    holder["app"] = app
    record = demo_records()["probatoire_sans_infraction"]
    import_records(app, [record])
    open_account(app, record["numeroDossier"], EMAIL, password=PASSWORD)
    thread = threading.Thread(target=server.serve_forever, daemon=True,
                              kwargs={"poll_interval": 0.05})
    thread.start()
    yield app, url, record
    server.shutdown()
    thread.join(5)
    server.server_close()
    empty_database(app)


def _page(browser: Any, url: str) -> Any:
    context = browser.new_context(base_url=url, locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(15_000)
    return context.new_page()


def _tick(page: Any, label: str) -> None:
    """DSFR draws its own radios and boxes: the user clicks the label."""
    page.locator(f"form label.fr-label:text-is('{label}')").click()
    assert page.get_by_label(label, exact=True).is_checked()


def _make_code(page: Any, purpose: str) -> str:
    page.goto("/tableau-de-bord/partages")
    _tick(page, purpose)
    page.get_by_label("Durée de validité, en jours").fill("7")
    page.get_by_role("button", name="Créer le code").click()
    code: str = page.locator("#code-partage").inner_text()
    return code


def _check(third: Any, code: str, name: str) -> str:
    third.goto("/verifier")
    third.get_by_role("link", name="Vérifier un code de partage").click()
    third.get_by_label("Code de partage").fill(code)
    third.get_by_label("Nom de naissance du titulaire").fill(name)
    third.get_by_role("button", name="Vérifier le code").click()
    text: str = third.locator("#resultat").inner_text()
    return text


def test_make_check_see_the_look_and_revoke(live: tuple[Flask, str, dict[str, Any]],
                                            tmp_path: Path) -> None:
    app, url, record = live
    nom = record["titulaire"]["nom"]
    with chromium() as browser:
        page = _page(browser, url)
        page.goto("/compte/connexion")
        page.locator("#email").fill(EMAIL)
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        page.wait_for_url("**/tableau-de-bord")
        page.get_by_role("link", name="Mes codes de partage").click()
        assert_accessible(page)
        _tick(page, "Employeur")
        page.get_by_label("Durée de validité, en jours").fill("7")
        _tick(page, "Me prévenir par courriel à chaque consultation")
        page.get_by_role("button", name="Créer le code").click()
        code = page.locator("#code-partage").inner_text()
        assert len(code) == 14
        assert_accessible(page)

        third = _page(browser, url)
        shown = _check(third, code, nom)
        assert "Permis valide" in shown
        table = third.locator("table").inner_text()
        assert "Catégorie B" in table and "Employeur" in table
        assert "point" not in (shown + table).lower()
        assert_accessible(third)

        page.goto("/tableau-de-bord/partages")
        looks = page.locator("table").first.inner_text()
        assert "Employeur" in looks and "127.0.0.x" in looks
        page.get_by_role("button", name="Révoquer ce code").click()
        assert "révoqué" in page.locator("main").inner_text()
        assert_accessible(page)

        revoked = _check(third, code, nom)
        expired_code = _make_code(page, "Assurance")
        with app.app_context():
            db.session.execute(update(ShareCode).where(ShareCode.purpose == "assurance")
                               .values(expires_at=dt.datetime.now(dt.UTC)
                                       - dt.timedelta(minutes=1)))
            db.session.commit()
        expired = _check(third, expired_code, nom)
        wrong_name = _check(third, _make_code(page, "Autre"), nom + "E")
        assert "Code refusé" in revoked
        assert revoked == expired == wrong_name
        assert_accessible(third)

        # The calendar page, and its file downloaded from it.
        page.goto("/tableau-de-bord")
        page.get_by_role("link", name="Mes prévisions de restitution dans mon agenda").click()
        assert_accessible(page)
        with page.expect_download() as info:
            page.get_by_role("button", name="Télécharger le fichier agenda (.ics)").click()
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        assert saved.read_bytes().startswith(b"BEGIN:VCALENDAR")
        page.get_by_role("button", name="Créer mon adresse d'abonnement").click()
        assert "/calendrier/" in page.locator("#adresse").inner_text()
        assert_accessible(page)
        third.context.close()
        page.context.close()
