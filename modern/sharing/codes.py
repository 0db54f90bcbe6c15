"""Share codes: a holder lets a renter, an employer or an insurer check their driving rights.

As the DVLA's "view driving licence" share codes: the holder makes a code for a purpose they
name, valid 1 to 30 days, revocable, a few at once at most; the third party types the code
and the holder's birth name and sees the licence's state, categories (dates, restrictions),
suspensions and the national file's update date, never the points nor the history (Code de
la route L223-7: the balance is the holder's alone to know). Each look is recorded and shown
to the holder, who may be told by e-mail.

Secrets: a code is 12 characters drawn from a CSPRNG (60 bits), not derived from the file;
only its keyed hash is stored, with a keyed hash of the birth name bound to it.

Guessing: as with the confidential codes, every attempt counts against the address's rate
limit (scope `partage`) and, on failure, against a lockout keyed by the share the code opens
(the shared counters of modern/throttling), so a leaked code cannot be tried against many
names. A code that opens no share is counted the same way on a key kept one minute, not 90
days: guesses leave no lasting row per guessed code. An unknown code, an expired or
revoked one, a wrong name and a locked code all get the same answer, after the same work: one
indexed read, one counter round trip, two keyed hashes and a constant-time comparison, one
counter incremented.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modern.accounts.identity import fold
from modern.errors import Conflict, InvalidRequest
from modern.i18n import N_
from modern.licences.models import Licence
from modern.licences.record import LicenceRecord
from modern.sharing.hashing import Hasher
from modern.sharing.models import ShareCode, ShareLook
from modern.throttling import LockState, Throttling, network_of

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
LENGTH = 12
MIN_DAYS, MAX_DAYS = 1, 30
MAX_ACTIVE = 5
# Marked for the catalogue, translated where shown.
PURPOSES = {"location": N_("Location de véhicule"), "employeur": N_("Employeur"),
            "assurance": N_("Assurance"), "autre": N_("Autre")}
RATE_SCOPE = "partage"
# What a look keeps of an address it cannot read (stored as is, translated where shown).
UNKNOWN_NETWORK = N_("inconnue")
_DUMMY = "0" * 64
# Failures on a code that opens no share are counted as the others, but kept a minute only.
UNKNOWN_LOCK = "partage:inconnu"
UNKNOWN_LOCK_SECONDS = 60


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def normalise(code: str) -> str:
    """What the holder typed, without spaces, hyphens or case."""
    return "".join(c for c in code.upper() if c.isalnum())


def formatted(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def network(address: str) -> str:
    """The address cut to its network: what a look keeps of the third party."""
    return network_of(address) or UNKNOWN_NETWORK


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back: they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def active(share: ShareCode, now: dt.datetime) -> bool:
    return share.revoked_at is None and _aware(share.expires_at) > now


@dataclass(frozen=True)
class Created:
    share: ShareCode
    code: str  # shown once to the holder, kept nowhere in clear


def create(session: Session, hasher: Hasher, *, account_id: int, record: LicenceRecord,
           purpose: str, days: int, notify: bool) -> Created:
    if purpose not in PURPOSES:
        raise InvalidRequest(_("Choisissez le motif du partage : location, employeur, "
                               "assurance ou autre."))
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidRequest(_("Un code de partage vaut de %(min)s à %(max)s jours.",
                               min=MIN_DAYS, max=MAX_DAYS))
    moment = now()
    live = session.scalar(select(func.count()).select_from(ShareCode).where(
        ShareCode.account_id == account_id, ShareCode.revoked_at.is_(None),
        ShareCode.expires_at > moment))
    if (live or 0) >= MAX_ACTIVE:
        raise Conflict(_("Vous avez déjà %(count)s codes de partage en cours : révoquez-en un "
                         "avant d'en créer un autre.", count=MAX_ACTIVE))
    code = "".join(secrets.choice(ALPHABET) for _position in range(LENGTH))
    share = ShareCode(
        account_id=account_id, numero=record.numero_dossier,
        code_hash=hasher.digest("code", code),
        name_hash=hasher.digest("nom", f"{code}\x00{fold(record.titulaire.nom)}"),
        purpose=purpose, notify=notify, created_at=moment,
        expires_at=moment + dt.timedelta(days=days))
    session.add(share)
    session.flush()
    return Created(share, code)


def of_account(session: Session, account_id: int) -> list[ShareCode]:
    return list(session.scalars(select(ShareCode).where(ShareCode.account_id == account_id)
                                .order_by(ShareCode.created_at.desc(), ShareCode.id.desc())))


def looks(session: Session, share_ids: list[int]) -> dict[int, list[ShareLook]]:
    found: dict[int, list[ShareLook]] = {share_id: [] for share_id in share_ids}
    if share_ids:
        for look in session.scalars(select(ShareLook).where(ShareLook.share_id.in_(share_ids))
                                    .order_by(ShareLook.looked_at.desc())):
            found[look.share_id].append(look)
    return found


def revoke(session: Session, account_id: int, share_id: int) -> ShareCode | None:
    """The holder's own code, revoked (None when it is not theirs)."""
    share = session.get(ShareCode, share_id)
    if share is None or share.account_id != account_id:
        return None
    if share.revoked_at is None:
        share.revoked_at = now()
        session.flush()
    return share


