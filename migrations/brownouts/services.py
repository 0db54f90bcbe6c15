"""Brownouts (as GitHub retires an API): planned short windows during which a share of the
legacy requests is answered SERVICE_CLOS, with the notice, so that whoever still depends on
Télépoints learns it before the last day, not on it. The windows are announced beforehand in
the `AvisMigration` header and on the old web pages, counted in the metrics and the census.

Inside a window, the share is exact in each process (every request adds the share to a
running sum; a whole unit refuses one): a share of 0.25 refuses one request in four, and
nothing outside the window. The windows are read from the database at most every few
seconds (off the request path), so that a window added from any host takes effect
everywhere.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from prometheus_client import Counter
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from migrations.brownouts.models import BrownoutWindow
from modern.errors import DomainError, NotFound
from modern.i18n import DEFAULT
from telepoints_compat.legacy_traffic import PlannedOutage
from telepoints_compat.notice import outages_text

REFRESH_SECONDS = 10.0
ANNOUNCE_DAYS = 30  # windows starting within this many days are announced
REFUSED = Counter("legacy_brownout_refusals", "Legacy requests refused by a brownout window.")


@dataclass(frozen=True)
class Window:
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    share: float

    def covers(self, now: dt.datetime) -> bool:
        return self.starts_at <= now < self.ends_at


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def add(session: Session, starts_at: dt.datetime, ends_at: dt.datetime, share: float,
        actor: str, now: dt.datetime | None = None) -> BrownoutWindow:
    """Plans a window; flushes (the caller commits)."""
    now = now or dt.datetime.now(dt.UTC)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise DomainError(_("Indiquez les heures avec leur fuseau (ou en heure de Paris)."))
    if ends_at <= starts_at:
        raise DomainError(_("La fin de l'interruption doit venir après son début."))
    if ends_at <= now:
        raise DomainError(_("Cette interruption serait déjà terminée."))
    if ends_at - starts_at > dt.timedelta(days=7):
        raise DomainError(_("Une interruption programmée dure au plus 7 jours."))
    if not 0 < share <= 1:
        raise DomainError(_("La part des requêtes refusées doit être comprise entre 0 (exclu) "
                            "et 1."))
    window = BrownoutWindow(starts_at=starts_at, ends_at=ends_at, share=share,
                            created_by=actor[:64], created_at=now)
    session.add(window)
    session.flush()
    return window


def remove(session: Session, window_id: int) -> None:
    if not session.execute(delete(BrownoutWindow).where(
            BrownoutWindow.id == window_id)).rowcount:  # type: ignore[attr-defined]
        raise NotFound(_("Aucune interruption programmée n° %(numero)s.", numero=window_id))
    session.flush()


def windows(session: Session, *, include_past: bool = False,
            now: dt.datetime | None = None) -> list[Window]:
    query = select(BrownoutWindow).order_by(BrownoutWindow.starts_at)
    if not include_past:
        query = query.where(BrownoutWindow.ends_at > (now or dt.datetime.now(dt.UTC)))
    return [Window(w.id, _aware(w.starts_at), _aware(w.ends_at), w.share)
            for w in session.scalars(query)]


def coming(planned: list[Window], now: dt.datetime) -> list[PlannedOutage]:
    """The windows to announce: not ended, starting within `ANNOUNCE_DAYS`, the first five."""
    return [PlannedOutage(w.starts_at, w.ends_at, w.share) for w in planned
            if w.ends_at > now and w.starts_at <= now + dt.timedelta(days=ANNOUNCE_DAYS)][:5]


def announcement(planned: list[Window], now: dt.datetime) -> str | None:
    """The text added to the migration notice while windows are planned: French, as the
    SOAP contract's `AvisMigration` is, whoever asks (the web pages say it in the reader's
    language, from the same words)."""
    with force_locale(DEFAULT):
        return outages_text(coming(planned, now))


class Brownouts:
    """What the request path asks: is this request refused, and what to announce."""

    def __init__(self, engine: Callable[[], Engine],
                 refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.engine, self.refresh_seconds = engine, refresh_seconds
        self._lock = threading.Lock()
        self._windows: list[Window] = []
        # First read `refresh_seconds` after start-up: the application is built before its
        # database may be reached, and a process started inside a window only lets that
        # window's first seconds through.
        self._read_at = time.monotonic()
        self._reading = False
        self._closed = False
        self._sum = 0.0
        self._announced: tuple[list[Window] | None, int, str | None] = (None, 0, None)

    def _current(self) -> list[Window]:
        """The windows as last read; read again off the request path (a thread) when older
        than `refresh_seconds`, so that no request waits for the database on their account."""
        if time.monotonic() - self._read_at < self.refresh_seconds:
            return self._windows  # fresh: no lock (both are replaced whole, never changed)
        with self._lock:
            stale = not self._reading and not self._closed and \
                time.monotonic() - self._read_at >= self.refresh_seconds
            self._reading = self._reading or stale
        if stale:
            threading.Thread(target=self._read, name="brownouts", daemon=True).start()
        return self._windows

    def _read(self) -> None:
        try:
            with Session(self.engine()) as session:
                planned = windows(session)
            with self._lock:
                self._windows = planned
        finally:
            with self._lock:
                self._read_at, self._reading = time.monotonic(), False

    def close(self) -> None:
        """No reading starts any more (the windows last read stay)."""
        with self._lock:
            self._closed = True

    def refresh(self) -> None:
        """Reads the windows now (after a change made in this process)."""
        self._read()

    def refuse(self, now: dt.datetime) -> bool:
        window = next((w for w in self._current() if w.covers(now)), None)
        if window is None:
            return False
        with self._lock:
            self._sum += window.share
            if self._sum < 1:
                return False
            self._sum -= 1
        REFUSED.inc()
        return True

    def coming(self, now: dt.datetime) -> list[PlannedOutage]:
        return coming(self._current(), now)

    def announcement(self, now: dt.datetime) -> str | None:
        """Written once a minute at most for the same windows (it is on every answer)."""
        planned, minute = self._current(), int(now.timestamp() // 60)
        cached = self._announced
        if cached[0] is planned and cached[1] == minute:
            return cached[2]
        text = announcement(planned, now)
        self._announced = (planned, minute, text)
        return text
