"""The hook through which a legacy request for a file not migrated yet reaches the legacy
backend (lazy migration).

The compatibility layer may not know the migration package (it sits downstream), so it only
declares what it calls: `LegacyFallback.verify`, asked when a code fails here on a legacy
channel. The composition root installs the implementation (`migrations.lazy`) as
`app.extensions[EXTENSION]`; with none installed, nothing changes.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Protocol

from flask import current_app

from modern.throttling import StoreUnavailable

EXTENSION = "legacy_fallback"


class FallbackOutcome(enum.Enum):
    NOT_APPLICABLE = "not_applicable"  # migrated already, or no legacy backend to ask
    VERIFIED = "verified"  # the legacy backend accepted the code (and the file is migrated)
    REFUSED = "refused"  # unknown file or wrong code there too
    LOCKED = "locked"  # the legacy backend has locked the file
    EXPIRED = "expired"  # the right code, past its validity


@dataclass(frozen=True)
class FallbackResult:
    outcome: FallbackOutcome
    locked_until: dt.datetime | None = None


class LegacyBackendUnavailable(StoreUnavailable):
    """The legacy backend did not answer in time or answered nonsense: the request is
    refused (SERVICE_INDISPONIBLE), never let through (fail closed)."""


class LegacyFallback(Protocol):
    def verify(self, numero: str, code: str) -> FallbackResult:
        """`numero` is normalised. Writes (the migration) are committed by the
        implementation on its own transaction: nothing of the caller's is committed."""


def installed() -> LegacyFallback | None:
    fallback: LegacyFallback | None = current_app.extensions.get(EXTENSION)
    return fallback
