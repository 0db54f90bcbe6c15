"""Keyed hashes of the secrets this package hands out (share codes, calendar tokens).

HMAC-SHA256 under a key of its own, derived from the service's secret key (never the secret
itself). During a rotation of `SECRET_KEY` the previous secrets still find what they hashed
(`SECRET_KEY_FALLBACKS`): a share code lives 30 days at most, a calendar token until revoked.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _derive(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"telepoints sharing hashes").derive(secret.encode())


class Hasher:
    def __init__(self, secret: str, fallbacks: Sequence[str] = ()) -> None:
        self.keys = [_derive(secret), *(_derive(old) for old in fallbacks)]

    def digests(self, purpose: str, value: str) -> list[str]:
        """The value's digest under each key, current first (to look a row up)."""
        message = f"{purpose}\x00{value}".encode()
        return [hmac.new(key, message, hashlib.sha256).hexdigest() for key in self.keys]

    def digest(self, purpose: str, value: str) -> str:
        return self.digests(purpose, value)[0]


def hasher() -> Hasher:
    """Built for the app's current secrets."""
    return Hasher(current_app.config["SECRET_KEY"], current_app.config["SECRET_KEY_FALLBACKS"])
