"""Purpose-bound signed tokens (itsdangerous): activation links, e-mail confirmation, password
reset.

Each purpose has its own salt, so a token made for one purpose never verifies for another, and
its own maximum age. A token carries a subject (whom it is about: a file number, an account
id), a random token id and optional data; it is signed, not encrypted, so it must hold nothing
secret. Single use is enforced by a ledger of used token ids: `consume` records the id in the
caller's transaction (services flush, the entry point commits), and a second `consume` of the
same token, even a concurrent one, fails on the ledger's primary key.

The signing keys are the application's `SECRET_KEY` and, during a rotation, its
`SECRET_KEY_FALLBACKS` (tokens signed with an older key still verify until they expire).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import DateTime, String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from modern.db import db
from modern.errors import DomainError
from modern.i18n import N_
from modern.retention import Purge, Rule


@dataclass(frozen=True)
class Purpose:
    name: str
    max_age: int  # seconds
    single_use: bool = True


# Links the service sends or shows: short-lived (ASVS 5, 6.5.5 for the one-click activation).
PURPOSES: dict[str, Purpose] = {
    "activation": Purpose("activation", max_age=10 * 60),
    # 12 hours, as the confirmation link of Mes Points Permis.
    "email_confirmation": Purpose("email_confirmation", max_age=12 * 3600),
    # A new address for an account, confirmed from that mailbox (as the first one was).
    "email_change": Purpose("email_change", max_age=12 * 3600),
    "password_reset": Purpose("password_reset", max_age=30 * 60),
    # "Ce n'est pas moi", sent to the contacts on file when an account is created for a file
    # or linked to FranceConnect: a letter takes days to arrive and to be read.
    "not_me": Purpose("not_me", max_age=60 * 24 * 3600),
}


class TokenError(DomainError):
    status = 400
    code = "JETON_INVALIDE"


class TokenInvalid(TokenError):
    """Not a token of this purpose (tampered, truncated, wrong purpose, unknown key)."""


class TokenExpired(TokenError):
    code = "JETON_EXPIRE"


class TokenUsed(TokenError):
    code = "JETON_DEJA_UTILISE"


@dataclass(frozen=True)
class TokenClaims:
    purpose: str
    subject: str
    token_id: str
    issued_at: dt.datetime
    data: Mapping[str, Any] = field(default_factory=dict)


class UsedToken(db.Model):  # type: ignore[name-defined]
    """The ledger of consumed tokens. A row may be purged once its token has expired: the
    signature check refuses the token from then on anyway."""

    __tablename__ = "used_token"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    used_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class TokenService:
    def __init__(self, secret_keys: Sequence[str | bytes], *,
                 purposes: Mapping[str, Purpose] = PURPOSES,
                 clock: Callable[[], float] = time.time) -> None:
        """`secret_keys`: oldest first; the last one signs."""
        self.secret_keys = list(secret_keys)
        self.purposes = purposes
        self.clock = clock

    def _purpose(self, name: str) -> Purpose:
        try:
            return self.purposes[name]
        except KeyError:
            raise ValueError(f"unknown token purpose {name!r}") from None

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        keys: list[bytes] = [k.encode() if isinstance(k, str) else k for k in self.secret_keys]
        return URLSafeTimedSerializer(keys, salt=f"telepoints.token.{purpose.name}")

    def issue(self, purpose: str, subject: str, **data: Any) -> str:
        chosen = self._purpose(purpose)
        payload = {"s": subject, "j": secrets.token_hex(16), "d": data}
        serializer = self._serializer(chosen)
        # The timestamp is ours (injectable clock), not itsdangerous's own time.time().
        signer = serializer.make_signer(serializer.salt)
        assert isinstance(signer, TimestampSigner)
        signer.get_timestamp = lambda: int(self.clock())  # type: ignore[method-assign]
        body = serializer.dump_payload(payload)
        return signer.sign(body).decode()

    def verify(self, purpose: str, token: str) -> TokenClaims:
        """The claims of a valid, unexpired token; does not look at the ledger."""
        chosen = self._purpose(purpose)
        try:
            payload, signed_at = self._serializer(chosen).loads(token, return_timestamp=True)
        except (BadSignature, UnicodeError, ValueError):
            raise TokenInvalid(N_("Ce lien n'est pas valide.")) from None
        issued = signed_at.timestamp()
        now = self.clock()
        if issued > now + 60:  # from the future: a clock skew we do not accept
            raise TokenInvalid(N_("Ce lien n'est pas valide."))
        if now - issued > chosen.max_age:
            raise TokenExpired(N_("Ce lien a expiré. Demandez-en un nouveau."))
        if not isinstance(payload, dict) or not isinstance(payload.get("s"), str) \
                or not isinstance(payload.get("j"), str):
            raise TokenInvalid(N_("Ce lien n'est pas valide."))
        return TokenClaims(purpose=chosen.name, subject=payload["s"], token_id=payload["j"],
                           issued_at=dt.datetime.fromtimestamp(issued, dt.UTC),
                           data=payload.get("d") or {})

    def consume(self, session: Session, purpose: str, token: str) -> TokenClaims:
        """Verifies the token and records it as used (flushes; the caller commits)."""
        claims = self.verify(purpose, token)
        chosen = self._purpose(purpose)
        if not chosen.single_use:
            return claims
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        try:
            with session.begin_nested():
                session.add(UsedToken(token_id=claims.token_id, purpose=chosen.name, used_at=now,
                                      expires_at=claims.issued_at + dt.timedelta(
                                          seconds=chosen.max_age)))
        except IntegrityError:
            raise TokenUsed(N_("Ce lien a déjà été utilisé.")) from None
        return claims

    def purge(self, session: Session) -> int:
        """Forgets the used tokens that have expired anyway; returns how many."""
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        result = session.execute(delete(UsedToken).where(UsedToken.expires_at < now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def service() -> TokenService:
    """The application's token service (keys from SECRET_KEY and SECRET_KEY_FALLBACKS)."""
    config = current_app.config
    keys = [*reversed(config.get("SECRET_KEY_FALLBACKS") or []), config["SECRET_KEY"]]
    return TokenService(keys)


def issue(purpose: str, subject: str, **data: Any) -> str:
    return service().issue(purpose, subject, **data)


def verify(purpose: str, token: str) -> TokenClaims:
    return service().verify(purpose, token)


def consume(purpose: str, token: str) -> TokenClaims:
    return service().consume(db.session(), purpose, token)


def expired_used_tokens(purge: Purge) -> int:
    """Retention: a used token's id is kept until the token expires; the signature check
    refuses it from then on anyway."""
    table = UsedToken.__table__
    return purge.delete(table, table.c.expires_at < purge.now)


RETENTION_RULES = (Rule("used_token.expired", expired_used_tokens),)
