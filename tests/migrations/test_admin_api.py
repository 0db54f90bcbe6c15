"""The admin API: bearer tokens kept hashed, scopes, audit of every action (refusals too),
rate limits, upload with its size limit, dry run, status, paged errors, stop and resume,
revert, and the cutover panel and switch. And its page."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from migrations.accounts.models import MigratedAccount
from migrations.admin import tokens
from migrations.admin.models import AdminAudit, AdminToken
from migrations.export import generator
from migrations.jobs.models import OUTCOMES, REJETE, STATES
from migrations.lazy.models import MODES
from modern.db import db
from modern.logs import mask_numero
from tests.migrations.conftest import expected_outcomes, report_rows, sample


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def upload(client: FlaskClient, secret: str, data: bytes, **fields: str) -> Any:
    import io
    return client.post("/admin/api/jobs", headers=auth(secret),
                       data={"fichier": (io.BytesIO(data), "export.csv"), **fields},
                       content_type="multipart/form-data")


def wait_done(client: FlaskClient, secret: str, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"/admin/api/jobs/{job_id}", headers=auth(secret)).json
        if job["state"] in ("succeeded", "failed", "stopped"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)
    pytest.fail("the job did not finish")


def audit_actions(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(a.actor, a.action, a.outcome) for a in
                db.session.scalars(select(AdminAudit).order_by(AdminAudit.id))]


def test_tokens_are_kept_as_digests_only(app: Flask, make_token: Callable[..., str]) -> None:
    secret = make_token(tokens.READ, name="lecture")
    with app.app_context():
        stored = db.session.scalars(select(AdminToken)).one()
        assert stored.digest == tokens.digest(secret) and secret not in stored.digest
        assert stored.scopes == tokens.READ


def test_no_token_a_bad_token_and_a_missing_scope_are_refused_and_audited(
        app: Flask, client: FlaskClient, make_token: Callable[..., str]) -> None:
    assert client.get("/admin/api/jobs").status_code == 401
    assert client.get("/admin/api/jobs", headers=auth("tpadm_nope")).status_code == 401
    reader = make_token(tokens.READ, name="lecteur")
    assert client.get("/admin/api/jobs", headers=auth(reader)).status_code == 200
    refused = client.put("/admin/api/cutover", headers=auth(reader),
                         json={"mode": "off", "confirmation": "off"})
    assert refused.status_code == 403
    assert refused.json["code"] == "INTERDIT"
    actions = audit_actions(app)
    assert [a for a in actions if a[2] == "refused"] == [
        ("anonyme", "GET migrations_admin_api.list_jobs", "refused"),
        ("anonyme", "GET migrations_admin_api.list_jobs", "refused"),
        ("lecteur", "cutover.set", "refused")]
    assert ("lecteur", "job.list", "ok") in actions


def test_revoked_and_expired_tokens_are_refused(app: Flask, client: FlaskClient,
                                                make_token: Callable[..., str]) -> None:
    secret = make_token(name="partant")
    assert client.get("/admin/api/cutover", headers=auth(secret)).status_code == 200
    with app.app_context():
        tokens.revoke(db.session, "partant")
        db.session.commit()
    assert client.get("/admin/api/cutover", headers=auth(secret)).status_code == 401


def test_create_token_command_prints_the_token_once(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["admin", "create-token", "ops", "--scope", tokens.READ])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith(tokens.PREFIX)
    response = app.test_client().get("/admin/api/jobs", headers=auth(secret))
    assert response.status_code == 200


def test_a_dry_run_then_a_real_run_through_the_api(app: Flask, client: FlaskClient,
                                                   make_token: Callable[..., str]) -> None:
    secret = make_token()
    data = sample("legacy-export.csv").read_bytes()
    dry = upload(client, secret, data, dry_run="true")
    assert dry.status_code == 202 and dry.headers["Location"].endswith(f"/{dry.json['id']}")
    done = wait_done(client, secret, dry.json["id"])
    assert done["state"] == "succeeded" and done["dry_run"]
    assert (done["migrated"], done["rejected"], done["read"]) == (33, 3, 38)
    with app.app_context():
        assert db.session.scalars(select(MigratedAccount)).first() is None

    real = upload(client, secret, data)
    job = wait_done(client, secret, real.json["id"])
    counters = ("migrated", "ignored_doublon", "ignored_clos", "ignored_deja_migre", "updated",
                "rejected")
    assert sum(job[name] for name in counters) == job["read"] == job["lines"] == 38
    report = client.get(f"/admin/api/jobs/{job['id']}/report", headers=auth(secret))
    assert report.mimetype == "text/csv"
    assert [tuple(r[:3]) for r in report_rows(report.get_data(as_text=True))[1:]] == \
        expected_outcomes()

    page = client.get(f"/admin/api/jobs/{job['id']}/errors?limit=2", headers=auth(secret)).json
    assert [i["ligne"] for i in page["items"]] == [32, 34] and page["next_after"] == 34
    rest = client.get(f"/admin/api/jobs/{job['id']}/errors?after=34",
                      headers=auth(secret)).json
    assert [(i["ligne"], i["resultat"]) for i in rest["items"]] == [
        (37, "REJETE"), (38, "REJETE"), (39, "REJETE")]
    assert rest["next_after"] is None

    shown = client.get("/admin/api/accounts/830793030102", headers=auth(secret))
    assert shown.json["source"] == "bulk" and shown.json["line"] == 35
    reverted = client.post("/admin/api/accounts/830793030102/revert", headers=auth(secret),
                           json={"confirmation": "830793030102"})
    assert reverted.json["codes_removed"] == 1
    assert client.get("/admin/api/accounts/830793030102",
                      headers=auth(secret)).status_code == 404
    panel = client.get("/admin/api/cutover", headers=auth(secret)).json
    assert (panel["migrated"], panel["failed"]) == (32, 3)
    switched = client.put("/admin/api/cutover", headers=auth(secret),
                          json={"mode": "off", "confirmation": "off"})
    assert switched.json["mode"] == "off"
    assert client.put("/admin/api/cutover", headers=auth(secret),
                      json={"mode": "n'importe", "confirmation": "n'importe"}).status_code == 400
    actions = {action for _actor, action, outcome in audit_actions(app) if outcome == "ok"}
    assert {"job.create", "job.status", "job.report", "job.errors", "account.revert",
            "cutover.set"} <= actions


def test_a_revert_and_a_cutover_need_a_confirmation_naming_what_they_change(
        app: Flask, client: FlaskClient, make_token: Callable[..., str]) -> None:
    """A script that posts a revert or a mode with no `confirmation`, or with one that names
    another file or mode, changes nothing: 400 with the field refused, audited as refused."""
    secret = make_token(name="agent")
    job = upload(client, secret, sample("legacy-export.csv").read_bytes())
    wait_done(client, secret, job.json["id"])
    revert = "/admin/api/accounts/830793030102/revert"
    for options in ({}, {"json": {}}, {"json": {"confirmation": ""}},
                    {"json": {"confirmation": "991091010000"}}):
        refused = client.post(revert, headers=auth(secret), **options)
        assert refused.status_code == 400, options
        assert refused.mimetype == "application/problem+json"
    assert "confirmation" in refused.json["errors"]
    assert refused.json["detail"] == ("La confirmation ne nomme pas ce dossier : rien n'est "
                                      "annulé.")
    assert client.get("/admin/api/accounts/830793030102",
                      headers=auth(secret)).status_code == 200  # still migrated

    for body in ({"mode": "off"}, {"mode": "off", "confirmation": "legacy"},
                 {"mode": "off", "confirmation": "OFF "}):
        refused = client.put("/admin/api/cutover", headers=auth(secret), json=body)
        assert refused.status_code == 400 and "confirmation" in refused.json["errors"], body
    assert client.get("/admin/api/cutover", headers=auth(secret)).json["mode"] == "migration"
    with app.app_context():
        refusals = [(a.action, a.details) for a in db.session.scalars(
            select(AdminAudit).where(AdminAudit.outcome == "refused").order_by(AdminAudit.id))]
    assert refusals == [("account.revert", {"reason": "REQUETE_INVALIDE"})] * 4 + [
        ("cutover.set", {"reason": "REQUETE_INVALIDE"})] * 3

    # The number as people type it (spaces, lower case) confirms it.
    done = client.post(revert, headers=auth(secret), json={"confirmation": "8307 9303 0102"})
    assert done.status_code == 200 and done.json["numero"] == "830793030102"
    assert client.put("/admin/api/cutover", headers=auth(secret),
                      json={"mode": "off", "confirmation": "off"}).json["mode"] == "off"


def test_the_token_in_use_is_told_to_its_holder(client: FlaskClient,
                                                make_token: Callable[..., str]) -> None:
    secret = make_token(tokens.READ, tokens.REVERT, name="support-1")
    shown = client.get("/admin/api/token", headers=auth(secret)).json
    assert shown["name"] == "support-1"
    assert shown["scopes"] == [tokens.READ, tokens.REVERT]
    assert shown["expires_at"] is not None
    assert client.get("/admin/api/token").status_code == 401


def test_stop_then_resume_finishes_with_counts_that_add_up(
        app: Flask, client: FlaskClient, make_token: Callable[..., str]) -> None:
    secret = make_token()
    data = generator.header() + b"".join(generator.lines(3000))
    created = upload(client, secret, data, demarrer="false")
    job_id = created.json["id"]
    assert created.json["state"] == "created"
    stopped = client.post(f"/admin/api/jobs/{job_id}/stop", headers=auth(secret))
    assert stopped.json["state"] == "stopped"
    client.post(f"/admin/api/jobs/{job_id}/resume", headers=auth(secret))
    job = wait_done(client, secret, job_id)
    assert job["state"] == "succeeded"
    counters = ("migrated", "ignored_doublon", "ignored_clos", "ignored_deja_migre", "updated",
                "rejected")
    assert sum(job[name] for name in counters) == job["read"] == 3000
    assert client.post(f"/admin/api/jobs/{job_id}/resume",
                       headers=auth(secret)).status_code == 409


def test_an_upload_over_the_limit_is_refused_with_413(app: Flask, client: FlaskClient,
                                                      make_token: Callable[..., str]) -> None:
    app.config["SETTINGS"] = app.config["SETTINGS"].__class__(
        **{**vars(app.config["SETTINGS"]), "migration_upload_max_bytes": 1000})
    secret = make_token()
    response = upload(client, secret, sample("legacy-export.csv").read_bytes())
    assert response.status_code == 413


def test_not_an_export_and_server_side_paths_outside_the_folder(
        app: Flask, client: FlaskClient, make_token: Callable[..., str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = make_token()
    response = upload(client, secret, b"a;b\r\n1;2\r\n")
    assert response.status_code == 400 and "en-tête" in response.json["detail"]
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "ok.csv").write_bytes(sample("legacy-export.csv").read_bytes())
    app.config["SETTINGS"] = app.config["SETTINGS"].__class__(
        **{**vars(app.config["SETTINGS"]), "migration_files_dir": str(tmp_path / "exports")})
    outside = client.post("/admin/api/jobs", headers=auth(secret),
                          json={"chemin": "../../etc/passwd", "demarrer": False})
    assert outside.status_code == 404
    inside = client.post("/admin/api/jobs", headers=auth(secret),
                         json={"chemin": "ok.csv", "dry_run": True})
    assert inside.status_code == 202
    assert wait_done(client, secret, inside.json["id"])["migrated"] == 33


@pytest.mark.parametrize("settings_overrides", [{"admin_rate_limit_per_minute": 5}])
def test_requests_are_rate_limited(client: FlaskClient, make_token: Callable[..., str]) -> None:
    secret = make_token()
    statuses = [client.get("/admin/api/cutover", headers=auth(secret)).status_code
                for _ in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]
    assert client.get("/admin/api/cutover", headers=auth(secret)).headers["Retry-After"]


def test_the_admin_page_is_served(client: FlaskClient) -> None:
    page = client.get("/admin/migrations")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Migration des comptes Télépoints" in text and "admin.js" in text
    assert client.get("/admin/static/migrations/admin.js").status_code == 200


_TEXT_CALL = re.compile(r'\btn?\(\s*(?:[\w.]+\s*\?\s*)?"(\w+)"(?:\s*:\s*"(\w+)")?')


def test_the_page_gives_its_script_every_text_it_shows(client: FlaskClient) -> None:
    """admin.js holds no text of its own: each it shows is in the page, translated, and
    each code the API sends has its words (outcomes in the past and in the conditional)."""
    script = (Path(__file__).parents[2] / "migrations" / "static" / "admin.js").read_text()
    used = {key for pair in _TEXT_CALL.findall(script) for key in pair if key}
    for language, outcome in (("fr-FR", "serait rejetée"), ("en-GB", "would be rejected")):
        html = client.get("/admin/migrations",
                          headers={"Accept-Language": language}).get_data(as_text=True)
        found = re.search(r'<script type="application/json" id="textes-admin">(.*?)</script>',
                          html, re.S)
        assert found is not None
        words = json.loads(found.group(1))
        assert used == set(words["textes"])
        assert set(words["resultats"]) == set(OUTCOMES)
        assert words["resultats"][REJETE][1] == outcome
        assert set(words["etats"]) == set(STATES) and set(words["modes"]) == set(MODES)
    assert words["zero_singulier"] is False and words["textes"]["n_lignes"] == [
        "%(n)s line", "%(n)s lines"]


def test_every_authenticated_request_is_audited_refusals_included(
        app: Flask, client: FlaskClient, make_token: Callable[..., str]) -> None:
    """400, 404, 409 and the rest leave their line too, with the token, the status or the
    problem's code, and what the request named (a file number masked)."""
    secret = make_token(name="agent")
    asked = [
        (client.get("/admin/api/jobs/424242", headers=auth(secret)), 404),
        (client.get("/admin/api/jobs/1/errors?limit=0", headers=auth(secret)), 400),
        (client.post("/admin/api/jobs", headers=auth(secret), json={"chemin": ""}), 400),
        (client.put("/admin/api/cutover", headers=auth(secret),
                    json={"mode": "?", "confirmation": "?"}), 400),
        (client.get("/admin/api/accounts/750112345678", headers=auth(secret)), 404),
        (client.get(f"/admin/api/jobs/{2**63}", headers=auth(secret)), 404),
        (client.get("/admin/api/openapi.json", headers=auth(secret)), 200),
    ]
    assert [response.status_code for response, _ in asked] == [status for _, status in asked]
    with app.app_context():
        lines = list(db.session.scalars(select(AdminAudit).order_by(AdminAudit.id)))
    assert len(lines) == len(asked)
    assert all(line.actor == "agent" and line.request_id for line in lines)
    assert [(line.action, line.outcome, line.target) for line in lines] == [
        ("job.status", "refused", "424242"),
        ("job.errors", "refused", "1"),
        ("job.create", "refused", None),
        ("cutover.set", "refused", None),
        ("account.show", "refused", mask_numero("750112345678")),
        ("GET migrations_admin_api.job_status", "refused", str(2**63)),
        ("GET migrations_admin_api.document", "ok", None),
    ]
    assert lines[0].details == {"reason": "INTROUVABLE"}
    assert lines[1].details == {"reason": "REQUETE_INVALIDE"}


def test_an_admin_request_that_fails_is_audited_as_an_error(
        app: Flask, client: FlaskClient, make_token: Callable[..., str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from migrations.jobs import services

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "list_jobs", broken)
    secret = make_token(name="agent")
    response = client.get("/admin/api/jobs", headers=auth(secret))
    assert response.status_code == 500 and "disk" not in response.get_data(as_text=True)
    assert audit_actions(app) == [("agent", "job.list", "error")]