@dataclass(frozen=True)
class Consulted:
    share: ShareCode
    record: LicenceRecord
    look: ShareLook


class Locked(Exception):
    """Too many failures from this code: wait (`retry_after` seconds)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class RateLimited(Locked):
    """Too many attempts from this address."""


def consult(session: Session, hasher: Hasher, throttle: Throttling, *, code: str, name: str,
            address: str, channel: str) -> Consulted | None:
    """The licence a code opens with this birth name, the look recorded; None for an
    unknown, expired or revoked code, a wrong name, or a code locked after failures (all
    alike). Raises RateLimited past the address's limit. Flushes; the caller commits."""
    typed = normalise(code)[:64]
    digests = hasher.digests("code", typed)
    share = session.scalar(select(ShareCode).where(ShareCode.code_hash.in_(digests)))
    # The lock is the share's: one counter per code that exists, kept 90 days. An unknown
    # code reads and counts on a key of its own that lapses within a minute: the same round
    # trips and the same writes (so it is not told apart), and no lasting row per guess.
    lock_key = (f"partage:{share.id}" if share is not None
                else f"{UNKNOWN_LOCK}:{digests[0][:24]}")
    admission = throttle.admit(RATE_SCOPE, address, lock_key)
    if not admission.rate.allowed:
        raise RateLimited(admission.rate.retry_after)
    moment = now()
    index = 0
    if share is not None:
        index = next((i for i, d in enumerate(digests) if d == share.code_hash), 0)
    names = hasher.digests("nom", f"{typed}\x00{fold(name)}")
    name_ok = hmac.compare_digest(names[index], share.name_hash if share else _DUMMY)
    lock = admission.lock
    usable = (share is not None and name_ok and active(share, moment)
              and not (lock is not None and lock.locked))
    record = None
    if usable and share is not None:
        licence = session.get(Licence, share.numero)
        record = licence.record() if licence is not None else None
    if share is None:
        throttle.store.increment(throttle.lockout.keys(lock_key)[0], UNKNOWN_LOCK_SECONDS,
                                 refresh=True)
        return None
    if record is None or not usable:
        throttle.lockout.record_failure(lock_key, channel="partage")
        return None
    confirmed = throttle.lockout.confirm(lock_key, lock or LockState(0, None))
    if confirmed.locked:  # concurrent wrong guesses locked it since the admission
        return None
    throttle.lockout.record_success(lock_key, confirmed)
    if index != 0:  # hashed under a previous secret key: re-hashed under the current one
        share.code_hash, share.name_hash = digests[0], names[0]
    look = ShareLook(share_id=share.id, looked_at=moment, purpose=share.purpose,
                     network=network(address), channel=channel)
    session.add(look)
    session.flush()
    return Consulted(share, record, look)
