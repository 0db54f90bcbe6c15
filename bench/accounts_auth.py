"""Sign-in, sign-up and reset timings by outcome: the answers must not tell accounts apart by
their timing (ASVS 5, 6.3.8), and a sign-in costs one Argon2id verification.

    .venv/bin/python bench/accounts_auth.py              # 60 requests per case
    .venv/bin/python bench/accounts_auth.py --rounds 200

Runs the real application (SQLite in a temporary folder, the local adapters) through its
test client, so every request goes through the views, CSRF, sessions, counters and the
outbox. The cases of one kind are interleaved, in a rotating order, so that drift of the
machine hits them alike.
Prints, per case, the median and the 95th percentile in milliseconds, the ratio of its median
to the first case of its group (target: between 0.9 and 1.1), and the p-value of a
Mann-Whitney U test against that first case (p > 0.01: not told apart).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "un cheval bleu traverse la Loire"
PEOPLE = [
    {"numeroDossier": "750112345678", "titulaire": {"nom": "LEFÈVRE", "prenoms": "Hélène",
                                                    "dateNaissance": "1980-05-04"}},
    {"numeroDossier": "920398765432", "titulaire": {"nom": "LE GOFF", "prenoms": "Loïc",
                                                    "dateNaissance": "1975-11-30"}},
]


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
                              rate_limit_per_minute=1_000_000, lockout_threshold=20,
                              log_level="ERROR"))
    lines = "".join(json.dumps({**p, "etatPermis": "VALIDE", "solde": 12,
                                "dateMiseAJour": "2026-11-20T03:00:00Z"}) + "\n"
                    for p in PEOPLE)
    with app.app_context():
        import_extract(db.session(), io.BytesIO(lines.encode()), lambda n, r: None)
        db.session.commit()
    return app


def token(client: Any, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found
    return found.group(1)


def ordered(cases: dict[str, list[float]], round_: int) -> list[str]:
    """The cases in turn, starting one further each round: no case always runs first."""
    names = list(cases)
    shift = round_ % len(names)
    return names[shift:] + names[:shift]


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def mann_whitney_p(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation, ties averaged)."""
    ranked = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(ranked)
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    r1 = sum(rank for rank, (_, group) in zip(ranks, ranked, strict=True) if group == 0)
    n1, n2 = len(a), len(b)
    u = r1 - n1 * (n1 + 1) / 2
    mean, sd = n1 * n2 / 2, math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    z = (u - mean) / sd if sd else 0.0
    return math.erfc(abs(z) / math.sqrt(2))


def report(title: str, cases: dict[str, list[float]]) -> None:
    """Median, p95, ratio of medians and Mann-Whitney p against the group's first case."""
    print(f"\n{title}")
    reference = next(iter(cases.values()))
    for name, values in cases.items():
        median = statistics.median(values)
        p95 = sorted(values)[int(len(values) * 0.95) - 1]
        versus = f"p {mann_whitney_p(reference, values):.3f}" if values is not reference else ""
        print(f"  {name:<34} median {median:7.1f} ms   p95 {p95:7.1f} ms   "
              f"ratio {median / statistics.median(reference):5.2f}   {versus}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    rounds = parser.parse_args().rounds

    from modern.accounts import passwords
    from modern.throttling import throttling

    hashing = [timed(lambda: passwords.hash_password(PASSWORD)) for _ in range(20)]
    print(f"Argon2id (m=46 MiB, t=1, p=1): hash median {statistics.median(hashing):.1f} ms "
          f"on one core, so about {1000 / statistics.median(hashing):.0f} sign-ins/s per core")

    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        client = app.test_client()
        # One confirmed account for Hélène.
        client.post("/compte/creer", data={
            "csrf_token": token(client, "/compte/creer"), "numero": "750112345678",
            "preuve": "identite", "nom": "LEFÈVRE", "prenoms": "Hélène",
            "date_naissance": "1980-05-04", "email": "helene@exemple.fr",
            "password": PASSWORD, "cgu": "y"})
        with app.app_context():
            body = app.extensions["outbox"].entries(limit=1, reveal=True)[0].body
        path = re.search(r"https?://\S+(/compte/confirmation/\S+)", body)
        assert path
        client.post(path.group(1), data={"csrf_token": token(client, path.group(1))})

        signin: dict[str, list[float]] = {"unknown address": [], "known address, wrong password":
                                          [], "right password (success)": []}
        form = token(client, "/compte/connexion")
        for round_ in range(rounds):
            for case in ordered(signin, round_):
                email = "nobody@exemple.fr" if case == "unknown address" else \
                    "helene@exemple.fr"
                password = PASSWORD if case.startswith("right") else "wrong wrong wrong"
                signin[case].append(timed(lambda e=email, p=password, f=form: client.post(
                    "/compte/connexion", data={"csrf_token": f, "email": e,
                                               "password": p})))
                if case.startswith("right"):
                    client.post("/compte/deconnexion", data={"csrf_token": token(
                        client, "/tableau-de-bord")})
                    form = token(client, "/compte/connexion")
            with app.app_context():
                throttling().lockout.unlock("750112345678")
        report("Sign-in (POST /compte/connexion)", signin)

        signup: dict[str, list[float]] = {"new file (account created)": [],
                                          "file with an account": [], "identity mismatch": [],
                                          "unknown file": []}
        for round_ in range(rounds):
            for case in ordered(signup, round_):
                numero, nom = {"new file (account created)": ("920398765432", "LE GOFF"),
                               "file with an account": ("750112345678", "LEFÈVRE"),
                               "identity mismatch": ("920398765432", "DUPONT"),
                               "unknown file": ("123456789012", "LE GOFF")}[case]
                prenoms, birth = (("Hélène", "1980-05-04") if numero == "750112345678"
                                  else ("Loïc", "1975-11-30"))
                fresh = app.test_client()
                data = {"csrf_token": token(fresh, "/compte/creer"), "numero": numero,
                        "preuve": "identite", "nom": nom, "prenoms": prenoms,
                        "date_naissance": birth, "email": f"n{round_}@exemple.fr",
                        "password": PASSWORD, "cgu": "y"}
                signup[case].append(timed(lambda c=fresh, d=data: c.post("/compte/creer",
                                                                          data=d)))
            with app.app_context():
                throttling().lockout.unlock("920398765432")
                throttling().lockout.unlock("123456789012")
        report("Sign-up (POST /compte/creer)", signup)

        reset: dict[str, list[float]] = {"known address": [], "unknown address": []}
        form = token(client, "/compte/mot-de-passe-oublie")
        for round_ in range(rounds):
            for case in ordered(reset, round_):
                email = "helene@exemple.fr" if case == "known address" else "x@exemple.fr"
                reset[case].append(timed(lambda e=email: client.post(
                    "/compte/mot-de-passe-oublie", data={"csrf_token": form, "email": e})))
        report("Reset request (POST /compte/mot-de-passe-oublie)", reset)


if __name__ == "__main__":
    main()
