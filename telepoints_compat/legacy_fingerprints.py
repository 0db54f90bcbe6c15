"""Legacy Télépoints code fingerprints, and how they are kept here.

The legacy export holds, for each confidential code, `SHA1:<salt, 16 hex>:<40 hex>` (SHA-1 of
the salt bytes followed by the ASCII code) or, for accounts of the first years, `MD5::<32 hex>`
(unsalted MD5 of the code). Both are far too fast to resist guessing, so neither is stored as
it came: the fingerprint is wrapped in the codes' keyed hash (HMAC-SHA256 under the server key,
over a label, the file number and the fingerprint), exactly as `codes.services` computes it
when it checks a code of scheme `legacy-sha1` or `legacy-md5`. A stolen database then allows no
offline guessing without the key, and the holder's existing code keeps working; at the
holder's first success the code service re-hashes the code in the native scheme.

This module is what the migration uses to wrap a million fingerprints without building ORM
objects; `tests/migrations` checks that a wrapped fingerprint verifies through the code service.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from typing import NamedTuple

LEGACY_SHA1 = "legacy-sha1"
LEGACY_MD5 = "legacy-md5"
_SHA1 = re.compile(r"SHA1:([0-9a-fA-F]{16}):([0-9a-fA-F]{40})")
_MD5 = re.compile(r"MD5::([0-9a-fA-F]{32})")
_LABELS = {LEGACY_SHA1: b"legacy-sha1", LEGACY_MD5: b"legacy-md5"}


class LegacyFingerprint(NamedTuple):  # a tuple: a bulk import makes millions of them
    scheme: str  # LEGACY_SHA1 or LEGACY_MD5
    salt: str | None  # lower-case hex, SHA-1 only
    inner: str  # the legacy digest, lower-case hex


def parse_fingerprint(text: str) -> LegacyFingerprint | None:
    """The fingerprint's parts, or None when it is in neither known form."""
    if match := _SHA1.fullmatch(text):
        salt, inner = match.groups()
        return LegacyFingerprint(LEGACY_SHA1, salt.lower(), inner.lower())
    if match := _MD5.fullmatch(text):
        return LegacyFingerprint(LEGACY_MD5, None, match.group(1).lower())
    return None


def legacy_inner(scheme: str, salt: str | None, code: str) -> str:
    """What the legacy system computed from a code (already upper-cased)."""
    if scheme == LEGACY_SHA1:
        return hashlib.sha1(bytes.fromhex(salt or "") + code.encode(),
                            usedforsecurity=False).hexdigest()
    return hashlib.md5(code.encode(), usedforsecurity=False).hexdigest()


def wrap(key: bytes, numero: str, scheme: str, inner: str) -> str:
    """The stored digest: the legacy digest under the keyed hash, bound to the file number."""
    message = b"\x00".join((_LABELS[scheme], numero.encode(), inner.encode()))
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def wrapper(key: bytes) -> Callable[[str, str, str], str]:
    """`wrap` under one key for many fingerprints in a row (a bulk import): the keyed hash's
    state for the key is computed once, not once per fingerprint."""
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    labels = {scheme: label + b"\x00" for scheme, label in _LABELS.items()}

    def wrap_one(numero: str, scheme: str, inner: str) -> str:
        mac = keyed.copy()
        mac.update(labels[scheme] + numero.encode() + b"\x00" + inner.encode())
        return mac.hexdigest()

    return wrap_one


def matches(key: bytes, numero: str, scheme: str, salt: str | None, digest: str,
            code: str) -> bool:
    """Does `code` (upper-cased) match a wrapped legacy fingerprint? Constant time."""
    candidate = wrap(key, numero, scheme, legacy_inner(scheme, salt, code))
    return hmac.compare_digest(candidate, digest)
