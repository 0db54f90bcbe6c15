"""Does this confidential code prove this file number? The question modern code asks (the
account claim, the lazy migration) without knowing how codes are kept.

The confidential codes belong to the Télépoints compatibility layer, which modern may not
import: it provides the implementation, and the composition root installs it as
`app.extensions["holder_proof"]`. Every check goes through the shared lockout, so failures on
the modern path and on the legacy paths add up for one file number.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Protocol

from flask import current_app

EXTENSION = "holder_proof"


class ProofOutcome(enum.Enum):
    OK = "ok"
    INVALID = "invalid"  # unknown file, wrong code, or code retired for this channel
    LOCKED = "locked"  # too many failures: see `locked_until`
    EXPIRED = "expired"  # the right code, past its validity


class Channel(enum.Enum):
    SOAP = "soap"
    LEGACY_WEB = "legacy_web"
    MODERN_WEB = "modern_web"


@dataclass(frozen=True)
class ProofResult:
    outcome: ProofOutcome
    numero: str  # normalised
    locked_until: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is ProofOutcome.OK


class HolderProof(Protocol):
    def verify(self, numero: str, code: str, channel: Channel) -> ProofResult:
        """Checks the code under the shared lockout (a failure counts, a success clears the
        count). Raises `modern.throttling.StoreUnavailable` when the counters are down: the
        caller refuses the request."""

    def retire_for_modern_web(self, numero: str) -> None:
        """From now on this file's current code no longer proves anything on the modern web
        path (the holder has an account of their own). Flushes; the caller commits."""


def holder_proof() -> HolderProof:
    proof: HolderProof = current_app.extensions[EXTENSION]
    return proof
