"""Can a user of the service tell, by the time an answer takes, whether a file, a match or an
account exists? Measured as they would: real HTTP requests to the application served by
gunicorn, timed by the client.

    .venv/bin/python bench/enumeration.py               # 200 requests per case
    .venv/bin/python bench/enumeration.py --rounds 400 --workers 1

Each pair compares the two answers of one question; the answers themselves are the same (the
bench checks their status), only their time could differ:

- `DemanderCodeConfidentiel` (SOAP): file and birth date match (a code is issued and sent) /
  the birth date does not match; and the old web flow's page for a lost code, likewise;
- sign-up (`POST /compte/creer`, by identity): a file of the registry, identity right (an
  account is created) / a file number that does not exist;
- sign-in (`POST /compte/connexion`): the address of an account, wrong password / an address
  without account;
- password reset (`POST /compte/mot-de-passe-oublie`): the address of an account / an address
  without account.

Every request of a "exists" case uses another file or account (one code request, one sign-up,
one wrong password, one reset each), as an attacker going through a list would: no per-file
limit or lockout is reached, so each request takes the path it names. The two cases of a pair
alternate, in a random order each round (seeded: the same at every run), so that the drift of
a shared machine hits both alike.

The application runs on the embedded default (SQLite in a temporary folder, the local
adapters), generated demo licences and their contacts, `ENVIRONMENT=development`, with a rate
limit high enough for the bench. Prints, per case, the median and the 95th percentile in
milliseconds; per pair, the ratio of the medians (target: between 0.90 and 1.10), the median
of the rounds' own ratios (steadier on a busy machine) and the p-value of a Mann-Whitney U
test (p > 0.01: the two are not told apart).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accounts_auth import mann_whitney_p  # noqa: E402

PASSWORD = "un cheval bleu traverse la Loire"
TNS = "urn:fr:interieur:telepoints:v1"
SOAP_ACTION = f'"{TNS}#DemanderCodeConfidentiel"'


@dataclass(frozen=True)
class File:
    numero: str
    nom: str
    prenoms: str
    birth: dt.date


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(folder: Path, port: int) -> dict[str, str]:
    return {**os.environ, "ENVIRONMENT": "development", "INSTANCE_PATH": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "e" * 40,
            "RATE_LIMIT_PER_MINUTE": "1000000", "LOG_LEVEL": "ERROR",
            "PUBLIC_URL": f"http://127.0.0.1:{port}"}


def prepare(env: dict[str, str], licences: int, accounts: int) -> tuple[list[File], list[str]]:
    """The schema, demo licences with their contacts, and `accounts` confirmed accounts with a
    password; returns the files without account and the accounts' addresses."""
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
    for command in (["db", "upgrade"], ["demo", "seed", "--count", str(licences)]):
        subprocess.run(flask + command, env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ.update(env)
    from sqlalchemy import select

    from modern.accounts.models import Account
    from modern.accounts.passwords import hash_password
    from modern.db import db
    from modern.licences.models import Licence
    from telepoints_compat.contacts.services import seed_demo_contacts
    from wsgi import create_app

    app = create_app()
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        rows = db.session.execute(select(Licence.numero, Licence.nom, Licence.prenoms,
                                         Licence.date_naissance).order_by(Licence.numero))
        files = [File(*row) for row in rows]
        seed_demo_contacts(db.session(), [f.numero for f in files], now)
        digest = hash_password(PASSWORD)
        emails = []
        for index, file in enumerate(files[:accounts]):
            email = f"titulaire{index}@exemple.fr"
            db.session.add(Account(numero=file.numero, email=email, proof="identite",
                                   created_at=now, email_confirmed_at=now,
                                   password_hash=digest))
            emails.append(email)
        db.session.commit()
        db.engine.dispose()
    return files[accounts:], emails


def serve(env: dict[str, str], port: int, workers: int | None) -> subprocess.Popen[bytes]:
    served = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    if workers:
        served["GUNICORN_WORKERS"] = str(workers)
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py",
         "wsgi:create_app()"], env=served, cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return server
        except requests.RequestException:  # not listening yet, or its workers still booting
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


