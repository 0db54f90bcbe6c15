"""How long the client census is kept: a client is a User-Agent, a /24 or /48 network and a
SOAP version (never an address); its per-day counts and the client itself go once nothing
of it is younger than `RETENTION_LOG_DAYS`."""

from __future__ import annotations

from migrations.census.models import LegacyClient, LegacyClientDay
from modern.retention import Purge, Rule

clients = LegacyClient.__table__
days = LegacyClientDay.__table__


def old_days(purge: Purge) -> int:
    return purge.delete(days, days.c.day < purge.before(purge.settings.retention_log_days).date())


def old_clients(purge: Purge) -> int:
    return purge.delete(clients, clients.c.last_seen < purge.before(
        purge.settings.retention_log_days))


RULES = (Rule("legacy_client_day", old_days, period="RETENTION_LOG_DAYS"),
         Rule("legacy_client", old_clients, period="RETENTION_LOG_DAYS"))
