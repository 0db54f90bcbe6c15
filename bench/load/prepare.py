"""The load test's data, made through the project's services inside an application context:
confidential codes for two sets of files, confirmed local accounts, sealed documents.

    python bench/load/prepare.py EXTRACT OUT_FOLDER --codes N --wrong N --accounts N --documents N

Run by the load test in its own process, with the test's environment (database, Redis,
instance folder, secret key). The extract is the one already imported: its lines give the
file numbers and, for sign-ups, the holders' identities. Writes OUT_FOLDER/fixtures.json and
a few of the documents as PDF files (the verifier takes uploads too).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from modern.accounts import possession  # noqa: E402
from modern.accounts import services as accounts  # noqa: E402
from modern.accounts.models import POSSESSION_SMS, Account  # noqa: E402
from modern.db import db  # noqa: E402
from modern.documents.keys import KeyRing  # noqa: E402
from modern.documents.pdf import build  # noqa: E402
from modern.documents.seal import ATTESTATION  # noqa: E402
from modern.licences.models import Licence  # noqa: E402
from modern.points.services import today_in_paris  # noqa: E402
from telepoints_compat.context import compat  # noqa: E402
from wsgi import create_app  # noqa: E402

PDF_FILES = 10


def holders(extract: Path) -> Iterator[dict[str, Any]]:
    with extract.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def issue_codes(numeros: list[str]) -> list[str]:
    """One agent-issued code per file, as `flask codes issue` does."""
    service = compat().codes
    codes = [service.issue(db.session(), numero, "agent") for numero in numeros]
    db.session.commit()
    return codes


def _links(public_url: str) -> accounts.Links:
    return accounts.Links(confirmation=lambda token: f"{public_url}/compte/confirmation/{token}",
                          reset=lambda token: f"{public_url}/compte/mot-de-passe/{token}",
                          reset_request=lambda: f"{public_url}/compte/mot-de-passe-oublie",
                          not_me=lambda token: f"{public_url}/compte/ce-n-est-pas-moi/{token}",
                          email_change=lambda token: (f"{public_url}/compte/adresse/"
                                                      f"confirmation/{token}"))


def open_account(record: dict[str, Any], number: int, links: accounts.Links) -> dict[str, str]:
    """Sign-up proven by the identity on the licence, the e-mail confirmation, then the
    possession of the file proven (the activation code by SMS, as a holder does before the
    points open), through the accounts services (the confirmation token is the one the
    e-mail would carry)."""
    person = record["titulaire"]
    email = f"titulaire{number:05d}@charge.exemple.fr"
    password = f"Tournesol-{number:05d}-permis-de-conduire"
    outcome = accounts.sign_up(db.session(), accounts.SignUp(
        numero=record["numeroDossier"], email=email, password=password,
        family_name=person["nom"], given_names=person["prenoms"],
        birthdate=dt.date.fromisoformat(person["dateNaissance"])), links)
    if outcome is not accounts.SignUpOutcome.CREATED:
        raise SystemExit(f"sign-up of file {record['numeroDossier']} refused: {outcome.value}")
    account = db.session.scalars(select(Account).where(Account.email == email)).one()
    token = accounts.token_service().issue(accounts.CONFIRMATION, str(account.id), e=email)
    accounts.confirm_email(db.session(), token, links)
    possession.record_proof(db.session(), account, POSSESSION_SMS)
    db.session.commit()
    return {"email": email, "password": password}


def seal_documents(numeros: list[str], keys: KeyRing, folder: Path) -> tuple[list[str], list[str]]:
    """Attestations of driving rights as the service delivers them: their seal codes, and a
    few of them written as PDF files."""
    today = today_in_paris()
    codes: list[str] = []
    files: list[str] = []
    for numero in numeros:
        licence = db.session.get(Licence, numero)
        assert licence is not None
        document = build(licence.record(), ATTESTATION, keys, today)
        codes.append(document.code)
        if len(files) < PDF_FILES:
            path = folder / f"attestation-{len(files)}.pdf"
            path.write_bytes(document.pdf)
            files.append(str(path))
    return codes, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("extract", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--codes", type=int, required=True)
    parser.add_argument("--wrong", type=int, required=True)
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--documents", type=int, required=True)
    options = parser.parse_args()
    wanted = options.codes + options.wrong + options.accounts + options.documents
    records = list(islice(holders(options.extract), wanted))
    if len(records) < wanted:
        raise SystemExit(f"the extract has {len(records)} licences, {wanted} are needed")
    numeros = [record["numeroDossier"] for record in records]
    valid, rest = numeros[:options.codes], numeros[options.codes:]
    wrong, rest = rest[:options.wrong], rest[options.wrong:]
    people = records[options.codes + options.wrong:][:options.accounts]
    sealed = rest[options.accounts:]

    app = create_app()
    with app.app_context():
        codes = issue_codes(valid)
        issue_codes(wrong)  # these files have codes too; the traffic never knows them
        links = _links(app.config["SETTINGS"].public_url)
        people_accounts = [open_account(record, number, links)
                           for number, record in enumerate(people)]
        documents, pdfs = seal_documents(sealed, app.extensions["seal_keys"], options.out)
    births = [record["titulaire"]["dateNaissance"] for record in records[:options.codes]]
    fixtures = {"valid": [list(entry) for entry in zip(valid, codes, births, strict=True)],
                "wrong": wrong, "accounts": people_accounts, "documents": documents,
                "pdfs": pdfs}
    (options.out / "fixtures.json").write_text(json.dumps(fixtures), encoding="utf-8")


if __name__ == "__main__":
    main()