# -- the requests ------------------------------------------------------------------------------

class Client:
    """One visitor: a session of their own, the form's CSRF token read from the page (not
    timed), then the one POST that is timed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def token(self, path: str, name: str) -> str:
        page = self.session.get(self.base + path, timeout=10).text
        found = re.search(rf'name="{name}"[^>]*value="([^"]+)"', page) or re.search(
            rf'value="([^"]+)"[^>]*name="{name}"', page)
        if not found:
            raise SystemExit(f"no {name} field on {path}")
        return found.group(1)

    def post(self, path: str, **options: object) -> tuple[float, int]:
        started = time.perf_counter()
        response = self.session.post(self.base + path, allow_redirects=False, timeout=10,
                                     **options)  # type: ignore[arg-type]
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, response.status_code


def soap_request(numero: str, birth: dt.date) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv='
            f'"http://schemas.xmlsoap.org/soap/envelope/" xmlns:tel="{TNS}"><soapenv:Body>'
            f"<tel:DemanderCodeConfidentiel><tel:numeroDossier>{numero}</tel:numeroDossier>"
            f"<tel:dateNaissance>{birth.isoformat()}</tel:dateNaissance>"
            "</tel:DemanderCodeConfidentiel></soapenv:Body></soapenv:Envelope>").encode()


def wrong_birth(file: File) -> dt.date:
    return file.birth + dt.timedelta(days=1)


def unknown_numero(index: int) -> str:
    return f"{990000000000 + index:012d}"  # demo files are not in the 99 range


Request = Callable[[int], tuple[float, int]]


def pairs(base: str, files: list[File], emails: list[str]) -> dict[str, dict[str, Request]]:
    """Each question's two cases: a function of the round giving (milliseconds, status)."""
    soap = requests.Session()
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": SOAP_ACTION}
    half = len(files) // 2
    matched, mismatched, new_files = files[:half], files[half:], files[:half]

    def code_request(file: File, birth: dt.date) -> tuple[float, int]:
        started = time.perf_counter()
        response = soap.post(base + "/telepoints/ws", data=soap_request(file.numero, birth),
                             headers=headers, timeout=10)
        return (time.perf_counter() - started) * 1000, response.status_code

    def lost_code(numero: str, birth: dt.date) -> tuple[float, int]:
        client = Client(base)
        csrf = client.token("/telepoints/code-perdu", "csrf")
        return client.post("/telepoints/code-perdu", data={
            "csrf": csrf, "numero": numero, "date_naissance": birth.isoformat()})

    def sign_up(round_: int, numero: str, file: File) -> tuple[float, int]:
        client = Client(base)
        csrf = client.token("/compte/creer", "csrf_token")
        return client.post("/compte/creer", data={
            "csrf_token": csrf, "numero": numero, "preuve": "identite", "nom": file.nom,
            "prenoms": file.prenoms, "date_naissance": file.birth.isoformat(),
            "email": f"nouveau{round_}-{numero}@exemple.fr", "password": PASSWORD,
            "cgu": "y"})

    def sign_in(email: str) -> tuple[float, int]:
        client = Client(base)
        csrf = client.token("/compte/connexion", "csrf_token")
        return client.post("/compte/connexion", data={
            "csrf_token": csrf, "email": email, "password": "pas le bon mot de passe"})

    def reset(email: str) -> tuple[float, int]:
        client = Client(base)
        csrf = client.token("/compte/mot-de-passe-oublie", "csrf_token")
        return client.post("/compte/mot-de-passe-oublie", data={
            "csrf_token": csrf, "email": email})

    # The web page for a lost code uses the files from the other end, so that no file gets
    # more requests a day than the service serves (CODE_REQUESTS_PER_DAY).
    return {
        "DemanderCodeConfidentiel (SOAP)": {
            "file and birth date match": lambda r: code_request(matched[r], matched[r].birth),
            "birth date does not match": lambda r: code_request(
                mismatched[r], wrong_birth(mismatched[r]))},
        "Lost code page (POST /telepoints/code-perdu)": {
            "file and birth date match": lambda r: lost_code(
                mismatched[-1 - r].numero, mismatched[-1 - r].birth),
            "birth date does not match": lambda r: lost_code(
                matched[-1 - r].numero, wrong_birth(matched[-1 - r]))},
        "Sign-up by identity (POST /compte/creer)": {
            "file exists (account created)": lambda r: sign_up(
                r, new_files[r].numero, new_files[r]),
            "file does not exist": lambda r: sign_up(r, unknown_numero(r), new_files[r])},
        "Sign-in (POST /compte/connexion)": {
            "account's address, wrong password": lambda r: sign_in(emails[r]),
            "address without account": lambda r: sign_in(f"personne{r}@exemple.fr")},
        "Password reset (POST /compte/mot-de-passe-oublie)": {
            "account's address": lambda r: reset(emails[len(emails) - 1 - r]),
            "address without account": lambda r: reset(f"inconnu{r}@exemple.fr")},
    }


