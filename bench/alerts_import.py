"""What holder alerts cost the registry import, measured in one run against the importer as it
was before them (from git: the parent of the commit that brought the change listener in).

    .venv/bin/python bench/alerts_import.py                         # 1,000,000 on PostgreSQL
    .venv/bin/python bench/alerts_import.py --count 100000 --rounds 1

For each round, in a fresh PostgreSQL database, each importer imports the same extract twice:
1. `fresh`: into an empty table (every licence inserted: the case of the import benchmark);
2. `next`: the next delivery of every licence (newer date; one in ten with another balance),
   with 1 % of the licences watched by a confirmed alert contact, each of them among those
   whose balance changes (the worst case: every watched licence gets an alert). The current
   importer runs it with the alert hooks (changes recorded in each batch); telling the alerts
   through the outbox afterwards is timed on its own.
Prints licences/s per importer and phase, and the ratio current / before. Rounds alternate
the importers so that a busy machine weighs on both alike.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
DATABASE = "bench_alerts"


def extract(count: int) -> Path:
    from modern.licences.generator import generate

    path = OUT / f"registry-{count}.jsonl"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        with path.with_suffix(".part").open("w", encoding="utf-8") as handle:
            for record in generate(count, seed=1, as_of=dt.date(2026, 11, 26)):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        path.with_suffix(".part").rename(path)
    return path


def next_delivery(source: Path) -> Path:
    """Every licence one day later; one in ten with a balance moved by one point."""
    path = source.with_name(source.stem + "-next.jsonl")
    if path.exists():
        return path
    with source.open(encoding="utf-8") as lines, path.with_suffix(".part").open(
            "w", encoding="utf-8") as out:
        for number, line in enumerate(lines):
            record = json.loads(line)
            updated = dt.datetime.fromisoformat(record["dateMiseAJour"].replace("Z", "+00:00"))
            record["dateMiseAJour"] = (updated + dt.timedelta(days=1)).isoformat()
            if number % 10 == 0:
                record["solde"] = record["solde"] - 1 if record["solde"] else 1
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    path.with_suffix(".part").rename(path)
    return path


def importer_before(revision: str | None) -> Any:
    """The importer module as committed before the alerts (the parent of the commit that
    brought `ChangeListener` in, unless a revision is given)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout.strip()

    if revision is None:
        introduced = git("log", "--format=%H", "-S", "ChangeListener", "--",
                         "modern/licences/importer.py").splitlines()
        revision = f"{introduced[-1]}^" if introduced else "HEAD"
    source = git("show", f"{revision}:modern/licences/importer.py") + "\n"
    if "ChangeListener" in source:
        raise SystemExit(f"the importer at {revision} already has the alerts")
    folder = Path(tempfile.mkdtemp())
    (folder / "importer_before.py").write_text(source)
    spec = importlib.util.spec_from_file_location("importer_before",
                                                  folder / "importer_before.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def fresh_database(admin: str) -> str:
    subprocess.run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {DATABASE}",
                    "-c", f"CREATE DATABASE {DATABASE}"], check=True, stderr=subprocess.DEVNULL)
    return admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + \
        "/" + DATABASE


def watch(app: Any, path: Path, every: int) -> int:
    """A confirmed alert contact (and its account) for one licence in `every`."""
    from sqlalchemy import insert

    from modern.accounts.models import Account
    from modern.alerts.models import AlertContact
    from modern.db import db

    now = dt.datetime.now(dt.UTC)
    numeros = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number % every == 0:
                numeros.append(json.loads(line)["numeroDossier"])
    with app.app_context():
        db.session.execute(insert(Account), [
            {"numero": n, "email": f"{n.lower()}@exemple.fr", "email_confirmed_at": now,
             "proof": "identite", "created_at": now} for n in numeros])
        ids = dict(db.session.execute(db.select(Account.numero, Account.id)).all())
        db.session.execute(insert(AlertContact), [
            {"account_id": ids[n], "numero": n, "channel": "email",
             "address": f"{n.lower()}@exemple.fr", "confirmed_at": now, "created_at": now}
            for n in numeros])
        db.session.commit()
    return len(numeros)


