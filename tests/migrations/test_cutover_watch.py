"""What the cutover is decided on, against the local legacy backend served on loopback: the
parallel run finds exactly a planted difference among 1,000 answers, and a full queue drops
comparisons, never answers; the census groups requests by client and never stores a whole
address; a brownout window refuses its share of legacy requests and nothing outside it, and
is announced beforehand."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import text

from migrations.legacy_backend.store import engine_for, load_registry
from migrations.parallel_run import services as parallel_run
from migrations.parallel_run.services import ParallelRun
from modern.db import db
from telepoints_compat.legacy_traffic import EXTENSION
from telepoints_compat.notice import PARIS
from tests.compat.conftest import envelope, fault_code, post, solde_request
from tests.migrations.conftest import Server, load_registry_sample, sample, sample_codes

PLANTED = "850931010001"


def run(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=["migrations", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def settings_overrides(legacy_backend: Server) -> dict[str, Any]:
    return {"legacy_telepoints_url": legacy_backend.url + "/telepoints/ws",
            "parallel_run_share": 1.0}


def holders_without_probation() -> list[tuple[str, str]]:
    """Files with a code and no probation (the local legacy backend does not give the end
    of a probation, an optional field), and not locked."""
    registry = {json.loads(line)["numeroDossier"]: json.loads(line) for line in
                sample("registry-extract.jsonl").read_text(encoding="utf-8").splitlines()}
    return [(numero, code) for numero, code, locked in sample_codes()
            if not locked and numero in registry and registry[numero]["probatoire"] is None]


def plant_a_difference(backend: Server, tmp_path: Path) -> None:
    """The legacy backend's copy of one licence says one point less."""
    lines = []
    for line in sample("registry-extract.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["numeroDossier"] == PLANTED:
            record["solde"] -= 1
            lines.append(json.dumps(record, ensure_ascii=False))
    path = tmp_path / "planted.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    engine = engine_for(backend.database)  # type: ignore[attr-defined]
    with path.open("rb") as stream:
        assert load_registry(engine, stream) == 1
    engine.dispose()


def test_a_parallel_run_over_1000_answers_finds_the_planted_difference(
        app: Flask, runner: FlaskCliRunner, legacy_backend: Server, tmp_path: Path) -> None:
    load_registry_sample(app)
    run(runner, "run", str(sample("legacy-export.csv")))
    plant_a_difference(legacy_backend, tmp_path)
    holders = holders_without_probation()
    assert PLANTED in dict(holders) and len(holders) > 10
    client = app.test_client()
    asked = {numero: 0 for numero, _ in holders}
    for index in range(1000):
        numero, code = holders[index % len(holders)]
        answer = post(client, envelope(solde_request(numero, code)))
        assert answer.status_code == 200, answer.data
        asked[numero] += 1
    app.extensions[EXTENSION].parallel_run.drain()

    with app.app_context():
        report = parallel_run.report(db.session())
    assert (report["compared"], report["dropped"], report["unavailable"]) == (1000, 0, 0)
    assert report["mismatches"] == asked[PLANTED]
    assert report["mismatch_rate"] == pytest.approx(asked[PLANTED] / 1000)
    found = {(m["numero"], m["field"], m["here"], m["legacy"])
             for m in report["last_mismatches"]}
    balance = next(json.loads(line)["solde"] for line in
                   sample("registry-extract.jsonl").read_text(encoding="utf-8").splitlines()
                   if json.loads(line)["numeroDossier"] == PLANTED)
    assert found == {("********0001", "solde", str(balance), str(balance - 1))}, found
    output = run(runner, "parallel-run")
    assert f"different {asked[PLANTED]}" in output
    assert f"solde: here '{balance}', legacy '{balance - 1}'" in output


class Stuck:
    """A legacy backend that does not answer until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def consult(self, operation: str, numero: str, code: str) -> bytes:
        self.release.wait(30)
        return b"<ConsulterSoldeReponse><solde>1</solde></ConsulterSoldeReponse>"


def test_a_full_queue_drops_the_comparison_never_waits(app: Flask) -> None:
    legacy = Stuck()
    with app.app_context():
        engine = db.engine
    run_ = ParallelRun(legacy, lambda: engine, 1.0, queue_size=2, threads=1)
    caller = threading.Thread(target=lambda: [
        run_.compare("ConsulterSolde", "991091010000", "CODE", lambda: b"<a><solde>1</solde></a>")
        for _ in range(50)])
    caller.start()
    caller.join(10)
    assert not caller.is_alive()  # 50 questions while the backend is stuck: none waited
    legacy.release.set()
    with app.app_context():
        run_.drain()
        run_.compare("ConsulterSolde", "991091010000", "CODE", lambda: b"<a><solde>1</solde></a>")
        run_.drain()  # the drops are written with the next comparison
        report = parallel_run.report(db.session())
    assert report["compared"] + report["dropped"] == 51
    assert report["dropped"] >= 46 and report["mismatches"] == 0


def census_of(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> list[list[str]]:
    with app.app_context():
        app.extensions[EXTENSION].census.flush()
    out = tmp_path / "clients.csv"
    run(runner, "clients", "--csv", str(out))
    return [line.split(";") for line in out.read_text(encoding="utf-8").splitlines()]


def test_the_census_groups_requests_by_client_without_whole_addresses(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    load_registry_sample(app)
    client = app.test_client()
    wrong = envelope(solde_request("991091010000", "AAAAAAAA"))
    requests = [("AutoEcole/2.1", "192.0.2.10"), ("AutoEcole/2.1", "192.0.2.77"),
                ("AutoEcole/2.1", "198.51.100.5"), ("Stages-Pro 1.0", "2001:db8:1:2::5")]
    for user_agent, address in requests:
        answer = post(client, wrong, headers={"User-Agent": user_agent},
                      environ_base={"REMOTE_ADDR": address})
        assert fault_code(answer.data) == "IDENTIFIANTS_INVALIDES"
    client.get("/telepoints", headers={"User-Agent": "Mozilla/5.0"},
               environ_base={"REMOTE_ADDR": "203.0.113.9"})
    rows = census_of(app, runner, tmp_path)
    assert rows[0][:5] == ["client", "canal", "user_agent", "reseau", "version_soap"]
    seen = sorted((r[1], r[2], r[3], r[4], r[7], r[8], r[9]) for r in rows[1:])
    assert seen == [
        ("soap", "AutoEcole/2.1", "192.0.2.0/24", "1.1", "ConsulterSolde=2", "2", "non"),
        ("soap", "AutoEcole/2.1", "198.51.100.0/24", "1.1", "ConsulterSolde=1", "1", "non"),
        ("soap", "Stages-Pro 1.0", "2001:db8:1::/48", "1.1", "ConsulterSolde=1", "1", "non"),
        ("web", "Mozilla/5.0", "203.0.113.0/24", "", "form=1", "0", "non")]
    with app.app_context():
        stored = " ".join(str(row) for table in ("legacy_client", "legacy_client_day")
                          for row in db.session.execute(text(f"SELECT * FROM {table}")))
    for _agent, address in requests:
        assert address not in stored


def refused(client: Any, count: int) -> int:
    body = envelope(solde_request("991091010000", "AAAAAAAA"))
    return sum(fault_code(post(client, body).data) == "SERVICE_CLOS" for _ in range(count))


def test_a_brownout_refuses_its_share_inside_its_window_only(
        app: Flask, runner: FlaskCliRunner) -> None:
    load_registry_sample(app)
    client = app.test_client()
    traffic = app.extensions[EXTENSION]
    now = dt.datetime.now(dt.UTC)
    later = now + dt.timedelta(days=2)
    run(runner, "brownout", "add", later.isoformat(), (later + dt.timedelta(hours=2)).isoformat())
    traffic.brownouts.refresh()
    assert refused(client, 20) == 0  # planned, not yet: announced only
    # Announced in the AvisMigration header of answers (faults carry none: the bindings
    # declare it on outputs only).
    answer = post(client, envelope(
        "<tp:DemanderCodeConfidentiel><tp:numeroDossier>991091010000</tp:numeroDossier>"
        "<tp:dateNaissance>1957-02-18</tp:dateNaissance></tp:DemanderCodeConfidentiel>"))
    assert answer.status_code == 200
    assert b"Interruptions programm" in answer.data
    page = client.get("/telepoints").get_data(as_text=True)
    paris = later.astimezone(PARIS)
    assert (f"Interruptions programmées de Télépoints avant sa fermeture, heure de Paris : le "
            f"{paris:%d/%m/%Y} de {paris:%H:%M} à "
            f"{paris + dt.timedelta(hours=2):%H:%M}.") in page
    # The old web pages say it in the reader's language (the SOAP header stays French).
    client.get("/langue/en?suite=/telepoints")
    page = client.get("/telepoints").get_data(as_text=True)
    assert (f"Planned interruptions of Télépoints before it closes, Paris time: on "
            f"{paris:%d/%m/%Y} from {paris:%H:%M} to") in page
    assert "Interruptions programmées" not in page
    client.get("/langue/fr?suite=/telepoints")

    run(runner, "brownout", "add", (now - dt.timedelta(minutes=1)).isoformat(),
        (now + dt.timedelta(hours=1)).isoformat(), "--share", "0.25")
    traffic.brownouts.refresh()
    assert refused(client, 40) == 10
    assert client.post("/telepoints", data={}).status_code in (400, 410)
    listed = run(runner, "brownout", "list")
    current = listed.splitlines()[0].split(":")[0]
    run(runner, "brownout", "remove", current)
    traffic.brownouts.refresh()
    assert refused(client, 20) == 0
    with app.app_context():
        traffic.census.flush()
        refusals = db.session.scalar(text(
            "SELECT sum(failures) FROM legacy_client_day WHERE operation = 'ConsulterSolde'"))
    assert refusals == 20 + 40 + 20  # every one a failure: wrong code or refused


def readiness_lines(runner: FlaskCliRunner) -> tuple[bool, dict[str, tuple[Any, bool]]]:
    result = runner.invoke(args=["migrations", "readiness", "--json"])
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.output)
    assert (result.exit_code == 0) == report["ready"]
    return report["ready"], {line["name"]: (line["figure"], line["ok"])
                             for line in report["lines"]}


def test_readiness_turns_each_line_red_and_green(app: Flask, runner: FlaskCliRunner) -> None:
    from adapters.messaging import OutboxMessenger
    from migrations.jobs import services as jobs
    from modern.messaging import messenger
    from telepoints_compat.contacts.services import save_contact
    from tests.migrations.test_lazy import CODE, NUMERO

    load_registry_sample(app)
    ready, lines = readiness_lines(runner)
    assert not ready
    assert lines == {"pending_lines": (0, True), "lazy_migrations": (0, True),
                     "mismatch_rate": (None, False), "active_clients": (0, True),
                     "holders_to_tell": (0, True)}

    # A first use through the legacy backend: a lazy migration, a client, a holder to tell;
    # its answer compared by the parallel run, identical.
    answer = post(app.test_client(), envelope(solde_request(NUMERO, CODE)))
    assert answer.status_code == 200
    traffic = app.extensions[EXTENSION]
    traffic.parallel_run.drain()
    ready, lines = readiness_lines(runner)
    assert lines == {"pending_lines": (0, True), "lazy_migrations": (1, False),
                     "mismatch_rate": (0, True), "active_clients": (1, False),
                     "holders_to_tell": (1, False)}

    # Told once, by SMS: green; told again, nobody.
    with app.app_context():
        save_contact(db.session(), NUMERO, mobile="+33612345678", address=None,
                     source="agent", now=dt.datetime.now(dt.UTC))
        db.session.commit()
    output = run(runner, "notify-holders", "--dry-run")
    assert "would tell: 1 by SMS" in output
    assert readiness_lines(runner)[1]["holders_to_tell"] == (1, False)
    assert "told: 1 by SMS" in run(runner, "notify-holders", "--per-second", "0")
    assert "told: 0 by SMS" in run(runner, "notify-holders", "--per-second", "0")
    assert readiness_lines(runner)[1]["holders_to_tell"] == (0, True)
    with app.app_context():
        box = messenger()
        assert isinstance(box, OutboxMessenger)
        sent = box.entries(channel="sms", recipient="+33612345678")
        assert [entry.purpose for entry in sent] == ["fermeture_telepoints"]

    # An export not run yet: its lines are pending.
    with app.app_context(), sample("legacy-export.csv").open("rb") as stream:
        jobs.create_job(db.session(), stream, source_name="x.csv", created_by="test")
        db.session.commit()
    assert readiness_lines(runner)[1]["pending_lines"] == (38, False)


def test_readiness_thresholds_are_configurable(
        make_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modern.settings import Settings
    from wsgi import create_app

    settings = Settings.from_env({"READINESS_THRESHOLDS": "lazy_migrations=5, mismatch_rate=0.1"})
    assert settings.readiness_thresholds == (("lazy_migrations", 5.0), ("mismatch_rate", 0.1))
    with pytest.raises(Exception, match="READINESS_THRESHOLDS"):
        Settings.from_env({"READINESS_THRESHOLDS": "lazy_migrations"})
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_settings(readiness_thresholds=(("unknown", 1.0),)))
    result = app.test_cli_runner().invoke(args=["migrations", "readiness"])
    assert result.exit_code != 0 and "unknown name 'unknown'" in result.output


def test_the_admin_api_plans_and_removes_brownouts_and_shows_the_evidence(
        app: Flask, make_token: Any) -> None:
    from migrations.admin import tokens

    client = app.test_client()
    writer = {"Authorization": f"Bearer {make_token(tokens.READ, tokens.CUTOVER)}"}
    reader = {"Authorization": f"Bearer {make_token(tokens.READ)}"}
    now = dt.datetime.now(dt.UTC)
    window = {"starts_at": (now + dt.timedelta(days=1)).isoformat(),
              "ends_at": (now + dt.timedelta(days=1, hours=1)).isoformat(), "share": 0.5}
    assert client.post("/admin/api/brownouts", json=window, headers=reader).status_code == 403
    backwards = {**window, "ends_at": window["starts_at"], "starts_at": window["ends_at"]}
    refused = client.post("/admin/api/brownouts", json=backwards, headers=writer)
    assert refused.status_code == 400 and "après son début" in refused.json["detail"]
    created = client.post("/admin/api/brownouts", json=window, headers=writer)
    assert created.status_code == 201 and created.json["share"] == 0.5
    listed = client.get("/admin/api/brownouts", headers=reader).json
    assert [item["id"] for item in listed["items"]] == [created.json["id"]]
    assert listed["announcement"].startswith("Interruptions programmées de Télépoints")
    gone = client.delete(f"/admin/api/brownouts/{created.json['id']}", headers=writer)
    assert gone.status_code == 204
    assert client.delete(f"/admin/api/brownouts/{created.json['id']}",
                         headers=writer).status_code == 404
    assert client.get("/admin/api/brownouts", headers=reader).json["items"] == []

    readiness = client.get("/admin/api/readiness", headers=reader).json
    assert readiness["ready"] is False
    assert [line["name"] for line in readiness["lines"]] == [
        "pending_lines", "lazy_migrations", "mismatch_rate", "active_clients",
        "holders_to_tell"]
    assert client.get("/admin/api/parallel-run?days=7", headers=reader).json["compared"] == 0
    assert client.get("/admin/api/clients", headers=reader).json == {
        "items": [], "notice_date": "2026-09-01"}


def test_once_switched_off_the_parallel_run_asks_the_legacy_backend_nothing(app: Flask) -> None:
    from migrations.lazy import cutover

    class Recording:
        calls = 0

        def consult(self, operation: str, numero: str, code: str) -> bytes:
            Recording.calls += 1
            return b"<a><solde>1</solde></a>"

    with app.app_context():
        engine = db.engine
        cutover.set_mode(db.session(), cutover.MODE_OFF, "test")
        db.session.commit()
    run_ = ParallelRun(Recording(), lambda: engine, 1.0)
    run_.compare("ConsulterSolde", "991091010000", "CODE", lambda: b"<a><solde>1</solde></a>")
    run_.drain()
    with app.app_context():
        assert parallel_run.report(db.session())["compared"] == 0
    assert Recording.calls == 0
