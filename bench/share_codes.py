"""Share code refusals: a revoked code, an expired one, a wrong birth name and an unknown
code must not be told apart by their timing, as they are not by their bytes.

    .venv/bin/python bench/share_codes.py                 # 200 requests per case
    .venv/bin/python bench/share_codes.py --rounds 500

Runs the real application (SQLite in a temporary folder, the local adapters) through its
test client: every request goes through the view, the shared counters (rate limit, lockout
per code), the database and the template. The cases are interleaved in a rotating order so
that drift of the machine hits them alike; each round uses fresh codes so that no case runs
into the lockout. Prints per case the median and p95 in milliseconds, the ratio of its
median to the revoked case's (target: 0.9 to 1.1) and the Mann-Whitney p-value against it
(p > 0.01: not told apart); the success case is printed for scale, not as a target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from accounts_auth import ordered, report, timed  # bench/ is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOLDER = {"numeroDossier": "750112345678", "etatPermis": "VALIDE", "solde": 12,
          "dateMiseAJour": "2026-11-20T03:00:00Z",
          "titulaire": {"nom": "LEFÈVRE", "prenoms": "Hélène", "dateNaissance": "1980-05-04"},
          "categories": [{"code": "B", "dateObtention": "2000-01-10"}]}
CASES = ("revoked code", "expired code", "wrong birth name", "unknown code")


def build_app(folder: Path) -> Any:
    os.environ["INSTANCE_PATH"] = str(folder / "instance")
    from sqlalchemy import create_engine

    from modern.db import db
    from modern.licences.importer import import_extract
    from modern.schema import upgrade
    from modern.settings import Settings
    from wsgi import create_app

    url = f"sqlite:///{folder / 'bench.db'}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(Settings(environment="test", database_url=url, secret_key="b" * 40,
                              rate_limit_per_minute=1_000_000, log_level="ERROR"))
    with app.app_context():
        import_extract(db.session(), io.BytesIO((json.dumps(HOLDER) + "\n").encode()),
                       lambda n, r: None)
        db.session.commit()
    return app


def codes_for_a_round(app: Any, account: int) -> dict[str, tuple[str, str]]:
    """Fresh codes: one revoked, one expired, one for the wrong name; plus an unknown code."""
    from modern.db import db
    from modern.licences.models import Licence
    from modern.sharing import codes
    from modern.sharing.hashing import Hasher
    from modern.sharing.models import ShareCode

    with app.app_context():
        session = db.session()
        licence = session.get(Licence, HOLDER["numeroDossier"])
        record = licence.record()
        hasher = Hasher(app.config["SECRET_KEY"])
        # The bench is not bound by the holder's limit of active codes: clear the old ones.
        session.query(ShareCode).filter(ShareCode.revoked_at.is_(None)).update(
            {"revoked_at": dt.datetime.now(dt.UTC)})
        made = {case: codes.create(session, hasher, account_id=account, record=record,
                                   purpose="location", days=7, notify=False)
                for case in ("revoked code", "expired code", "wrong birth name", "success")}
        made["revoked code"].share.revoked_at = dt.datetime.now(dt.UTC)
        made["expired code"].share.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(
            seconds=1)
        session.commit()
    nom = HOLDER["titulaire"]["nom"]  # type: ignore[index]
    return {"revoked code": (made["revoked code"].code, nom),
            "expired code": (made["expired code"].code, nom),
            "wrong birth name": (made["wrong birth name"].code, "LEFEBVRE"),
            "unknown code": ("".join(codes.ALPHABET[i % 32] for i in range(12)), nom),
            "success": (made["success"].code, nom)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds

    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        third = app.test_client()
        pages: dict[str, list[float]] = {case: [] for case in (*CASES, "success")}
        api: dict[str, list[float]] = {case: [] for case in (*CASES, "success")}
        bodies: dict[str, set[bytes]] = {case: set() for case in CASES}
        for round_ in range(rounds):
            inputs = codes_for_a_round(app, account=1)
            for case in ordered(pages, round_):
                code, nom = inputs[case]
                answers: list[Any] = []
                pages[case].append(timed(lambda c=code, n=nom, a=answers: a.append(third.post(
                    "/verifier/partage", data={"code": c, "nom": n}))))
                if case in bodies:
                    bodies[case].add(answers[0].get_data())
            inputs = codes_for_a_round(app, account=1)
            for case in ordered(api, round_):
                code, nom = inputs[case]
                api[case].append(timed(lambda c=code, n=nom: third.post(
                    "/api/v1/partages/consultation", json={"code": c, "nom": n})))
        distinct = {body for found in bodies.values() for body in found}
        print(f"{rounds} requests per case; refusal pages: {len(distinct)} distinct "
              f"bod{'y' if len(distinct) == 1 else 'ies'} across all refusals")
        report("Third party's check (POST /verifier/partage)", pages)
        report("Third party's check (POST /api/v1/partages/consultation)", api)


if __name__ == "__main__":
    main()
