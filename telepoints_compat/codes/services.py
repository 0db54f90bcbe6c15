"""Issuing and checking confidential codes.

Generation: 10 symbols drawn by `secrets` from a 32-symbol alphabet without look-alikes
(no 0/O, 1/I): 50 bits, readable on a letter or an SMS, within the contract's pattern.

Storage: a keyed hash, HMAC-SHA256 under a server key kept outside the database (`CODE_KEYS`,
see keys.py), over the file number and the upper-cased code. Why a keyed hash and not a slow
hash (argon2): the codes are machine-generated with 50 bits, so their strength does not rest
on the hash's cost; a stolen database without the key allows no guessing at all (each guess
needs the key), whereas a slow hash would still be attackable offline; and a check costs a
microsecond, so the SOAP endpoint keeps its throughput and the check takes the same time
whether or not the file exists. Online guessing is stopped by the shared lockout. The key
can be rotated: the newest key hashes new codes, an older one still verifies the codes it
hashed, and a code is re-hashed under the newest key at its holder's next success.

Legacy fingerprints (SHA-1 with salt, unsalted MD5) are never stored as they came: the
migration wraps them in the same keyed hash (`telepoints_compat.legacy_fingerprints`), so the
holder's old code keeps working, and the first success replaces the wrapped fingerprint with a
native hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from sqlalchemy import String, bindparam, cast, delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from modern.licences.models import Licence
from modern.prepared import Prepared, prepare, read
from telepoints_compat import legacy_fingerprints as legacy
from telepoints_compat.codes.keys import KeyRing
from telepoints_compat.codes.models import ConfidentialCode

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
NATIVE = "hmac-sha256"
LEGACY_SHA1 = legacy.LEGACY_SHA1
LEGACY_MD5 = legacy.LEGACY_MD5
_CODE_SHAPE = re.compile(r"[0-9A-Z]{6,12}")

Outcome = Literal["ok", "invalid", "expired"]


class FingerprintError(ValueError):
    """A legacy fingerprint in neither known form."""


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


_SPACES = re.compile(r"\s")


def normalise_code(raw: str) -> str:
    """Codes are compared upper-cased, without the spaces people type between groups."""
    return _SPACES.sub("", raw).upper()


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


class StoredCode(NamedTuple):
    """What a check reads of a stored code (plain columns: no ORM object on the hot path)."""

    id: int
    numero: str
    scheme: str
    key_id: str
    salt: str | None
    digest: str
    pending: bool
    expires_at: dt.datetime | None
    retired_for_modern_at: dt.datetime | None


_table = ConfidentialCode.__table__
_licences = Licence.__table__
# Built once: the check runs on every legacy request.
_CODES_OF_FILE = select(*(_table.c[name] for name in StoredCode._fields)).where(
    _table.c.numero == bindparam("numero"))
# The same rows, each with the file's licence record beside it: a check that succeeds has the
# record to answer from without a second query. Joined to a one-row probe, so that a file
# without code (unknown or not) gives one row too, of NULLs: every outcome fetches and converts
# at least one row, and timing does not tell an unknown file from a wrong code.
_probe = select(cast(bindparam("numero"), String).label("numero")).subquery("probe")
_CODES_AND_RECORD = select(
    *(_table.c[name] for name in StoredCode._fields), _licences.c.document,
).select_from(
    _probe.outerjoin(_table, _table.c.numero == _probe.c.numero)
    .outerjoin(_licences, _licences.c.numero == _table.c.numero))


_DUMMY = StoredCode(0, "", NATIVE, "", None, "0" * 64, False, None, None)


@dataclass(frozen=True)
class CodeCheck:
    outcome: Outcome
    matched: StoredCode | None = None


class CodeService:
    def __init__(self, keyring: KeyRing, *, validity_days: int = 0,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.keyring = keyring
        self.validity_days = validity_days
        self.clock = clock
        self._prepared: dict[str, Prepared] = {}  # by dialect name
        self._keyed: dict[bytes, hmac.HMAC] = {}  # an HMAC state per key, keyed once

    # -- hashing ---------------------------------------------------------------------------

    def _mac(self, key: bytes, label: bytes, numero: str, value: str) -> str:
        # A copy of a state already keyed costs half of keying a new one (every check hashes).
        keyed = self._keyed.get(key)
        if keyed is None:
            keyed = self._keyed[key] = hmac.new(key, digestmod=hashlib.sha256)
        mac = keyed.copy()
        mac.update(b"\x00".join((label, numero.encode(), value.encode())))
        return mac.hexdigest()

    def _digest(self, key: bytes, scheme: str, numero: str, code: str, salt: str | None) -> str:
        if scheme in (LEGACY_SHA1, LEGACY_MD5):
            return legacy.wrap(key, numero, scheme, legacy.legacy_inner(scheme, salt, code))
        return self._mac(key, b"code", numero, code)

    # -- state changes (flush; the entry point commits) ------------------------------------

    def issue(self, session: Session, numero: str, origin: str, *, pending: bool = False,
              valid_days: int | None = None) -> str:
        """A new code for the file; returns it in clear, the only time it exists so.
        `pending`: kept beside the current code until first used (a holder's request)."""
        code = generate_code()
        now = self.clock()
        days = self.validity_days if valid_days is None else valid_days
        doomed = delete(ConfidentialCode).where(ConfidentialCode.numero == numero)
        if pending:
            doomed = doomed.where(ConfidentialCode.pending.is_(True))
        session.execute(doomed)
        session.add(ConfidentialCode(
            numero=numero, scheme=NATIVE, key_id=self.keyring.current_id, salt=None,
            digest=self._digest(self.keyring.current, NATIVE, numero, code, None),
            origin=origin, pending=pending, issued_at=now,
            expires_at=now + dt.timedelta(days=days) if days else None))
        session.flush()
        return code

    def import_legacy(self, session: Session, numero: str, fingerprint: str, *,
                      issued_at: dt.datetime, expires_at: dt.datetime | None = None) -> None:
        """Keeps a legacy fingerprint (`SHA1:<salt>:<hex>` or `MD5::<hex>`), wrapped in the
        keyed hash, as the file's code, replacing any other."""
        parsed = legacy.parse_fingerprint(fingerprint)
        if parsed is None:
            raise FingerprintError("unknown fingerprint format")
        session.execute(delete(ConfidentialCode).where(ConfidentialCode.numero == numero))
        session.add(ConfidentialCode(
            numero=numero, scheme=parsed.scheme, key_id=self.keyring.current_id, salt=parsed.salt,
            digest=legacy.wrap(self.keyring.current, numero, parsed.scheme, parsed.inner),
            origin="legacy", pending=False, issued_at=issued_at, expires_at=expires_at))
        session.flush()

    def after_success(self, session: Session | Callable[[], Session], matched: StoredCode,
                      code: str) -> None:
        """A pending code that worked becomes the only one; a code hashed under an old key or
        as a legacy fingerprint is re-hashed natively under the newest key. Writes nothing in
        the common case (a current code, native, under the newest key), and then does not
        even ask a session factory for its session."""
        rehash = matched.scheme != NATIVE or matched.key_id != self.keyring.current_id
        if not matched.pending and not rehash:
            return
        if not isinstance(session, Session):
            session = session()
        row = session.get(ConfidentialCode, matched.id)
        if row is None:  # replaced meanwhile by a concurrent request: nothing left to do
            return
        if row.pending:
            session.execute(delete(ConfidentialCode).where(
                ConfidentialCode.numero == row.numero, ConfidentialCode.id != row.id))
            row.pending = False
        if rehash:
            row.scheme = NATIVE
            row.salt = None
            row.key_id = self.keyring.current_id
            row.digest = self._digest(self.keyring.current, NATIVE, row.numero,
                                      normalise_code(code), None)
        session.flush()

    def retire_for_modern(self, session: Session, numero: str) -> None:
        session.execute(update(ConfidentialCode).where(
            ConfidentialCode.numero == numero, ConfidentialCode.retired_for_modern_at.is_(None),
        ).values(retired_for_modern_at=self.clock()))
        session.flush()

    # -- checks (read only) ----------------------------------------------------------------

    def check(self, session: Session, numero: str, code: str, *,
              modern: bool = False) -> CodeCheck:
        """Compares the code with every code of the file, in constant time; a file without
        codes costs the same hashing as one with a wrong code."""
        # Through the session's connection: a Core query, without the ORM's per-call cost.
        rows = [StoredCode(*row) for row in
                session.connection().execute(_CODES_OF_FILE, {"numero": numero})]
        return self._judge(rows, numero, code, modern=modern)

    def check_reading_record(self, engine: Engine, numero: str, code: str, *,
                             modern: bool = False) -> tuple[CodeCheck, bytes | None]:
        """`check`, and when the code is right the file's licence record as stored (None
        otherwise, or when the file has no record), read by the same query: the hot path of
        the legacy requests, one statement on the driver's cursor, outside any transaction
        (it only reads). Whatever the outcome the same query runs and the same hashing is
        done: the record is returned or not after the comparison, never looked up because
        of it."""
        statement = self._prepared.get(engine.dialect.name)
        if statement is None:
            statement = self._prepared[engine.dialect.name] = prepare(_CODES_AND_RECORD,
                                                                      engine.dialect)
        rows = read(engine, statement, {"numero": numero})
        stored = [StoredCode(*row[:-1]) for row in rows]
        check = self._judge([row for row in stored if row.id is not None], numero, code,
                            modern=modern)
        document = rows[0][-1] if check.outcome == "ok" else None
        return check, document

    def _judge(self, rows: list[StoredCode], numero: str, code: str, *,
               modern: bool) -> CodeCheck:
        code = normalise_code(code)
        well_formed = _CODE_SHAPE.fullmatch(code) is not None
        matched: StoredCode | None = None
        for row in rows:
            key = self.keyring.get(row.key_id)
            if key is None:  # a key dropped too early: the code can no longer be checked
                continue
            candidate = self._digest(key, row.scheme, numero, code, row.salt)
            if hmac.compare_digest(candidate, row.digest) and well_formed:
                matched = row
        if not rows:  # the same work as for one stored code, so that time tells nothing
            dummy = _DUMMY._replace(numero=numero, key_id=self.keyring.current_id)
            candidate = self._digest(self.keyring.current, dummy.scheme, numero, code, dummy.salt)
            hmac.compare_digest(candidate, dummy.digest)
        if matched is None or (modern and matched.retired_for_modern_at is not None):
            return CodeCheck("invalid")
        expires_at = _utc(matched.expires_at)
        if expires_at is not None and expires_at <= self.clock():
            return CodeCheck("expired", matched)
        return CodeCheck("ok", matched)

    def key_usage(self, session: Session) -> dict[str, int]:
        rows = session.execute(
            select(ConfidentialCode.key_id, func.count()).group_by(ConfidentialCode.key_id))
        return {key_id: count for key_id, count in rows}
