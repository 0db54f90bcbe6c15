"""The client census (how Stripe and Twilio retire an API: know every caller, reach its
owner). Each legacy request, SOAP or old web form, is attributed to a client: its channel,
User-Agent, source network and SOAP version. The network is the address's /24 (IPv4) or /48
(IPv6), the address as the trusted proxies left it: a whole address is never stored.

Requests are counted in memory, per client, day and operation, and written every few
seconds by one thread of the process (one upsert per client and line, whatever the traffic):
the request path never waits for the database on its account.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from migrations import spreadsheet
from migrations.census.models import LegacyClient, LegacyClientDay
from migrations.written_later import WrittenEveryFewSeconds
from modern.i18n import N_
from telepoints_compat.legacy_traffic import LegacyRequest
from telepoints_compat.notice import PARIS

log = logging.getLogger("telepoints.census")

FLUSH_SECONDS = 5.0
# A client with no request for this long has stopped (it read the notice, or moved).
QUIET_DAYS = 7

# Where a client stands with the notice, dated by TELEPOINTS_DEPRECATION_DATE (the date the
# end was announced, that of the `Deprecation` header), from midnight in Paris: a client seen
# on or after that moment has received the notice; "stopped" is QUIET_DAYS without a request.
STILL_CALLING = "appelle_encore"  # received the notice, and still calls
STOPPED_SINCE_NOTICE = "arrete_depuis_avis"  # received the notice, quiet since
STOPPED_BEFORE_NOTICE = "arrete_avant_avis"  # quiet, last seen before the notice
NOT_NOTIFIED_YET = "actif_sans_avis"  # calls, but not since the notice began (or it has not)
STATUS_LABELS = {
    STILL_CALLING: N_("appelle encore depuis l'avis"),
    STOPPED_SINCE_NOTICE: N_("arrêté depuis l'avis"),
    STOPPED_BEFORE_NOTICE: N_("arrêté avant l'avis"),
    NOT_NOTIFIED_YET: N_("actif, n'a pas encore reçu l'avis"),
}
STOPPED = frozenset({STOPPED_SINCE_NOTICE, STOPPED_BEFORE_NOTICE})


def network_of(address: str) -> str:
    """The /24 of an IPv4 address, the /48 of an IPv6 one; never the address itself."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return "inconnu"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@dataclass(frozen=True)
class _Client:
    id: str
    channel: str
    user_agent: str
    network: str
    soap_version: str | None


def client_of(request: LegacyRequest) -> _Client:
    return _client(request.channel, request.user_agent, request.address, request.soap_version)


@functools.lru_cache(maxsize=4096)
def _client(channel: str, user_agent: str, address: str, soap_version: str | None) -> _Client:
    """Cached: the same clients call again and again, and this runs on every legacy
    request (the address's network and the digest cost more than the rest of the count)."""
    user_agent = " ".join(user_agent.split())[:200] or "(aucun)"
    network = network_of(address)
    key = "\x00".join((channel, user_agent, network, soap_version or ""))
    return _Client(hashlib.sha256(key.encode()).hexdigest()[:32], channel, user_agent,
                   network, soap_version)


class Census(WrittenEveryFewSeconds):
    what = "census"

    def __init__(self, engine: Callable[[], Engine],
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 flush_seconds: float = FLUSH_SECONDS) -> None:
        super().__init__(flush_seconds)
        self.engine, self.clock = engine, clock
        self._lock = threading.Lock()
        self._clients: dict[str, tuple[_Client, dt.datetime, dt.datetime]] = {}
        self._counts: dict[tuple[str, dt.date, str], list[int]] = {}

    def observe(self, request: LegacyRequest) -> None:
        client = client_of(request)
        now = self.clock()
        with self._lock:
            known = self._clients.get(client.id)
            self._clients[client.id] = (client, known[1] if known else now, now)
            counts = self._counts.setdefault((client.id, now.date(), request.operation[:40]),
                                             [0, 0])
            counts[0] += 1
            counts[1] += request.outcome != "OK"
            self._start_writing()

    def flush(self) -> None:
        """Writes what was counted since the last flush; on failure it is kept."""
        with self._lock:
            clients, counts = self._clients, self._counts
            self._clients, self._counts = {}, {}
        if not clients:
            return
        try:
            with self.engine().begin() as connection:
                postgres = connection.dialect.name == "postgresql"
                insert = postgresql.insert if postgres else sqlite.insert
                table = LegacyClient.__table__
                # In key order, as every process does: two processes writing the same
                # clients at once wait for each other in turn, never in a cycle (a deadlock).
                for client, first, last in sorted(clients.values(), key=lambda c: c[0].id):
                    statement = insert(table).values(
                        id=client.id, channel=client.channel, user_agent=client.user_agent,
                        network=client.network, soap_version=client.soap_version,
                        first_seen=first, last_seen=last)
                    latest = (func.greatest if postgres else func.max)(
                        table.c.last_seen, statement.excluded.last_seen)
                    connection.execute(statement.on_conflict_do_update(
                        index_elements=[table.c.id], set_={"last_seen": latest}))
                days = LegacyClientDay.__table__
                for (client_id, day, operation), (requests, failures) in sorted(
                        counts.items()):
                    statement = insert(days).values(client_id=client_id, day=day,
                                                    operation=operation, requests=requests,
                                                    failures=failures)
                    connection.execute(statement.on_conflict_do_update(
                        index_elements=[days.c.client_id, days.c.day, days.c.operation],
                        set_={"requests": days.c.requests + statement.excluded.requests,
                              "failures": days.c.failures + statement.excluded.failures}))
        except Exception:
            with self._lock:  # put back, merged with what came meanwhile
                for client_id, (client, first, last) in clients.items():
                    known = self._clients.get(client_id)
                    self._clients[client_id] = (client, first, known[2] if known else last)
                for line, (requests, failures) in counts.items():
                    current = self._counts.setdefault(line, [0, 0])
                    current[0] += requests
                    current[1] += failures
            raise