def measure(cases: dict[str, Request], rounds: int) -> dict[str, tuple[list[float], set[int]]]:
    results: dict[str, tuple[list[float], set[int]]] = {name: ([], set()) for name in cases}
    names = list(cases)
    order = random.Random(2007)  # the same order at every run
    for round_ in range(rounds):
        # A random order each round: with a fixed rotation, the request that comes two after
        # one case would always be the same case.
        for name in order.sample(names, len(names)):
            elapsed, status = cases[name](round_)
            results[name][0].append(elapsed)
            results[name][1].add(status)
    return results


def report(title: str, results: dict[str, tuple[list[float], set[int]]]) -> float:
    print(f"\n{title}")
    (_first, (a, _)), (_second, (b, _)) = results.items()
    for name, (values, statuses) in results.items():
        p95 = sorted(values)[int(len(values) * 0.95) - 1]
        print(f"  {name:<36} median {statistics.median(values):7.2f} ms   "
              f"p95 {p95:7.2f} ms   status {','.join(map(str, sorted(statuses)))}")
    ratio = statistics.median(b) / statistics.median(a)
    # The same, round by round (the two requests of a round are a few milliseconds apart, so
    # a burst of load from elsewhere hits both): less at the mercy of a busy machine.
    paired = statistics.median(second / first for first, second in zip(a, b, strict=True))
    verdict = "within 10 %" if 0.9 <= ratio <= 1.1 else "OUTSIDE 10 %"
    print(f"  ratio of medians {ratio:.3f} (second / first)   median of the rounds' ratios "
          f"{paired:.3f}   Mann-Whitney p {mann_whitney_p(a, b):.3f}   {verdict}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--only", default="", help="run only the pairs whose title has this")
    arguments = parser.parse_args()
    rounds = arguments.rounds
    with tempfile.TemporaryDirectory(prefix="enumeration-") as folder:
        port = free_port()
        env = environment(Path(folder), port)
        # Per round: two files for code requests and one for a sign-up (half the files
        # each), one account for a wrong password and one for a reset.
        files, emails = prepare(env, licences=2 * rounds + 2 * rounds + 20,
                                accounts=2 * rounds)
        server = serve(env, port, arguments.workers)
        try:
            base = f"http://127.0.0.1:{port}"
            ratios = {}
            for title, cases in pairs(base, files, emails).items():
                if arguments.only.lower() in title.lower():
                    for _warm in range(3):  # first requests of a worker load its code
                        for case in cases.values():
                            case(rounds + _warm)
                    ratios[title] = report(title, measure(cases, rounds))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    print("\nSummary (ratio of medians, target 0.90–1.10):")
    for title, ratio in ratios.items():
        print(f"  {title:<50} {ratio:.3f}")


if __name__ == "__main__":
    main()
