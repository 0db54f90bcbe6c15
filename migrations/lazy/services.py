"""Lazy migration: the first time a legacy client uses a code for a file not migrated yet,
the code is checked at the legacy backend, and on success the file is migrated on the spot.

- Fails closed: a backend that does not answer in time (3 s) or answers nonsense raises
  `LegacyBackendUnavailable` and the request is refused; nothing is written.
- Nothing is written unless the legacy backend accepted the code (no half-migrated account).
- Exactly one account, even under concurrent requests for one file and a bulk job at the same
  time: the migration record is inserted with `ON CONFLICT DO NOTHING … RETURNING` first, and
  only the transaction to which the database returned the row writes the code. The others
  find the file migrated. (The row returned decides, not the statement's `rowcount`: psycopg 3
  gives -1 for this insert whether or not it inserted, and every request that raced believed
  it had created the account.)
- The code the holder typed is known to be right, so it is kept the way a migrated legacy code
  is (wrapped MD5 fingerprint, see telepoints_compat/legacy_fingerprints.py), and re-hashed in
  the native scheme at the holder's next success, like every migrated code.

The migration commits on its own short transaction: the request's transaction holds nothing
of it, and what it proves does not depend on how the request ends.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from adapters.legacy_telepoints import LegacyAnswer, LegacyTelepoints, LegacyUnavailable
from migrations.accounts.models import SOURCE_LAZY, MigratedAccount
from migrations.lazy import cutover
from migrations.lazy.models import MODE_LEGACY, MODE_OFF
from modern.logs import mask_numero
from telepoints_compat.codes.models import ConfidentialCode
from telepoints_compat.legacy_fallback import (
    FallbackOutcome,
    FallbackResult,
    LegacyBackendUnavailable,
)
from telepoints_compat.legacy_fingerprints import LEGACY_MD5, legacy_inner, wrap

log = logging.getLogger("telepoints.migration")


class LazyMigration:
    """`telepoints_compat.legacy_fallback.LegacyFallback`, installed by the composition root
    when `LEGACY_TELEPOINTS_URL` is set."""

    def __init__(self, legacy: LegacyTelepoints, engine: Callable[[], Engine],
                 code_key: Callable[[], tuple[str, bytes]],
                 local_check: Callable[[str, str], bool],
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.legacy = legacy
        self.local_check = local_check
        self.engine = engine
        self.code_key = code_key
        self.clock = clock

    def verify(self, numero: str, code: str) -> FallbackResult:
        engine = self.engine()
        with engine.connect() as connection:
            mode = cutover.get_mode(connection)
            migrated = connection.scalar(select(MigratedAccount.numero).where(
                MigratedAccount.numero == numero)) is not None
            legacy_code = migrated and connection.scalar(select(ConfidentialCode.id).where(
                ConfidentialCode.numero == numero, ConfidentialCode.pending.is_(False),
                ConfidentialCode.origin == "legacy").limit(1)) is not None
        if migrated:
            # Migrated, maybe by a concurrent request since the caller looked: the code is
            # judged here, on what is committed now.
            if self.local_check(numero, code):
                return FallbackResult(FallbackOutcome.VERIFIED)
            if legacy_code and mode != MODE_OFF:
                return self._reissued_since(engine, numero, code)
            return FallbackResult(FallbackOutcome.NOT_APPLICABLE)
        if mode == MODE_OFF:
            return FallbackResult(FallbackOutcome.NOT_APPLICABLE)
        try:
            check = self.legacy.check_code(numero, code.upper())
        except LegacyUnavailable as exc:
            self._count(engine, "indisponible")
            log.warning("legacy backend unavailable", extra={
                "event": "legacy_unavailable", "numero": mask_numero(numero),
                "reason": str(exc)[:200]})
            raise LegacyBackendUnavailable("the legacy backend did not answer") from exc
        if check.answer is LegacyAnswer.REFUSED:
            self._count(engine, "refuse")
            return FallbackResult(FallbackOutcome.REFUSED)
        if check.answer is LegacyAnswer.LOCKED:
            self._count(engine, "bloque")
            return FallbackResult(FallbackOutcome.LOCKED, check.locked_until)
        if check.answer is LegacyAnswer.EXPIRED:
            self._count(engine, "expire")
            return FallbackResult(FallbackOutcome.EXPIRED)
        if mode == MODE_LEGACY:  # rolled back to the legacy backend: answer, migrate nothing
            self._count(engine, "verifie")
            return FallbackResult(FallbackOutcome.VERIFIED)
        created = self.migrate(engine, numero, code.upper())
        self._count(engine, "migre" if created else "verifie")
        log.info("account migrated on first use" if created else "account already migrated",
                 extra={"event": "lazy_migration", "numero": mask_numero(numero),
                        "new_account": created})
        return FallbackResult(FallbackOutcome.VERIFIED)

    def migrate(self, engine: Engine, numero: str, code: str) -> bool:
        """Writes the migration record and the code in one transaction; False when another
        request or a bulk job migrated the file first (then nothing is written)."""
        now = self.clock()
        key_id, key = self.code_key()
        table = MigratedAccount.__table__
        insert = (postgresql.insert(table) if engine.dialect.name == "postgresql"
                  else sqlite.insert(table))
        statement = insert.values(
            numero=numero, source=SOURCE_LAZY, migrated_at=now, legacy_statut="ACTIF",
            legacy_failures=0, code_imported=True,
        ).on_conflict_do_nothing(index_elements=[table.c.numero]).returning(table.c.numero)
        with engine.begin() as connection:
            # The insert comes first: on SQLite it takes the write lock (concurrent first uses
            # queue behind it) before anything is read.
            if connection.execute(statement).scalar() is None:
                return False
            current = connection.scalar(select(ConfidentialCode.id).where(
                ConfidentialCode.numero == numero, ConfidentialCode.pending.is_(False)))
            if current is None:
                connection.execute(ConfidentialCode.__table__.insert().values(
                    numero=numero, scheme=LEGACY_MD5, key_id=key_id, salt=None,
                    digest=wrap(key, numero, LEGACY_MD5, legacy_inner(LEGACY_MD5, None, code)),
                    origin="legacy", pending=False, issued_at=now, expires_at=None))
            else:
                connection.execute(table.update().where(table.c.numero == numero).values(
                    code_imported=False))
        return True

    def _reissued_since(self, engine: Engine, numero: str, code: str) -> FallbackResult:
        """A wrong code for a file migrated with its legacy code: the legacy operator may have
        reissued the code since the export (a holder's new letter), so the legacy backend
        judges it. Accepted there, it replaces the code held here (as MIS_A_JOUR does for a
        later export); anything else is a wrong code here, counted by the caller's lockout
        like any try. A backend out of reach refuses nothing more than the code here did:
        the file is migrated, its answers do not depend on the legacy side."""
        try:
            check = self.legacy.check_code(numero, code.upper())
        except LegacyUnavailable as exc:
            log.warning("legacy backend unavailable", extra={
                "event": "legacy_unavailable", "numero": mask_numero(numero),
                "reason": str(exc)[:200]})
            return FallbackResult(FallbackOutcome.NOT_APPLICABLE)
        if check.answer is not LegacyAnswer.ACCEPTED:
            return FallbackResult(FallbackOutcome.NOT_APPLICABLE)
        self.replace_code(engine, numero, code.upper())
        self._count(engine, "mis_a_jour")
        log.info("code reissued by the legacy backend taken", extra={
            "event": "lazy_code_update", "numero": mask_numero(numero)})
        return FallbackResult(FallbackOutcome.VERIFIED)

    def replace_code(self, engine: Engine, numero: str, code: str) -> None:
        """The code the legacy backend accepted becomes the file's current code (a pending
        code asked for here stays)."""
        now = self.clock()
        key_id, key = self.code_key()
        codes = ConfidentialCode.__table__
        with engine.begin() as connection:
            connection.execute(codes.delete().where(
                codes.c.numero == numero, codes.c.pending.is_(False)))
            connection.execute(codes.insert().values(
                numero=numero, scheme=LEGACY_MD5, key_id=key_id, salt=None,
                digest=wrap(key, numero, LEGACY_MD5, legacy_inner(LEGACY_MD5, None, code)),
                origin="legacy", pending=False, issued_at=now, expires_at=None))
            accounts = MigratedAccount.__table__
            connection.execute(accounts.update().where(accounts.c.numero == numero).values(
                code_imported=True, legacy_issued_on=now.date()))

    def _count(self, engine: Engine, result: str) -> None:
        try:
            with engine.begin() as connection:
                cutover.record_traffic(connection, result, self.clock().date())
        except Exception:  # a statistic must never decide a login
            log.exception("legacy traffic not counted")