def notice_start(notice_date: dt.date) -> dt.datetime:
    """The moment the notice began: midnight in Paris on TELEPOINTS_DEPRECATION_DATE."""
    return dt.datetime.combine(notice_date, dt.time(0), PARIS)


def status_of(last_seen: dt.datetime, now: dt.datetime, notice_since: dt.datetime) -> str:
    """Where a client stands with the notice, from its last request. Before the notice's
    date nobody has received it, so nobody has "stopped since"."""
    quiet = last_seen < now - dt.timedelta(days=QUIET_DAYS)
    if last_seen >= notice_since:
        return STOPPED_SINCE_NOTICE if quiet else STILL_CALLING
    return STOPPED_BEFORE_NOTICE if quiet else NOT_NOTIFIED_YET


def clients(session: Session, *, notice_date: dt.date, days: int = 14,
            now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every client seen in the last `days` days, most recent first: first and last seen,
    requests per operation, failures, and where it stands with the notice dated
    `notice_date` (`status_of`; `stopped`: no request for QUIET_DAYS days)."""
    now = now or dt.datetime.now(dt.UTC)
    since = now.date() - dt.timedelta(days=days - 1)
    per_operation: dict[str, dict[str, int]] = {}
    failures: dict[str, int] = {}
    for client_id, operation, requests, failed in session.execute(
            select(LegacyClientDay.client_id, LegacyClientDay.operation,
                   func.sum(LegacyClientDay.requests), func.sum(LegacyClientDay.failures))
            .where(LegacyClientDay.day >= since)
            .group_by(LegacyClientDay.client_id, LegacyClientDay.operation)):
        per_operation.setdefault(client_id, {})[operation] = int(requests)
        failures[client_id] = failures.get(client_id, 0) + int(failed)
    notice_since = notice_start(notice_date)
    found = []
    for client in session.scalars(select(LegacyClient).where(
            LegacyClient.id.in_(list(per_operation))).order_by(LegacyClient.last_seen.desc())):
        last = _aware(client.last_seen)
        status = status_of(last, now, notice_since)
        found.append({
            "client": client.id[:12], "channel": client.channel,
            "user_agent": client.user_agent, "network": client.network,
            "soap_version": client.soap_version,
            "first_seen": _aware(client.first_seen).isoformat(), "last_seen": last.isoformat(),
            "requests": per_operation[client.id], "failures": failures[client.id],
            "status": status, "status_label": STATUS_LABELS[status],
            "stopped": status in STOPPED})
    return found


def write_csv(rows: list[dict[str, Any]], out: IO[str]) -> None:
    writer = spreadsheet.Writer(out, lineterminator="\r\n")
    writer.writerow(["client", "canal", "user_agent", "reseau", "version_soap", "vu_la_premiere",
                     "vu_la_derniere", "requetes", "echecs", "arrete", "etat"])
    for row in rows:
        writer.writerow([row["client"], row["channel"], row["user_agent"], row["network"],
                         row["soap_version"] or "", row["first_seen"], row["last_seen"],
                         " ".join(f"{op}={n}" for op, n in sorted(row["requests"].items())),
                         row["failures"], "oui" if row["stopped"] else "non",
                         row["status_label"]])


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
