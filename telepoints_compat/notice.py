"""The migration notice: where the new service is and when Télépoints closes.

Every legacy response carries it: the `AvisMigration` SOAP header, and on every response under
/telepoints the HTTP `Deprecation` (RFC 9745) and `Sunset` (RFC 8594) headers, with a `Link` to
the new service. The closing date is the last day of service: from midnight (Paris time) after
it, every legacy operation answers SERVICE_CLOS.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Flask, Response, request
from flask_babel import gettext as _
from werkzeug.http import http_date

from modern.settings import Settings
from telepoints_compat.legacy_traffic import PlannedOutage

PARIS = ZoneInfo("Europe/Paris")
PREFIX = "/telepoints"


@dataclass
class Notice:
    message: str
    url: str
    last_day: dt.date
    deprecated_since: dt.date

    @functools.cached_property
    def closes_at(self) -> dt.datetime:
        return dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time(0), PARIS)

    @functools.cached_property
    def _closes_at_utc(self) -> dt.datetime:
        # Compared on every legacy request: in UTC, like the clock, so that the comparison
        # does not look up the Paris offset each time.
        return self.closes_at.astimezone(dt.UTC)

    def closed(self, now: dt.datetime) -> bool:
        return now >= self._closes_at_utc

    @functools.cached_property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """The HTTP headers of every response under /telepoints."""
        deprecated = dt.datetime.combine(self.deprecated_since, dt.time(0), PARIS)
        return (
            ("Deprecation", f"@{int(deprecated.timestamp())}"),
            ("Sunset", http_date(self.closes_at)),
            ("Link", f'<{self.url}>; rel="deprecation"; type="text/html"'),
        )


def outages_text(outages: Sequence[PlannedOutage]) -> str | None:
    """The planned outages (brownouts) as the notice announces them, in Paris time and the
    current language: the old web pages' reader's, French in the SOAP header."""
    if not outages:
        return None
    parts = []
    for outage in outages:
        start, end = outage.starts_at.astimezone(PARIS), outage.ends_at.astimezone(PARIS)
        day, begins = start.strftime("%d/%m/%Y"), start.strftime("%H:%M")
        ends = end.strftime("%H:%M" if end.date() == start.date() else "%d/%m/%Y %H:%M")
        if outage.share >= 1:
            parts.append(_("le %(jour)s de %(debut)s à %(fin)s", jour=day, debut=begins,
                           fin=ends))
        else:
            parts.append(_("le %(jour)s de %(debut)s à %(fin)s (une partie des requêtes, "
                           "%(part)s)", jour=day, debut=begins, fin=ends,
                           part=format(outage.share, ".0%")))
    return (_("Interruptions programmées de Télépoints avant sa fermeture, heure de Paris :")
            + " " + " ; ".join(parts) + ".")


def build_notice(settings: Settings) -> Notice:
    """The notice: the configured new-service address, or else this service's public home
    (never the request's Host header, which a client controls)."""
    return Notice(message=settings.migration_notice,
                  url=settings.new_service_url or settings.public_url.rstrip("/") + "/",
                  last_day=settings.telepoints_sunset_date,
                  deprecated_since=settings.telepoints_deprecation_date)


def init_app(app: Flask, notice: Notice) -> None:
    headers = notice.headers

    @app.after_request
    def _deprecation_headers(response: Response) -> Response:
        # Every response under /telepoints, errors included (not only the blueprints' own).
        if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
            response.headers.update(headers)
        return response
