"""The go/no-go to switch the legacy backend off: a thin reading of the figures the other
parts keep (the jobs, the lazy migration's traffic, the parallel run, the census, the
holders told), each line with its figure, its threshold and whether it passes.

- export lines pending or failed (jobs not finished, lines rejected by the last job);
- lazy migrations in the last 14 days: holders still arriving through the legacy backend;
- the parallel run's mismatch rate (red while nothing was compared);
- clients of the legacy interface seen in the last 14 days and not stopped;
- holders who used a legacy code recently (a lazy migration, a code of a migrated file used
  by a legacy client here, or a last sign-in in the export, within the period) with no
  modern account, not told yet (`notify-holders`).

Thresholds default to the values below; READINESS_THRESHOLDS overrides them by name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from migrations.accounts.models import SOURCE_LAZY, MigratedAccount
from migrations.census import services as census
from migrations.lazy import cutover
from migrations.lazy.models import LegacyTrafficDay
from migrations.parallel_run import services as parallel_run
from migrations.readiness.models import HolderNotice
from modern.accounts.models import Account
from modern.i18n import N_
from modern.settings import Settings

DAYS = 14
DEFAULTS: dict[str, float] = {
    "pending_lines": 0,
    "lazy_migrations": 0,
    "mismatch_rate": 0.001,
    "active_clients": 0,
    "holders_to_tell": 0,
}
# French in the API and the CLI; the admin page shows them translated (`%(days)s`: DAYS).
LABELS = {
    "pending_lines": N_("Lignes d'export en attente ou rejetées"),
    "lazy_migrations": N_("Migrations à la première utilisation (%(days)s derniers jours)"),
    "mismatch_rate": N_("Taux de différences de l'exécution parallèle"),
    "active_clients": N_("Clients de l'interface Télépoints actifs (%(days)s derniers jours)"),
    "holders_to_tell": N_("Titulaires ayant utilisé un code Télépoints récemment, sans "
                          "compte, non prévenus"),
}


def thresholds(settings: Settings) -> dict[str, float]:
    """The defaults with READINESS_THRESHOLDS over them; an unknown name is an error."""
    values = dict(DEFAULTS)
    for name, value in settings.readiness_thresholds:
        if name not in DEFAULTS:
            raise ValueError(f"READINESS_THRESHOLDS: unknown name {name!r} "
                             f"(known: {', '.join(DEFAULTS)})")
        values[name] = value
    return values


@dataclass(frozen=True)
class Line:
    name: str
    label: str
    figure: float | None  # None: nothing to judge on (no comparison yet)
    threshold: float
    ok: bool


@dataclass(frozen=True)
class Readiness:
    ready: bool
    lines: list[Line]

    def as_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "lines": [asdict(line) for line in self.lines]}


def holders_to_tell(now: dt.datetime, days: int = DAYS) -> Any:
    """The migration records of the holders to tell: a legacy code used within `days` days
    (a lazy migration then, a use by a legacy client here since, or the export's last
    sign-in), no modern account, not told."""
    since = now - dt.timedelta(days=days)
    return (select(MigratedAccount.numero)
            .where(or_(and_(MigratedAccount.source == SOURCE_LAZY,
                            MigratedAccount.migrated_at >= since),
                       MigratedAccount.legacy_used_on >= since.date(),
                       MigratedAccount.legacy_last_login >= since))
            .where(~select(Account.id).where(Account.numero == MigratedAccount.numero).exists())
            .where(~select(HolderNotice.numero).where(
                HolderNotice.numero == MigratedAccount.numero).exists()))


def readiness(session: Session, settings: Settings, *, now: dt.datetime | None = None
              ) -> Readiness:
    now = now or dt.datetime.now(dt.UTC)
    limits = thresholds(settings)
    panel = cutover.panel(session, settings, today=now.date())
    since = now.date() - dt.timedelta(days=DAYS - 1)
    lazy = session.scalar(select(func.coalesce(func.sum(LegacyTrafficDay.count), 0)).where(
        LegacyTrafficDay.day >= since, LegacyTrafficDay.result == "migre"))
    compared = parallel_run.report(session, days=DAYS, today=now.date(), mismatches=0)
    clients = [c for c in census.clients(session, days=DAYS, now=now,
                                         notice_date=settings.telepoints_deprecation_date)
               if not c["stopped"]]
    to_tell = session.scalar(select(func.count()).select_from(
        holders_to_tell(now).subquery()))
    figures: dict[str, float | None] = {
        "pending_lines": panel.pending + panel.failed,
        "lazy_migrations": int(lazy or 0),
        "mismatch_rate": compared["mismatch_rate"],
        "active_clients": len(clients),
        "holders_to_tell": int(to_tell or 0),
    }
    lines = [Line(name, LABELS[name] % {"days": DAYS}, figure, limits[name],
                  figure is not None and figure <= limits[name])
             for name, figure in figures.items()]
    return Readiness(all(line.ok for line in lines), lines)
