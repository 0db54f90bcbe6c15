"""The compatibility layer's `LegacyTraffic` hook (telepoints_compat/legacy_traffic.py),
composed of the census, the legacy code uses, the brownouts and, while the legacy backend is
configured, the parallel run. Each is guarded: a statistic or a comparison never decides an
answer."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from flask import Flask

from migrations.accounts.legacy_uses import LegacyCodeUses
from migrations.brownouts.services import Brownouts
from migrations.census.services import Census
from migrations.parallel_run.services import ParallelRun
from telepoints_compat.legacy_traffic import LegacyRequest, PlannedOutage, installed

log = logging.getLogger("telepoints.migration")


class LegacyTrafficWatch:
    def __init__(self, census: Census, uses: LegacyCodeUses, brownouts: Brownouts,
                 parallel_run: ParallelRun | None) -> None:
        self.census, self.uses = census, uses
        self.brownouts, self.parallel_run = brownouts, parallel_run

    def observe(self, request: LegacyRequest) -> None:
        try:
            self.census.observe(request)
        except Exception:
            log.exception("legacy request not counted in the census")

    def code_used(self, numero: str) -> None:
        try:
            self.uses.record(numero)
        except Exception:
            log.exception("legacy code use not recorded")

    def compare(self, operation: str, numero: str, code: str,
                answer: Callable[[], bytes]) -> None:
        if self.parallel_run is not None:
            self.parallel_run.compare(operation, numero, code, answer)

    def refuse(self, now: dt.datetime) -> bool:
        try:
            return self.brownouts.refuse(now)
        except Exception:  # no window can be read: nobody is refused for it
            log.exception("brownout windows not read")
            return False

    def flush(self) -> None:
        """What this process counted and noted and has not written yet, written now (a
        figure about to be read here)."""
        try:
            self.census.flush()
        finally:
            self.uses.flush()

    def close(self) -> None:
        self.brownouts.close()
        if self.parallel_run is not None:
            self.parallel_run.close()
        try:
            self.census.close()
        finally:
            self.uses.close()

    def announcement(self, now: dt.datetime) -> str | None:
        try:
            return self.brownouts.announcement(now)
        except Exception:
            log.exception("brownout windows not read")
            return None

    def outages(self, now: dt.datetime) -> list[PlannedOutage]:
        try:
            return self.brownouts.coming(now)
        except Exception:
            log.exception("brownout windows not read")
            return []


def watch(app: Flask) -> LegacyTrafficWatch | None:
    """The hook this package installed on `app`, to reach its parts (flush the census and
    the code uses, read the brownouts again)."""
    traffic = installed(app)
    return traffic if isinstance(traffic, LegacyTrafficWatch) else None


def flush_counts(app: Flask) -> None:
    """What this process counted and has not written yet (the census, the legacy code uses),
    written before a figure is read here; the web processes write theirs every few seconds."""
    if (traffic := watch(app)) is not None:
        traffic.flush()
