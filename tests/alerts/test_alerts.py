"""Alerts: the holder opts in (own address at once, any other address or a phone after its
confirmation link), a registry import that changes a balance or a status sends exactly one
message per confirmed contact, a second identical import sends none, and an import
interrupted between its write and the sending leaves the change to be sent once later."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from modern.alerts.hooks import AlertHooks
from modern.alerts.services import links_for, pending
from modern.db import db
from modern.licences.importer import IMPORT_HOOKS, Change
from tests.accounts.support import csrf_from, outbox
from tests.consultation.support import import_records, open_account, sign_in


def newer(record: dict[str, Any], *, days: int = 1, **changes: Any) -> dict[str, Any]:
    """The next delivery of a licence: a later update date, and the changes given."""
    delivery = copy.deepcopy(record)
    updated = dt.datetime.fromisoformat(record["dateMiseAJour"].replace("Z", "+00:00"))
    delivery["dateMiseAJour"] = (updated + dt.timedelta(days=days)).isoformat()
    delivery.update(changes)
    return delivery


def alerts_sent(app: Flask) -> list[Any]:
    return [m for m in outbox(app) if m.purpose == "alerte_changement"]


def post(client: FlaskClient, path: str, **data: str) -> Any:
    token = csrf_from(client.get("/tableau-de-bord/alertes").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def holder(app: Flask, client: FlaskClient, record: dict[str, Any], email: str) -> int:
    account = open_account(app, record["numeroDossier"], email)
    sign_in(client, account)
    return account


def confirm_link(app: Flask, client: FlaskClient, recipient: str) -> Any:
    [message] = [m for m in outbox(app, recipient) if m.purpose == "alerte_confirmation"]
    path = urlsplit(re.search(r"https?://\S+", message.body).group(0)).path  # type: ignore[union-attr]
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})


# -- choosing where to be told --------------------------------------------------------------------


def test_the_accounts_own_confirmed_address_is_active_at_once(
        app: Flask, client: FlaskClient, demo: dict[str, dict[str, Any]]) -> None:
    holder(app, client, demo["plusieurs_retraits"], "helene@exemple.fr")
    page = client.get("/tableau-de-bord/alertes").get_data(as_text=True)
    assert 'value="helene@exemple.fr"' in page and "Désactivées" in page
    response = post(client, "/tableau-de-bord/alertes/courriel", email="Helene@Exemple.fr")
    assert response.status_code == 303
    page = client.get("/tableau-de-bord/alertes").get_data(as_text=True)
    assert "Alertes par courriel activées." in page and "Activées" in page
    assert outbox(app) == []  # nothing to confirm: the address was confirmed at sign-up


def test_another_address_needs_its_confirmation_link(
        app: Flask, client: FlaskClient, demo: dict[str, dict[str, Any]]) -> None:
    holder(app, client, demo["plusieurs_retraits"], "helene@exemple.fr")
    post(client, "/tableau-de-bord/alertes/courriel", email="perso@exemple.fr")
    assert "En attente" in client.get("/tableau-de-bord/alertes").get_data(as_text=True)
    anonymous = app.test_client()  # the link works from the mailbox, signed in or not
    assert "Vous recevrez une alerte" in confirm_link(app, anonymous, "perso@exemple.fr").get_data(
        as_text=True)
    assert "Activées" in client.get("/tableau-de-bord/alertes").get_data(as_text=True)
    again = confirm_link(app, anonymous, "perso@exemple.fr")  # used up
    assert again.status_code == 400


def test_sms_alerts_need_a_valid_mobile_and_its_confirmation(
        app: Flask, client: FlaskClient, demo: dict[str, dict[str, Any]]) -> None:
    holder(app, client, demo["plusieurs_retraits"], "helene@exemple.fr")
    refused = post(client, "/tableau-de-bord/alertes/sms", telephone="01 23")
    assert refused.status_code == 422
    assert "numéro de téléphone mobile valide" in refused.get_data(as_text=True)
    assert post(client, "/tableau-de-bord/alertes/sms",
                telephone="06 12 34 56 78").status_code == 303
    confirm_link(app, client, "+33612345678")
    page = client.get("/tableau-de-bord/alertes").get_data(as_text=True)
    assert "Les alertes sont envoyées au" in page and "+33612345678" in page


def test_forms_without_their_token_are_refused(
        app: Flask, client: FlaskClient, demo: dict[str, dict[str, Any]]) -> None:
    holder(app, client, demo["plusieurs_retraits"], "helene@exemple.fr")
    response = client.post("/tableau-de-bord/alertes/courriel", data={"email": "x@exemple.fr"})
    assert response.status_code == 400 and outbox(app) == []


def test_confirmation_links_are_limited_per_account(
        app: Flask, client: FlaskClient, demo: dict[str, dict[str, Any]]) -> None:
    holder(app, client, demo["plusieurs_retraits"], "helene@exemple.fr")
    statuses = [post(client, "/tableau-de-bord/alertes/sms",
                     telephone=f"06 12 34 56 7{n}").status_code for n in range(6)]
    assert statuses == [303] * 5 + [429]


def test_stopping_alerts(app: Flask, client: FlaskClient,
                         demo: dict[str, dict[str, Any]]) -> None:
    holder(app, client, demo["plusieurs_retraits"], "helene@exemple.fr")
    post(client, "/tableau-de-bord/alertes/courriel", email="helene@exemple.fr")
    post(client, "/tableau-de-bord/alertes/courriel/arreter")
    assert "Désactivées" in client.get("/tableau-de-bord/alertes").get_data(as_text=True)
    import_records(app, [newer(demo["plusieurs_retraits"], solde=1)])
    assert alerts_sent(app) == []


# -- telling the changes ----------------------------------------------------------------------


def opted_in(app: Flask, demo: dict[str, dict[str, Any]], scenario: str, email: str) -> None:
    client = app.test_client()
    holder(app, client, demo[scenario], email)
    post(client, "/tableau-de-bord/alertes/courriel", email=email)


def test_an_import_that_changes_a_balance_sends_one_message_and_a_reimport_none(
        app: Flask, runner: FlaskCliRunner, demo: dict[str, dict[str, Any]],
        tmp_path: Path) -> None:
    opted_in(app, demo, "plusieurs_retraits", "a@exemple.fr")
    opted_in(app, demo, "sans_infraction", "b@exemple.fr")  # no change for this one
    open_account(app, demo["solde_bas"]["numeroDossier"], "c@exemple.fr")  # not opted in
    before = demo["plusieurs_retraits"]
    delivery = [newer(before, solde=before["solde"] - 2), newer(demo["sans_infraction"]),
                newer(demo["solde_bas"], solde=0, etatPermis="INVALIDE")]
    extract = tmp_path / "extract.jsonl"
    extract.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in delivery))

    result = runner.invoke(args=["registry", "import", str(extract)])
    assert result.exit_code == 0, result.output
    assert "alerts: 1 change(s) told in 1 message(s)" in result.output
    [message] = alerts_sent(app)
    assert message.recipient == "a@exemple.fr"
    assert f"Solde de points : {before['solde'] - 2} points (auparavant {before['solde']} " \
        in message.body
    assert before["numeroDossier"][-4:] in message.body
    assert before["numeroDossier"] not in message.body  # never the whole file number
    assert "http://127.0.0.1:8000/tableau-de-bord" in message.body

    again = runner.invoke(args=["registry", "import", str(extract)])
    assert again.exit_code == 0 and "alerts" not in again.output
    assert len(alerts_sent(app)) == 1


def test_a_status_change_is_told_by_email_and_sms(
        app: Flask, demo: dict[str, dict[str, Any]]) -> None:
    client = app.test_client()
    holder(app, client, demo["solde_bas"], "d@exemple.fr")
    post(client, "/tableau-de-bord/alertes/courriel", email="d@exemple.fr")
    post(client, "/tableau-de-bord/alertes/sms", telephone="07 81 23 45 67")
    confirm_link(app, client, "+33781234567")
    with app.app_context():
        hooks = app.extensions[IMPORT_HOOKS]
        import_records(app, [newer(demo["solde_bas"], solde=0, etatPermis="INVALIDE")],
                       on_changes=hooks[0].changed)
        hooks[0].finished(db.session())
    messages = {m.channel: m for m in alerts_sent(app)}
    assert set(messages) == {"email", "sms"}
    assert "État du permis : invalidé (solde nul) (auparavant valide)" in messages["email"].body
    assert "l'état de votre permis a changé" in messages["email"].subject
    assert "Solde de points : 0 point" in messages["sms"].body


def test_an_import_interrupted_before_the_sending_is_told_once_later(
        app: Flask, runner: FlaskCliRunner, demo: dict[str, dict[str, Any]]) -> None:
    opted_in(app, demo, "plusieurs_retraits", "a@exemple.fr")
    record = demo["plusieurs_retraits"]
    hooks = AlertHooks(links_for("http://127.0.0.1:8000"))
    # The batch commits the licence and the change together; the process stops before
    # `finished` sends anything.
    import_records(app, [newer(record, solde=record["solde"] - 1)], on_changes=hooks.changed)
    with app.app_context():
        assert pending(db.session()) == 1
    assert alerts_sent(app) == []
    assert "1 change(s) pending" in runner.invoke(args=["alerts", "pending"]).output

    assert "1 change(s) told in 1 message(s)" in runner.invoke(args=["alerts", "send"]).output
    assert "0 change(s) told" in runner.invoke(args=["alerts", "send"]).output
    assert len(alerts_sent(app)) == 1
    # The same delivery again: the stored row is as new, so no change is found at all.
    import_records(app, [newer(record, solde=record["solde"] - 1)], on_changes=hooks.changed)
    with app.app_context():
        assert pending(db.session()) == 0


def test_a_contact_not_confirmed_gets_nothing(
        app: Flask, demo: dict[str, dict[str, Any]]) -> None:
    client = app.test_client()
    holder(app, client, demo["plusieurs_retraits"], "a@exemple.fr")
    post(client, "/tableau-de-bord/alertes/courriel", email="jamais-confirme@exemple.fr")
    record = demo["plusieurs_retraits"]
    with app.app_context():
        hook = app.extensions[IMPORT_HOOKS][0]
        import_records(app, [newer(record, solde=0)], on_changes=hook.changed)
        hook.finished(db.session())
    assert alerts_sent(app) == []


# -- what the importer reports --------------------------------------------------------------------


def test_the_importer_reports_old_and_new_figures_of_changed_licences_only(
        app: Flask, demo: dict[str, dict[str, Any]]) -> None:
    heard: list[Change] = []
    a, b, c = demo["plusieurs_retraits"], demo["sans_infraction"], demo["suspendu"]
    summary = import_records(app, [
        newer(a, solde=2),
        newer(a, days=2, solde=1),  # two deliveries in one batch: one change, first to last
        newer(b),  # newer, same figures: no change
        dict(c, solde=0),  # not newer: ignored
        {**newer(demo["solde_bas"]), "numeroDossier": "990000000001"},  # a new licence
    ], on_changes=lambda session, changes: heard.extend(changes))
    assert (summary.replaced, summary.unchanged, summary.inserted) == (3, 1, 1)
    assert [(ch.numero, ch.solde_avant, ch.solde, ch.etat_avant, ch.etat) for ch in heard] == [
        (a["numeroDossier"], a["solde"], 1, "VALIDE", "VALIDE")]
    assert heard[0].date_mise_a_jour == dt.datetime.fromisoformat(
        newer(a, days=2)["dateMiseAJour"])


@pytest.mark.parametrize("batch_size", [1, 2000])
def test_no_listener_no_cost_and_the_same_outcome(app: Flask, demo: dict[str, dict[str, Any]],
                                                  batch_size: int) -> None:
    summary = import_records(app, [newer(demo["plusieurs_retraits"], solde=3)],
                             batch_size=batch_size)
    assert summary.replaced == 1
    with app.app_context():
        from modern.licences.models import Licence

        stored = db.session.get(Licence, demo["plusieurs_retraits"]["numeroDossier"])
        assert stored is not None and stored.solde == 3
