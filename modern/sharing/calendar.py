"""The forecast of recoveries as an iCalendar file (RFC 5545, written with `icalendar`).

One all-day event per restitution the rules engine forecasts (L223-6, R223-1), with its points
and the reason for its date, and one for the end of probation. Event titles carry no points
unless the holder chooses so: calendars get shared, and their titles show on lock screens
and in free/busy views (L223-7: the points are the holder's to know). The descriptions follow
the same choice: with it, they give the points, the reason and the balance; without it, only
the kind of restitution (the explanation of a date can state the balance, so it is left out).

The holder downloads the file from the dashboard, or subscribes to a private address holding a
secret token (kept as a keyed hash, revocable, replaceable): the subscription is computed at
each fetch from the national file's latest delivery, so it follows every import. Its words
are in the language of the request that fetches it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from modern.consultation.overview import MOTIFS, Overview
from modern.points.wording import explanation, points
from modern.sharing.hashing import Hasher
from modern.sharing.models import CalendarFeed

PRODID = "-//Mes points permis//Previsions de restitution//FR"
DOMAIN = "mes-points-permis"
TOKEN_BYTES = 32


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Entry:
    """One event, as the file says it and as the tests read it back."""

    day: dt.date
    kind: str  # "RESTITUTION" or "FIN_PROBATOIRE"
    title: str
    description: str
    points: int  # 0 for the end of probation


def entries(o: Overview, *, points_in_titles: bool) -> list[Entry]:
    """The events; `points_in_titles` (the holder's choice) puts the points and the balance in
    titles and descriptions alike, else neither says them (the explanation of a date can
    state the balance it brings back, so it goes too)."""
    condition = _("Cette date suppose qu'aucune nouvelle infraction entraînant un retrait de "
                  "points ne soit commise (article L223-6 du Code de la route).")
    found = []
    for r in o.forecast:
        kind = _(MOTIFS[r.motif])
        if points_in_titles:
            title = _("Permis : +%(points)s (solde %(balance)s)", points=points(r.points),
                      balance=r.solde)
            description = " ".join((
                _("Restitution de %(points)s (%(kind)s) :", points=points(r.points), kind=kind),
                explanation(r),
                _("Solde prévu ensuite : %(balance)s.", balance=points(r.solde)), condition))
        else:
            title = _("Permis : restitution de points prévue")
            description = " ".join((
                _("Restitution de points prévue (%(kind)s). Le nombre de points et votre "
                  "solde sont sur votre tableau de bord.", kind=kind), condition))
        found.append(Entry(r.date, "RESTITUTION", title, description, r.points))
    end = o.probation_end
    if end is not None and end > o.today and o.on_probation:
        found.append(Entry(
            end, "FIN_PROBATOIRE", _("Permis : fin de la période probatoire"),
            _("Fin de votre période probatoire : le plafond de votre solde passe à 12 points "
              "(articles L223-1 et R223-1 du Code de la route)."), 0))
    return sorted(found, key=lambda e: (e.day, e.kind))


def ics(o: Overview, uid_of: Hasher, *, points_in_titles: bool,
        now: dt.datetime | None = None) -> bytes:
    """The forecast of this overview as an .ics file."""
    stamp = now or _now()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Mes points permis : prévisions"))
    calendar.add("x-wr-timezone", "Europe/Paris")
    # Subscribed calendars are fetched again daily: the forecast follows every import.
    calendar.add("refresh-interval", dt.timedelta(days=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "P1D")
    for entry in entries(o, points_in_titles=points_in_titles):
        event = Event()
        # Stable across downloads (a calendar updates the event instead of adding a copy)
        # and keyed, so that the file number cannot be read back from it.
        key = f"{o.record.numero_dossier}|{entry.kind}|{entry.day.isoformat()}"
        event.add("uid", f"{uid_of.digest('uid', key)[:32]}@{DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.day)
        event.add("dtend", entry.day + dt.timedelta(days=1))
        event.add("summary", entry.title)
        event.add("description", entry.description)
        event.add("categories", [_("Permis de conduire")])
        event.add("transp", "TRANSPARENT")
        event.add("class", "PRIVATE")
        calendar.add_component(event)
    return calendar.to_ical()


# -- private subscription addresses ------------------------------------------------------------


def subscription(session: Session, account_id: int) -> CalendarFeed | None:
    return session.scalar(select(CalendarFeed).where(
        CalendarFeed.account_id == account_id, CalendarFeed.revoked_at.is_(None)))


def subscribe(session: Session, hasher: Hasher, *, account_id: int, numero: str,
              points_in_titles: bool) -> str:
    """A new secret address; any previous one stops working. Returns the token (shown to
    the holder; only its keyed hash is kept)."""
    revoke(session, account_id)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(CalendarFeed(account_id=account_id, numero=numero,
                             token_hash=hasher.digest("calendrier", token),
                             points_in_titles=points_in_titles, created_at=_now()))
    session.flush()
    return token


def revoke(session: Session, account_id: int) -> bool:
    current = subscription(session, account_id)
    if current is None:
        return False
    current.revoked_at = _now()
    session.flush()
    return True


def feed_of(session: Session, hasher: Hasher, token: str) -> CalendarFeed | None:
    """The subscription of this token; one found under a previous secret key is re-hashed
    under the current one (flushed: the caller commits)."""
    if not 20 <= len(token) <= 100:
        return None
    digests = hasher.digests("calendrier", token)
    found = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash.in_(digests),
                                                      CalendarFeed.revoked_at.is_(None)))
    if found is not None and found.token_hash != digests[0]:
        found.token_hash = digests[0]
        session.flush()
    return found
