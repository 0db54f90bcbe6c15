"""`flask purge run`: exactly what is past its period goes, everything else stays; a dry run
counts the same rows and changes nothing; a second run finds nothing; one purge at a time."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, insert, select, update

from migrations.accounts.models import MigratedAccount
from migrations.admin import tokens
from migrations.admin.models import AdminAudit
from migrations.export import generator
from migrations.jobs import services
from migrations.jobs.models import MigrationChunk, MigrationEntry, MigrationJob
from migrations.lazy import cutover
from migrations.lazy.models import LegacyTrafficDay
from modern.accounts.models import Account, WebSession
from modern.alerts.models import AlertChange
from modern.db import db
from modern.messaging import outbox_table
from modern.retention import exclusive
from modern.throttling.store import ThrottleCounter
from modern.tokens import UsedToken
from telepoints_compat.codes.models import ConfidentialCode
from telepoints_compat.contacts.models import HolderContact

DAY = dt.timedelta(days=1)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def purge(runner: FlaskCliRunner, *args: str) -> dict[str, int]:
    """Runs the purge; its counts per kind."""
    result = runner.invoke(args=["purge", "run", "--json", *args])
    assert result.exit_code == 0, result.output
    line = next(text for text in result.output.splitlines() if text.startswith('{"dry_run"'))
    rows: dict[str, int] = json.loads(line)["rows"]
    return rows


def nonzero(rows: dict[str, int]) -> dict[str, int]:
    return {kind: count for kind, count in rows.items() if count}


def add(model: Any, *rows: dict[str, Any]) -> None:
    db.session.execute(insert(model), list(rows))
    db.session.commit()


def keys(column: Any) -> set[Any]:
    db.session.rollback()
    return set(db.session.scalars(select(column)))


def test_sessions_tokens_and_counters_go_once_expired(app: Flask, runner: FlaskCliRunner) -> None:
    moment = now()
    with app.app_context():
        add(WebSession, *({"key": key, "data": b"{}", "created_at": moment - DAY,
                           "last_seen_at": moment - DAY, "expires_at": moment + offset}
                          for key, offset in (("ended", -DAY), ("live", DAY))))
        add(UsedToken, *({"token_id": key, "purpose": "activation", "used_at": moment - DAY,
                          "expires_at": moment + offset}
                         for key, offset in (("ended", -DAY), ("live", DAY))))
        add(ThrottleCounter, *({"key": key, "value": 3,
                                "expires_at": moment.timestamp() + offset}
                               for key, offset in (("ended", -60.0), ("live", 600.0))))
    assert nonzero(purge(runner)) == {"web_session.expired": 1, "used_token.expired": 1,
                                      "throttle_counter.expired": 1}
    with app.app_context():
        assert keys(WebSession.key) == keys(UsedToken.token_id) == {"live"}
        assert keys(ThrottleCounter.key) == {"live"}
    assert nonzero(purge(runner)) == {}


def test_only_old_never_confirmed_sign_ups_go(app: Flask, runner: FlaskCliRunner) -> None:
    moment = now()

    def account(numero: str, age: int, **values: Any) -> dict[str, Any]:
        return {"numero": numero, "email": f"{numero}@exemple.fr", "proof": "identite",
                "created_at": moment - age * DAY, **values}

    with app.app_context():
        add(Account,
            account("000000000001", 31),  # pending for longer than 30 days: goes
            account("000000000002", 29),  # pending, recent: stays
            account("000000000003", 400, email_confirmed_at=moment - 399 * DAY),
            account("000000000004", 400, email=None, fc_sub="sub-4"))  # FranceConnect only
    assert nonzero(purge(runner)) == {"account.pending": 1}
    with app.app_context():
        assert keys(Account.numero) == {"000000000002", "000000000003", "000000000004"}


def test_alert_changes_told_and_outbox_messages_go_after_their_period(
        app: Flask, runner: FlaskCliRunner) -> None:
    moment = now()

    def change(numero: str, sent: dt.datetime | None) -> dict[str, Any]:
        return {"numero": numero, "date_mise_a_jour": moment - 200 * DAY, "solde_avant": 12,
                "solde": 10, "etat_avant": "VALIDE", "etat": "VALIDE",
                "detected_at": moment - 200 * DAY, "sent_at": sent, "messages": 1}

    with app.app_context():
        add(AlertChange, change("000000000001", moment - 91 * DAY),
            change("000000000002", moment - 89 * DAY),
            change("000000000003", None))  # not told yet: the dispatcher's queue
        db.session.execute(insert(outbox_table), [
            {"channel": "sms", "recipient": "+33639980001", "subject": "", "body": "x",
             "purpose": "code_confidentiel", "created_at": moment - age * DAY}
            for age in (91, 89)])
        db.session.commit()
    assert nonzero(purge(runner)) == {"alert_change.sent": 1, "outbox_message": 1}
    with app.app_context():
        assert keys(AlertChange.numero) == {"000000000002", "000000000003"}
        assert keys(outbox_table.c.created_at) and len(keys(outbox_table.c.id)) == 1


def _codes_and_contacts(moment: dt.datetime) -> None:
    def code(numero: str, **values: Any) -> dict[str, Any]:
        return {"numero": numero, "scheme": "hmac-sha256", "key_id": "k", "digest": "0" * 64,
                "origin": "legacy", "pending": False, "issued_at": moment - 400 * DAY,
                **values}

    add(ConfidentialCode,
        code("000000000001", expires_at=moment - 31 * DAY),  # expired over 30 days ago
        code("000000000002", expires_at=moment - 29 * DAY),
        code("000000000003", retired_for_modern_at=moment - 100 * DAY),  # has an account
        code("000000000004"))  # no account: still proves the file on the modern sign-up
    add(HolderContact, *({"numero": numero, "mobile": "+33639980000", "source": "legacy",
                          "updated_at": moment} for numero in ("000000000001", "000000000004")))


def test_codes_and_contacts_of_the_legacy_service_go_after_its_closing(
        make_app: Any) -> None:
    moment = now()
    today = moment.date()
    open_app = make_app()
    with open_app.app_context():
        _codes_and_contacts(moment)
    runner = open_app.test_cli_runner()
    # Télépoints still open: only the code expired long ago goes.
    assert nonzero(purge(runner)) == {"confidential_code.expired": 1}

    # Closed 10 days ago: the 30 days after closing have not passed.
    closed_recently = make_app(telepoints_deprecation_date=today - 400 * DAY,
                               telepoints_sunset_date=today - 10 * DAY)
    assert nonzero(purge(closed_recently.test_cli_runner())) == {}

    closed_long_ago = make_app(telepoints_deprecation_date=today - 400 * DAY,
                               telepoints_sunset_date=today - 40 * DAY)
    assert nonzero(purge(closed_long_ago.test_cli_runner())) == {
        "confidential_code.retired": 1, "holder_contact": 2}
    with closed_long_ago.app_context():
        assert keys(ConfidentialCode.numero) == {"000000000002", "000000000004"}
        assert keys(HolderContact.numero) == set()


def _export(tmp_path: Path, count: int, **rates: int) -> Path:
    path = tmp_path / "export.csv"
    generator.write(str(path), count, **rates)
    return path


def _migrate(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=["migrations", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _set(model: Any, key: Any, **values: Any) -> None:
    db.session.execute(update(model).where(key).values(**values))
    db.session.commit()


def _entries(job_id: int) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(MigrationEntry).where(
        MigrationEntry.job_id == job_id)) or 0)


def _payloads(job_id: int) -> int:
    return int(db.session.scalar(select(func.count()).select_from(MigrationChunk).where(
        MigrationChunk.job_id == job_id, MigrationChunk.payload.is_not(None))) or 0)


def test_the_lines_of_a_job_go_once_it_has_ended_for_the_period(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    export = str(_export(tmp_path, 30, rejected_every=7))  # 4 lines rejected
    _migrate(runner, "run", export, "--chunk-lines", "7")  # job 1: succeeded, then backdated
    _migrate(runner, "run", export, "--chunk-lines", "7")  # job 2: succeeded, recent
    for _ in range(3):  # jobs 3 (to be stopped), 4 (to run), 5 (created, recent)
        _migrate(runner, "run", export, "--chunk-lines", "7", "--no-start")
    moment = now()
    with app.app_context():
        first, second, stopped, running, created = sorted(keys(MigrationJob.id))
        _migrate(runner, "stop", str(stopped))
        services.start(db.session(), running)
        db.session.commit()
        old = moment - 31 * DAY
        _set(MigrationJob, MigrationJob.id == first, finished_at=old, updated_at=old)
        _set(MigrationJob, MigrationJob.id.in_((stopped, running)), updated_at=old)
        lines = _entries(first)
        assert lines == 30 and _entries(second) == 30
        before = services.status(db.session(), first)
        accounts = len(keys(MigratedAccount.numero))
        pending = cutover.panel(db.session(), app.config["SETTINGS"]).pending

    expected = {"migration_job.ended": 2, "migration_entry": lines}
    assert nonzero(purge(runner, "--dry-run")) == expected
    with app.app_context():  # the dry run changed nothing
        assert _entries(first) == lines and _payloads(stopped) == 5
        assert db.session.get(MigrationJob, first).purged_at is None

    assert nonzero(purge(runner, "--batch-size", "4")) == expected
    with app.app_context():
        # Ended over 30 days ago: marked, lines deleted, raw lines cleared; counts kept.
        assert _entries(first) == 0 and db.session.get(MigrationJob, first).purged_at
        after = services.status(db.session(), first)
        assert (after.migrated, after.rejected, after.read) == (
            before.migrated, before.rejected, before.read)
        assert db.session.get(MigrationJob, stopped).purged_at and _payloads(stopped) == 0
        # Recent, running or just created: untouched.
        assert _entries(second) == 30
        assert db.session.get(MigrationJob, running).purged_at is None
        assert _payloads(running) == 5 and _payloads(created) == 5
        # What the migration made of the lines belongs to the accounts: still there.
        assert len(keys(MigratedAccount.numero)) == accounts
        # A job whose lines are gone is no longer pending.
        assert cutover.panel(db.session(), app.config["SETTINGS"]).pending == pending - 30

    report = runner.invoke(args=["migrations", "report", str(first), str(tmp_path / "r.csv")])
    assert report.exit_code != 0 and "effacées" in report.output
    assert not (tmp_path / "r.csv").exists()
    resume = runner.invoke(args=["migrations", "resume", str(stopped)])
    assert resume.exit_code != 0 and "ne peut plus reprendre" in resume.output
    assert nonzero(purge(runner)) == {}

    # The last job's rejected lines are still counted once its lines are gone.
    with app.app_context():
        failed = cutover.panel(db.session(), app.config["SETTINGS"]).failed
        assert failed == 4
        _set(MigrationJob, MigrationJob.id == second, finished_at=old, updated_at=old)
    assert nonzero(purge(runner)) == {"migration_job.ended": 1, "migration_entry": 30}
    with app.app_context():
        assert cutover.panel(db.session(), app.config["SETTINGS"]).failed == failed


def test_the_legacy_copy_of_a_migrated_account_goes_at_the_end_of_the_revert_window(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    _migrate(runner, "run", str(_export(tmp_path, 10)))
    old, recent = generator.numero_for(3), generator.numero_for(4)  # line 3 has an e-mail
    with app.app_context():
        _set(MigratedAccount, MigratedAccount.numero == old, migrated_at=now() - 91 * DAY)
        accounts = len(keys(MigratedAccount.numero))
    assert nonzero(purge(runner)) == {"migrated_account.legacy_copy": 1}
    with app.app_context():
        cleared = db.session.get(MigratedAccount, old)
        assert cleared is not None and cleared.legacy_purged_at is not None
        assert (cleared.email, cleared.legacy_created_at, cleared.legacy_issued_on) == (
            None, None, None)
        kept = db.session.get(MigratedAccount, recent)
        assert kept is not None and kept.legacy_created_at is not None
        assert kept.legacy_purged_at is None
        # Still migrated, and its code still there: only the copy of the legacy data went.
        assert len(keys(MigratedAccount.numero)) == accounts
        assert old in keys(ConfidentialCode.numero)
    refused = runner.invoke(args=["migrations", "revert", old])
    assert refused.exit_code != 0 and "délai d'annulation" in refused.output
    assert "reverted" in _migrate(runner, "revert", recent)
    assert nonzero(purge(runner)) == {}


def test_the_last_legacy_use_of_a_code_goes_after_a_year(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    _migrate(runner, "run", str(_export(tmp_path, 10)))
    old, recent = generator.numero_for(3), generator.numero_for(4)
    with app.app_context():
        _set(MigratedAccount, MigratedAccount.numero == old,
             legacy_used_on=(now() - 366 * DAY).date())
        _set(MigratedAccount, MigratedAccount.numero == recent,
             legacy_used_on=(now() - 364 * DAY).date())
        accounts = len(keys(MigratedAccount.numero))
    assert nonzero(purge(runner, "--dry-run")) == {"migrated_account.legacy_used_on": 1}
    assert nonzero(purge(runner)) == {"migrated_account.legacy_used_on": 1}
    with app.app_context():
        used = dict(db.session.execute(select(MigratedAccount.numero,
                                              MigratedAccount.legacy_used_on)).all())
    assert (used[old], used[recent]) == (None, (now() - 364 * DAY).date())
    assert len(used) == accounts  # the records themselves stay
    assert nonzero(purge(runner)) == {}


def test_audit_and_legacy_traffic_go_after_a_year(app: Flask, runner: FlaskCliRunner) -> None:
    moment = now()
    with app.app_context():
        add(LegacyTrafficDay, *({"day": (moment - age * DAY).date(), "result": "VERIFIED",
                                 "count": 4} for age in (366, 364)))
        add(AdminAudit, *({"at": moment - age * DAY, "actor": "cli:agent",
                           "action": "job.create", "outcome": "ok"} for age in (366, 364)))
    assert nonzero(purge(runner)) == {"migration_legacy_traffic": 1, "admin_audit": 1}
    with app.app_context():
        assert keys(LegacyTrafficDay.day) == {(moment - 364 * DAY).date()}
        assert len(keys(AdminAudit.id)) == 1


def test_the_cutover_evidence_goes_after_a_year(app: Flask, runner: FlaskCliRunner) -> None:
    from migrations.census.models import LegacyClient, LegacyClientDay
    from migrations.parallel_run.models import ParallelRunDay, ParallelRunMismatch

    moment = now()
    with app.app_context():
        add(ParallelRunDay, *({"day": (moment - age * DAY).date(), "kind": "ConsulterSolde",
                               "result": "identique", "count": 3} for age in (366, 364)))
        add(ParallelRunMismatch, *({"at": moment - age * DAY, "kind": "ConsulterSolde",
                                    "numero": "********0001", "field": "solde", "here": "1",
                                    "legacy": "2"} for age in (366, 364)))
        add(LegacyClient, *({"id": f"c{age}", "channel": "soap", "user_agent": "x",
                             "network": "192.0.2.0/24", "soap_version": "1.1",
                             "first_seen": moment - age * DAY, "last_seen": moment - age * DAY}
                            for age in (366, 364)))
        add(LegacyClientDay, *({"client_id": f"c{age}", "day": (moment - age * DAY).date(),
                                "operation": "ConsulterSolde", "requests": 2, "failures": 0}
                               for age in (366, 364)))
    assert nonzero(purge(runner)) == {"parallel_run_day": 1, "parallel_run_mismatch": 1,
                                      "legacy_client_day": 1, "legacy_client": 1}
    with app.app_context():
        assert keys(LegacyClient.id) == {"c364"}
        assert keys(ParallelRunDay.day) == {(moment - 364 * DAY).date()}


def test_one_purge_at_a_time(app: Flask, runner: FlaskCliRunner) -> None:
    moment = now()
    with app.app_context():
        add(WebSession, {"key": "ended", "data": b"{}", "created_at": moment - DAY,
                         "last_seen_at": moment - DAY, "expires_at": moment - DAY})
        with exclusive(db.engine) as held:  # another host's purge, as far as this one knows
            assert held
            result = runner.invoke(args=["purge", "run"])
            assert result.exit_code == 0 and "Another purge is running" in result.output
            assert keys(WebSession.key) == {"ended"}
    assert nonzero(purge(runner)) == {"web_session.expired": 1}


def test_the_admin_api_says_what_the_purge_took(app: Flask, runner: FlaskCliRunner,
                                                tmp_path: Path) -> None:
    _migrate(runner, "run", str(_export(tmp_path, 10)))
    numero = generator.numero_for(3)
    with app.app_context():
        job_id = min(keys(MigrationJob.id))
        old = now() - 100 * DAY
        _set(MigrationJob, MigrationJob.id == job_id, finished_at=old, updated_at=old)
        _set(MigratedAccount, MigratedAccount.numero == numero, migrated_at=old)
        _token, secret = tokens.create(db.session, "agent", tokens.SCOPES)
        db.session.commit()
    purge(runner)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    for path in (f"/admin/api/jobs/{job_id}/report", f"/admin/api/jobs/{job_id}/errors"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 410, path
        assert answer.json is not None and answer.json["code"] == "LIGNES_EFFACEES"
    status = client.get(f"/admin/api/jobs/{job_id}", headers=headers)
    assert status.status_code == 200 and status.json is not None
    assert status.json["migrated"] > 0  # the counts outlive the lines
    revert = client.post(f"/admin/api/accounts/{numero}/revert", headers=headers,
                         json={"confirmation": numero})
    assert revert.status_code == 409 and revert.json is not None
    assert "délai d'annulation" in revert.json["detail"]


def test_batches_take_every_row_past_its_period_and_no_other(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    """Batches of 2, rows to purge interleaved with rows to keep, in both kinds of batch:
    deleting (sessions) and clearing (migration records)."""
    moment = now()
    _migrate(runner, "run", str(_export(tmp_path, 12, duplicate_every=0, closed_every=0,
                                        rejected_every=0, suspended_every=0)))
    with app.app_context():
        add(WebSession, *({"key": f"s{index:02d}", "data": b"{}", "created_at": moment - DAY,
                           "last_seen_at": moment - DAY,
                           "expires_at": moment + (DAY if index % 3 == 0 else -DAY)}
                          for index in range(12)))
        numeros = sorted(keys(MigratedAccount.numero))
        old = set(numeros[::2])
        _set(MigratedAccount, MigratedAccount.numero.in_(old), migrated_at=moment - 91 * DAY)
    assert nonzero(purge(runner, "--batch-size", "2")) == {
        "web_session.expired": 8, "migrated_account.legacy_copy": len(old)}
    with app.app_context():
        assert keys(WebSession.key) == {"s00", "s03", "s06", "s09"}
        cleared = set(db.session.scalars(select(MigratedAccount.numero).where(
            MigratedAccount.legacy_purged_at.is_not(None))))
        assert cleared == old and len(keys(MigratedAccount.numero)) == 12


def test_the_operator_sees_each_kind_and_its_period(make_app: Any) -> None:
    runner = make_app(retention_staging_days=45).test_cli_runner()
    rules = runner.invoke(args=["purge", "rules"]).output
    assert "migration_entry" in rules and "RETENTION_STAGING_DAYS=45 days" in rules
    assert "web_session.expired" in rules and "once expired" in rules
    table = runner.invoke(args=["purge", "run", "--dry-run"]).output
    assert "migrated_account.legacy_copy" in table and "0 would be cleared" in table
