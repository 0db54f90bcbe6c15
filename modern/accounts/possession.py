"""Proof of possession: the points are opened only to an account that proved the file is its
holder's, not merely that it knows what the licence prints.

Everything a sign-up "par identité" asks (file number, birth name, first names, birth date)
is printed on the licence and in every attestation's seal: an employer or an insurer holding
a photocopy knows it, and the law keeps the points from them (Code de la route L223-7). So
identity may start a sign-up, never finish it. An account proves possession with:

- FranceConnect, with an identity matching the licence's holder;
- the Télépoints confidential code (on the sign-up form, on the old pages' activation link,
  or typed on the dashboard);
- an activation code sent to the holder's contact on file, by SMS to the mobile number, or
  else by letter to the postal address: 8 digits from `secrets`, kept as a keyed hash
  (HMAC-SHA256 under a key derived from the installation's secret), single use, valid
  `SMS_MINUTES` minutes by SMS and `LETTER_DAYS` days by letter, each wrong code counted on
  the file's shared lockout (a right one clears nothing: only a right confidential code does).

Until then the account sees only what the licence itself shows its holder (identity, file
number, categories with their dates and restrictions). A file with no contact on file is
opened by FranceConnect or a Télépoints code.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modern.accounts.models import (
    POSSESSION_LETTER,
    POSSESSION_SMS,
    Account,
    AccountPossession,
)
from modern.contacts_on_file import ContactOnFile, contact_for
from modern.holder_proof import holder_proof
from modern.points.services import today_in_paris
from modern.throttling import throttling

CODE_DIGITS = 8
SMS_MINUTES = 10
LETTER_DAYS = 30
SENDS_PER_DAY = 3  # activation codes per account and day (each SMS or letter costs)
SMS = "sms"
LETTER = "letter"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _row(session: Session, account: Account) -> AccountPossession | None:
    """The account's row, if it is this account's (ids may be reused after a deletion)."""
    row = session.get(AccountPossession, account.id)
    if row is None or row.numero != account.numero:
        return None
    return row


def _row_for_writing(session: Session, account: Account) -> AccountPossession:
    row = session.get(AccountPossession, account.id)
    if row is not None and row.numero != account.numero:
        session.delete(row)  # left by a deleted account whose id was reused
        session.flush()
        row = None
    if row is None:
        row = AccountPossession(account_id=account.id, numero=account.numero)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # a concurrent request of the same account made it first
            found = session.get(AccountPossession, account.id)
            assert found is not None
            row = found
    return row


def proof_of(session: Session, account: Account) -> str | None:
    """How the account proved possession, or None."""
    row = _row(session, account)
    if row is None or row.proved_at is None:
        return None
    created = _utc(account.created_at)
    if created is not None and _utc(row.proved_at) < created:  # type: ignore[operator]
        return None  # a proof older than the account is another account's
    return row.proof


def proved(session: Session, account: Account) -> bool:
    return proof_of(session, account) is not None


def record_proof(session: Session, account: Account, proof: str) -> None:
    """The account proved possession with `proof` (a `POSSESSION_*`). The first proof
    stays; any code waiting is dropped. Once the account is also active, the holder's
    Télépoints code is retired for the modern web (checklist A4). Flushes."""
    row = _row_for_writing(session, account)
    if row.proved_at is None:
        row.proof, row.proved_at = proof, _now()
    row.code_digest = row.code_channel = row.code_expires_at = None
    session.flush()
    if account.active:
        holder_proof().retire_for_modern_web(account.numero)


def retire_code_if_proved(session: Session, account: Account) -> None:
    """At activation: the Télépoints code is retired only for an account that proved
    possession (an identity sign-up must not take the holder's code away)."""
    if proved(session, account):
        holder_proof().retire_for_modern_web(account.numero)


def described(session: Session, account: Account) -> dict[str, object] | None:
    """The account's proof and the code waiting to be typed, for the holder's download of
    their data: never the code's hash."""
    row = _row(session, account)
    if row is None:
        return None
    proof = proof_of(session, account)
    pending = pending_code(session, account)
    return {"preuve": proof, "prouvee_le": row.proved_at if proof else None,
            "code_d_activation_en_attente": None if pending is None else {
                "canal": pending.channel, "envoye_le": pending.sent_at,
                "expire_le": pending.expires_at, "destination": pending.destination},
            "codes_envoyes": {"jour": row.sends_day, "nombre": row.sends}}


def forget(session: Session, account_id: int) -> None:
    """The account is being deleted: its proof and code go with it. Flushes."""
    session.execute(delete(AccountPossession).where(
        AccountPossession.account_id == account_id))
    session.flush()


# -- the activation code -------------------------------------------------------------------------


def _key() -> bytes:
    """A key of its own, derived from the installation's secret (never the secret itself)."""
    cached: bytes | None = current_app.extensions.get("possession_code_key")
    if cached is None:
        cached = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                      info=b"possession activation code").derive(
                          str(current_app.config["SECRET_KEY"]).encode())
        current_app.extensions["possession_code_key"] = cached
    return cached


