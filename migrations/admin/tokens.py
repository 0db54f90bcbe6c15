"""Admin API tokens: 256 random bits, shown once, kept as a SHA-256 digest, with scopes, an
expiry, and revocation. `flask --app wsgi admin create-token NAME --scope …` makes one."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from migrations.admin.models import AdminToken
from modern.errors import Conflict, DomainError, NotFound

READ = "migrations:read"
WRITE = "migrations:write"
REVERT = "accounts:revert"
CUTOVER = "cutover:write"
SCOPES = (READ, WRITE, REVERT, CUTOVER)
PREFIX = "tpadm_"
_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(session: Session, name: str, scopes: tuple[str, ...] | list[str], *,
           expires_in: dt.timedelta | None = dt.timedelta(days=90),
           now: dt.datetime | None = None) -> tuple[AdminToken, str]:
    if not _NAME.fullmatch(name):
        raise DomainError("Nom de jeton invalide (lettres, chiffres, _ . @ -).")
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise DomainError(f"Portées inconnues : {', '.join(sorted(unknown)) or 'aucune'}.")
    if session.scalar(select(AdminToken.id).where(AdminToken.name == name)) is not None:
        raise Conflict(f"Un jeton nommé {name} existe déjà.")
    now = now or dt.datetime.now(dt.UTC)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = AdminToken(name=name, digest=digest(secret),
                       scopes=" ".join(s for s in SCOPES if s in scopes), created_at=now,
                       expires_at=now + expires_in if expires_in else None)
    session.add(token)
    session.flush()
    return token, secret


def authenticate(session: Session, presented: str,
                 now: dt.datetime | None = None) -> AdminToken | None:
    """The live token whose digest matches, or None (unknown, revoked or expired)."""
    if not presented.startswith(PREFIX) or len(presented) > 100:
        return None
    wanted = digest(presented)
    token = session.scalar(select(AdminToken).where(AdminToken.digest == wanted))
    if token is None or not hmac.compare_digest(token.digest, wanted):
        return None
    now = now or dt.datetime.now(dt.UTC)
    expires = token.expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    if token.revoked_at is not None or (expires is not None and expires <= now):
        return None
    return token


def revoke(session: Session, name: str) -> None:
    token = session.scalar(select(AdminToken).where(AdminToken.name == name))
    if token is None:
        raise NotFound(f"Aucun jeton nommé {name}.")
    token.revoked_at = token.revoked_at or dt.datetime.now(dt.UTC)
    session.flush()


def list_tokens(session: Session) -> list[AdminToken]:
    return list(session.scalars(select(AdminToken).order_by(AdminToken.name)))