def run_import(app: Any, module: Any, path: Path,
               hooks: Any = None) -> tuple[float, float, float, str]:
    """Wall seconds of the import (alerts recorded in its batches included), CPU seconds of
    this process during it (less sensitive than wall time to other work on the machine),
    seconds of telling the alerts afterwards, and the summary."""
    from modern.db import db

    with app.app_context(), path.open("rb") as stream:
        started, cpu = time.perf_counter(), time.process_time()
        options = {"on_changes": hooks.changed} if hooks else {}
        summary = module.import_extract(db.session(), stream, lambda n, r: None, **options)
        imported, cpu = time.perf_counter(), time.process_time() - cpu
        told = hooks.finished(db.session()) if hooks else None
        finished = time.perf_counter()
    return imported - started, cpu, finished - imported, \
        f"{summary.as_text()}{'; ' + told if told else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pg-admin-url", default="postgresql://root@127.0.0.1:5432/test")
    parser.add_argument("--before", default=None,
                        help="git revision of the importer to compare with (default: the one "
                             "before the alerts)")
    options = parser.parse_args()
    first = extract(options.count)
    second = next_delivery(first)
    os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp())
    os.environ["LOG_LEVEL"] = "WARNING"

    from modern.alerts.hooks import AlertHooks
    from modern.alerts.services import links_for
    from modern.licences import importer as current
    from modern.schema import upgrade
    from modern.settings import Settings
    from wsgi import create_app

    before = importer_before(options.before)
    rates: dict[tuple[str, str], list[float]] = {}
    cpus: dict[tuple[str, str], list[float]] = {}
    print(f"{options.count:,} licences, {options.rounds} round(s); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)", flush=True)
    for round_number in range(options.rounds):
        order = [("before", before), ("current", current)]
        if round_number % 2:
            order.reverse()
        for name, module in order:
            url = fresh_database(options.pg_admin_url)
            from sqlalchemy import create_engine

            engine = create_engine(url)
            upgrade(engine)
            engine.dispose()
            app = create_app(Settings(environment="test", database_url=url,
                                      secret_key="b" * 40, log_level="WARNING"))
            hooks = AlertHooks(links_for("http://127.0.0.1:8000")) \
                if module is current else None
            seconds, cpu, _, summary = run_import(app, module, first)
            rates.setdefault((name, "fresh"), []).append(options.count / seconds)
            cpus.setdefault((name, "fresh"), []).append(cpu)
            print(f"round {round_number + 1} {name:8} fresh {seconds:7.1f} s "
                  f"{options.count / seconds:9,.0f} licences/s  client CPU {cpu:6.1f} s  "
                  f"[{summary}]", flush=True)
            watched = watch(app, first, 100)
            seconds, cpu, telling, summary = run_import(app, module, second, hooks)
            rates.setdefault((name, "next"), []).append(options.count / seconds)
            cpus.setdefault((name, "next"), []).append(cpu)
            told = f"; then {telling:.1f} s to tell the alerts" if hooks else ""
            print(f"round {round_number + 1} {name:8} next  {seconds:7.1f} s "
                  f"{options.count / seconds:9,.0f} licences/s  client CPU {cpu:6.1f} s"
                  f"{told}  ({watched:,} watched) [{summary}]", flush=True)
            from modern.db import db

            with app.app_context():
                db.engine.dispose()
    print(f"medians; load average now {os.getloadavg()[0]:.1f}")
    for phase in ("fresh", "next"):
        old, new = median(rates["before", phase]), median(rates["current", phase])
        old_cpu, new_cpu = median(cpus["before", phase]), median(cpus["current", phase])
        print(f"{phase:5}: before {old:9,.0f} licences/s, current {new:9,.0f} licences/s, "
              f"current / before = {new / old:.3f}; client CPU current / before = "
              f"{new_cpu / old_cpu:.3f}"
              + ("" if phase == "fresh" else " (current records the alerts in its batches)"))


if __name__ == "__main__":
    main()