def _digest(account: Account, code: str) -> str:
    return hmac.new(_key(), b"\x00".join((str(account.id).encode(), account.numero.encode(),
                                          code.encode())), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class PendingCode:
    """What the dashboard says of the code waiting to be typed."""

    channel: str  # SMS or LETTER
    sent_at: dt.datetime
    expires_at: dt.datetime
    destination: str  # masked: "06 •• •• •• 42", or the town of the postal address


def pending_code(session: Session, account: Account) -> PendingCode | None:
    row = _row(session, account)
    if row is None or row.code_digest is None or row.code_sent_at is None \
            or row.code_expires_at is None or row.code_channel is None:
        return None
    contact = contact_for(session, account.numero)
    return PendingCode(row.code_channel, _utc(row.code_sent_at) or _now(),
                       _utc(row.code_expires_at) or _now(),
                       masked_destination(contact, row.code_channel))


def masked_destination(contact: ContactOnFile | None, channel: str) -> str:
    if contact is None:
        return ""
    if channel == SMS and contact.mobile:
        return "•" * max(len(contact.mobile) - 2, 0) + contact.mobile[-2:]
    if contact.address:
        return contact.address.strip().splitlines()[-1]  # the postcode and town
    return ""


@dataclass(frozen=True)
class NewCode:
    code: str
    channel: str
    contact: ContactOnFile
    expires_at: dt.datetime


def new_code(session: Session, account: Account) -> NewCode | None:
    """A fresh activation code for the account (replacing any other), or None when the file
    has no contact on file or its daily allowance of codes is spent. The caller sends it
    (`notices`), in the same transaction. Flushes."""
    contact = contact_for(session, account.numero)
    if contact is None:
        return None
    # Counted on the row, in the caller's transaction: the shared counters write on their own
    # connection, which on SQLite would wait behind this transaction's writes.
    row = _row_for_writing(session, account)
    day = today_in_paris()
    if row.sends_day != day:
        row.sends_day, row.sends = day, 0
    if (row.sends or 0) >= SENDS_PER_DAY:
        return None
    row.sends = (row.sends or 0) + 1
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    channel = SMS if contact.mobile else LETTER
    now = _now()
    expires = now + (dt.timedelta(minutes=SMS_MINUTES) if channel == SMS
                     else dt.timedelta(days=LETTER_DAYS))
    row.code_digest = _digest(account, code)
    row.code_channel, row.code_sent_at, row.code_expires_at = channel, now, expires
    session.flush()
    return NewCode(code, channel, contact, expires)


class CodeOutcome(enum.Enum):
    OK = "ok"
    INVALID = "invalid"  # wrong, already used, or none sent
    EXPIRED = "expired"
    LOCKED = "locked"


def check_code(session: Session, account: Account, typed: str) -> CodeOutcome:
    """Checks an activation code under the file's shared lockout: while the file is locked
    nothing is checked; a wrong or expired code counts as a failure; a right code proves
    possession, is used up, and clears nothing (only a right confidential code clears the
    count). Flushes."""
    lockout = throttling().lockout
    state = lockout.state(account.numero)
    if state.locked:
        return CodeOutcome.LOCKED
    row = _row(session, account)
    code = "".join(c for c in typed if c.isdigit())[:CODE_DIGITS * 2]
    candidate = _digest(account, code)
    right = row is not None and row.code_digest is not None \
        and hmac.compare_digest(candidate, row.code_digest)
    expires = _utc(row.code_expires_at) if row is not None else None
    if right and row is not None and expires is not None and expires > _now():
        if lockout.confirm(account.numero, state).locked:  # concurrent guesses locked it
            return CodeOutcome.LOCKED
        record_proof(session, account,
                     POSSESSION_SMS if row.code_channel == SMS else POSSESSION_LETTER)
        return CodeOutcome.OK
    after = lockout.record_failure(account.numero, channel="modern_possession")
    if after.locked:
        return CodeOutcome.LOCKED
    return CodeOutcome.EXPIRED if right else CodeOutcome.INVALID
