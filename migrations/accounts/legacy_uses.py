"""The last day each migrated file's code was used by a legacy client here (SOAP or the old
web form): who still needs Télépoints, for the readiness and `notify-holders`.

Recorded cheaply: on the request path a code that proved a file only puts its number in a
set of the day, in memory (a file already in it costs a look-up and nothing more); one thread
of the process writes the new ones every few seconds, a statement per 500 files, which sets
`migrated_account.legacy_used_on` where it is older. So a file costs at most one statement
per process and day, and one row written per day whatever the processes; the request never
waits for the database on its account. No new copy of the file number is kept: the date goes
on the migration record, which holds the number already (a file never migrated has no
record, and nothing is written for it). The set holds the day's distinct files of this
process, and starts again the next day.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import bindparam, or_, update
from sqlalchemy.engine import Engine

from migrations.accounts.models import MigratedAccount
from migrations.written_later import WrittenEveryFewSeconds

log = logging.getLogger("telepoints.migration")

FLUSH_SECONDS = 5.0
BATCH = 500  # file numbers per statement

_record = MigratedAccount.__table__
_WRITE = (update(_record)
          .where(_record.c.numero.in_(bindparam("numeros", expanding=True)),
                 or_(_record.c.legacy_used_on.is_(None),
                     _record.c.legacy_used_on < bindparam("day")))
          .values(legacy_used_on=bindparam("day")))


class LegacyCodeUses(WrittenEveryFewSeconds):
    what = "legacy code uses"

    def __init__(self, engine: Callable[[], Engine], clock: Callable[[], float] = time.time,
                 flush_seconds: float = FLUSH_SECONDS) -> None:
        """`clock`: seconds since the epoch (the day is the UTC day, as the census's)."""
        super().__init__(flush_seconds)
        self.engine, self.clock = engine, clock
        self._lock = threading.Lock()
        self._day = dt.date.min
        self._day_span = (0.0, 0.0)  # the clock's values of `_day`: [start, end)
        self._noted: set[str] = set()  # the files of `_day`, written or to write
        self._pending: dict[dt.date, list[str]] = {}

    def record(self, numero: str) -> None:
        """On the request path: notes the file once a day; never waits for the database."""
        now = self.clock()
        start, end = self._day_span
        if start <= now < end and numero in self._noted:  # most calls end here, unlocked
            return
        with self._lock:
            if not self._day_span[0] <= now < self._day_span[1]:
                self._day = dt.datetime.fromtimestamp(now, dt.UTC).date()
                midnight = dt.datetime.combine(self._day, dt.time(0), dt.UTC).timestamp()
                self._day_span, self._noted = (midnight, midnight + 86400), set()
            if numero in self._noted:
                return
            self._noted.add(numero)
            self._pending.setdefault(self._day, []).append(numero)
            self._start_writing()

    def flush(self) -> None:
        """Writes the files noted since the last flush; on failure they are kept."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            with self.engine().begin() as connection:
                for day, noted in sorted(pending.items()):
                    # In key order, as every process does: no two wait for each other in a
                    # cycle (a deadlock) when their batches share files.
                    numeros = sorted(noted)
                    for start in range(0, len(numeros), BATCH):
                        connection.execute(_WRITE, {"numeros": numeros[start:start + BATCH],
                                                    "day": day})
        except Exception:
            with self._lock:  # put back, before what came meanwhile
                for day, numeros in pending.items():
                    self._pending[day] = numeros + self._pending.get(day, [])
            raise
