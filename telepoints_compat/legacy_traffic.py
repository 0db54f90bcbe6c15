"""What the migration watches and decides about legacy requests, declared here so that the
compatibility layer can call it without knowing the migration package (it sits downstream):
the composition root installs the implementation as `app.extensions[EXTENSION]`; with none
installed, nothing changes.

- `observe`: every legacy request once answered (SOAP and old web form): the client census.
- `code_used`: a code held here proved a file on a legacy channel (the holder still uses
  Télépoints); it only notes the file in memory.
- `compare`: an answer given here to a code check, for the parallel run; it only queues.
- `refuse`: whether this request falls in a planned outage (a brownout): SERVICE_CLOS.
- `announcement`: the text added to the SOAP migration notice while outages are planned.
- `outages`: the same outages, for the old web pages to say in the reader's language.

Each must be cheap and must never raise into the request: a statistic or a comparison never
decides an answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple, Protocol

from flask import Flask

EXTENSION = "legacy_traffic"
SOAP, WEB = "soap", "web"


class LegacyRequest(NamedTuple):  # a tuple: made on every legacy request, cheaply
    channel: str  # SOAP or WEB
    operation: str  # the contract's operation, or the old web form's page
    outcome: str  # "OK" or the contract's error code
    user_agent: str
    address: str  # the client address as the proxy fix left it; never stored whole
    soap_version: str | None  # "1.1", "1.2"; None on the web


class PlannedOutage(NamedTuple):
    starts_at: dt.datetime  # aware
    ends_at: dt.datetime
    share: float  # the part of the requests refused, 1 for all


class LegacyTraffic(Protocol):
    def observe(self, request: LegacyRequest) -> None: ...

    def code_used(self, numero: str) -> None:
        """`numero` is normalised; called on the request path, after the code matched."""

    def compare(self, operation: str, numero: str, code: str,
                answer: Callable[[], bytes]) -> None:
        """`answer` gives the answer element's bytes; called only if the request is drawn."""

    def refuse(self, now: dt.datetime) -> bool: ...

    def announcement(self, now: dt.datetime) -> str | None: ...

    def outages(self, now: dt.datetime) -> list[PlannedOutage]: ...

    def close(self) -> None:
        """Background work finished and stopped (the process ends, or a test's application)."""


def installed(app: Flask) -> LegacyTraffic | None:
    traffic: LegacyTraffic | None = app.extensions.get(EXTENSION)
    return traffic
