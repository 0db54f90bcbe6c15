"""The Token Status List (draft-ietf-oauth-status-list, JWT form) of the credentials issued.

One bit per credential (0 valid, 1 invalid). A credential's index is drawn at random among the
free ones of a list of `LIST_SIZE` entries, so the index tells nothing of the order of issue and
the list's size nothing of how many were issued (the draft's "herd privacy", §12).

A credential states the licence as it was: when a registry import changes the licence's status
(a suspension, an invalidation, a cancellation — or its end), every credential of that licence
is invalidated, and the holder gets a fresh one carrying the new state. The holder may also
withdraw their credentials from the dashboard.
"""

from __future__ import annotations

import datetime as dt
import secrets
import zlib
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modern.licences.importer import Change
from modern.wallet.models import INVALID, VALID, WalletCredential
from modern.wallet.sdjwt import b64url, sign_jwt

LIST_ID = 1
LIST_SIZE = 1 << 17  # 131 072 entries: 16 KiB before compression
TTL_SECONDS = 300  # how long a relying party may keep the list (its `ttl` claim)
VALIDITY_SECONDS = 24 * 3600  # the list token's own `exp`
TYPE = "statuslist+jwt"
MEDIA_TYPE = "application/statuslist+jwt"


class StatusListFull(RuntimeError):
    pass


def allocate(session: Session, credential: WalletCredential) -> None:
    """Gives the credential a free random index (flushes; the caller commits)."""
    for _ in range(20):
        credential.status_list = LIST_ID
        credential.status_index = secrets.randbelow(LIST_SIZE)
        try:
            with session.begin_nested():
                session.add(credential)
            return
        except IntegrityError:
            continue  # the index was taken: draw again
    raise StatusListFull("no free index found in the status list")


def encode(invalid: Sequence[int], size: int = LIST_SIZE) -> str:
    """`lst`: bit i is bit (i % 8) of byte i // 8, from the least significant bit (§4.1),
    the bytes compressed with ZLIB (RFC 1950), base64url without padding."""
    data = bytearray(size // 8)
    for index in invalid:
        data[index // 8] |= 1 << (index % 8)
    return b64url(zlib.compress(bytes(data), 9))


def token(session: Session, uri: str, key_id: str, key: object, now: dt.datetime) -> str:
    invalid = session.scalars(select(WalletCredential.status_index).where(
        WalletCredential.status_list == LIST_ID, WalletCredential.status != VALID)).all()
    issued = int(now.timestamp())
    claims = {"sub": uri, "iat": issued, "exp": issued + VALIDITY_SECONDS, "ttl": TTL_SECONDS,
              "status_list": {"bits": 1, "lst": encode(invalid)}}
    return sign_jwt({"alg": "ES256", "typ": TYPE, "kid": key_id}, claims, key)  # type: ignore[arg-type]


def invalidate(session: Session, *, reason: str, now: dt.datetime,
               numeros: Sequence[str] = (), account_id: int | None = None,
               credential_id: str | None = None) -> int:
    """Sets the bit of the matching valid credentials; returns how many (flushes)."""
    query = update(WalletCredential).where(WalletCredential.status == VALID)
    if numeros:
        query = query.where(WalletCredential.numero.in_(list(numeros)))
    if account_id is not None:
        query = query.where(WalletCredential.account_id == account_id)
    if credential_id is not None:
        query = query.where(WalletCredential.id == credential_id)
    if not numeros and account_id is None and credential_id is None:
        raise ValueError("invalidate needs a selection")
    result = session.execute(query.values(status=INVALID, reason=reason, changed_at=now),
                             execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class StatusHooks:
    """The wallet's part in registry imports (`ImportHooks`)."""

    def changed(self, session: Session, changes: Sequence[Change]) -> None:
        moved = [change.numero for change in changes if change.etat != change.etat_avant]
        if moved:  # in the batch's transaction: the bits commit with the new licences
            invalidate(session, reason="etat_permis", now=dt.datetime.now(dt.UTC),
                       numeros=moved)

    def finished(self, session: Session) -> str | None:
        return None
