"""The published list of seal keys: `/.well-known/cles-cachet.json`, a JSON Web Key Set.

Anybody can check one of our seals with this list alone, offline (see `offline_verifier.py`),
as 2D-Doc publishes its certificates. Each key is a standard public JWK (`kty` EC, `crv`
P-256, `x`, `y`, `kid`, `use` sig, `alg` ES256, so that JOSE libraries read it as it is) with
what a verifier needs to judge a signature, as NumericDates (seconds since 1970, UTC):

- `status`: `active` (signs new documents) or `retired` (signs no more, its documents still
  verify);
- `nbf`: from when it signs; `retired_at`: when it stopped signing (a seal signed later is
  refused); `exp`: until when its documents can verify (a document is valid 4 months), absent
  while it is active.

A revoked key (trusted no more: what it sealed is refused) leaves `keys`, so that no generic
JOSE consumer can use it; the set lists it in `revoked` with its `kid` and `revoked_at` only.

The set carries its `issuer` (the service's address) and each key a `usage` (`cachet-2d` for
document seals), so that other kinds of keys of this issuer (a wallet credential's, say) can
be published beside them, told apart by usage, with the same states.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from modern.documents.keys import REVOKED, KeyRing, KeyState
from modern.documents.pdf import VALIDITY_MONTHS
from modern.points.rules import add_months

USAGE = "cachet-2d"
PATH = "/.well-known/cles-cachet.json"


def _b64(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).decode().rstrip("=")


def _seconds(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def verifies_until(state: KeyState) -> dt.datetime | None:
    """The last moment a document it sealed can still be valid: its retirement plus the
    documents' validity (None while it signs)."""
    if state.retired is None:
        return None
    day = add_months(state.retired.date(), VALIDITY_MONTHS) + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def jwk(ring: KeyRing, state: KeyState) -> dict[str, Any]:
    public = ring.public_key(state.key_id)
    assert public is not None
    numbers = public.public_numbers()
    key: dict[str, Any] = {
        "kty": "EC", "crv": "P-256", "x": _b64(numbers.x), "y": _b64(numbers.y),
        "kid": state.key_id, "use": "sig", "alg": "ES256", "usage": USAGE,
        "status": state.status, "nbf": _seconds(state.created),
    }
    if state.retired is not None:
        key["retired_at"] = _seconds(state.retired)
    if (until := verifies_until(state)) is not None:
        key["exp"] = _seconds(until)
    return key


def key_set(ring: KeyRing, issuer: str) -> dict[str, Any]:
    """The whole list, read from the key folder at each call: a rotation or a revocation on
    any host shows at the next request."""
    ring.ensure_active()
    states = ring.states()
    return {"issuer": issuer,
            "keys": [jwk(ring, state) for state in states if state.status != REVOKED],
            # Revoked keys are out of `keys`, so that no JOSE library trusts them; only their
            # ids and revocation times are published, for verifiers to say "révoqué".
            "revoked": [{"kid": state.key_id, "revoked_at": _seconds(state.revoked)}
                        for state in states if state.revoked is not None]}
