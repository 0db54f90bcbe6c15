"""The wallet's signing keys (credentials and status lists), kept by the document seals' key
store (`modern.documents.keys.KeyRing`) so that they follow the same rules: P-256, encrypted at
rest with a password derived from the secret key, one active, rotation adds a key and keeps the
older ones, which stay published so that credentials they signed still verify.

The wallet's keys are a ring of their own (a `wallet/` folder inside the seal keys' folder):
a credential and a sealed PDF are not signed by the same key. The wallet reads the ring through
`SigningKeys` only; a store that also keeps each key's state (active, retired, revoked) gets its
revoked keys left out of the publication, and so out of what the verifier trusts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from joserfc.jwk import ECKey

from modern.documents.keys import KeyRing

EXTENSION = "wallet_keys"
ALG = "ES256"
REVOKED = "revoked"  # the key store's name for a key no longer trusted at all


class SigningKeys(Protocol):
    """What the wallet needs of a key store."""

    def ensure_active(self) -> str: ...

    def private_key(self, key_id: str) -> ec.EllipticCurvePrivateKey: ...

    def public_key(self, key_id: str) -> ec.EllipticCurvePublicKey | None: ...

    def key_ids(self) -> list[str]: ...

    def rotate(self) -> str: ...

    def rewrap(self) -> list[str]: ...


class WalletKeys:
    def __init__(self, store: SigningKeys) -> None:
        self.store = store

    def signing(self) -> tuple[str, ECKey]:
        """The active key's id and the key itself (a first key is made when there is none)."""
        key_id = self.store.ensure_active()
        return key_id, ECKey.import_key(self.store.private_key(key_id))

    def published(self) -> list[str]:
        """The keys a verifier may trust: every key of the ring but those a store that keeps
        key states (`state(key_id).status`) marks revoked."""
        self.store.ensure_active()
        state = getattr(self.store, "state", None)
        return [key_id for key_id in self.store.key_ids()
                if state is None or getattr(state(key_id), "status", None) != REVOKED]

    def verifying(self, key_id: object) -> ECKey | None:
        if not isinstance(key_id, str) or key_id not in self.published():
            return None
        public = self.store.public_key(key_id)
        return None if public is None else ECKey.import_key(public)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for key_id in self.published():
            key = self.verifying(key_id)
            if key is not None:
                keys.append({**key.as_dict(private=False), "kid": key_id, "use": "sig",
                             "alg": ALG})
        return {"keys": keys}


def ring_for(seal_keys_folder: Path, secret: str, fallbacks: list[str] | tuple[str, ...]) \
        -> KeyRing:
    return KeyRing(seal_keys_folder / "wallet", secret, fallbacks)


def wallet_keys() -> WalletKeys:
    keys: WalletKeys = current_app.extensions[EXTENSION]
    return keys
