"""The cutover panel's figures and its switch.

The switch (`migration`, `legacy`, `off`) lives in the database, so every worker and host sees
the same one at once; changing it is an admin action. The figures tell when the legacy backend
can go: how many accounts are migrated (in bulk, on first use), how many export lines are
still pending or failed, and how many legacy requests still needed the legacy backend, day by
day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from migrations.accounts.models import SOURCE_BULK, SOURCE_LAZY, MigratedAccount
from migrations.jobs.models import (
    APPLIED,
    SUCCEEDED,
    MigrationChunk,
    MigrationJob,
)
from migrations.lazy.models import (
    MODE_LEGACY,
    MODE_MIGRATE,
    MODE_OFF,
    MODES,
    CutoverSetting,
    LegacyTrafficDay,
)
from modern.errors import DomainError
from modern.settings import Settings

__all__ = ["MODES", "MODE_LEGACY", "MODE_MIGRATE", "MODE_OFF", "Panel", "get_mode",
           "panel", "record_traffic", "set_mode"]


def get_mode(session: Session | Connection) -> str:
    mode = session.scalar(select(CutoverSetting.mode).where(CutoverSetting.id == 1))
    return mode or MODE_MIGRATE


def set_mode(session: Session, mode: str, actor: str) -> None:
    if mode not in MODES:
        raise DomainError(_("Mode inconnu : %(mode)s (attendu : %(modes)s).", mode=mode,
                             modes=", ".join(MODES)))
    setting = session.get(CutoverSetting, 1) or CutoverSetting(id=1)
    setting.mode = mode
    setting.updated_at = dt.datetime.now(dt.UTC)
    setting.updated_by = actor[:64]
    session.add(setting)
    session.flush()


def record_traffic(connection: Connection, result: str, day: dt.date) -> None:
    """One more legacy request of this kind today (an atomic upsert)."""
    table = LegacyTrafficDay.__table__
    insert = (postgresql.insert(table) if connection.dialect.name == "postgresql"
              else sqlite.insert(table))
    statement = insert.values(day=day, result=result, count=1)
    connection.execute(statement.on_conflict_do_update(
        index_elements=[table.c.day, table.c.result], set_={"count": table.c.count + 1}))


@dataclass(frozen=True)
class Panel:
    mode: str
    legacy_backend_configured: bool
    lazy_migration_active: bool
    migrated: int
    migrated_bulk: int
    migrated_lazy: int
    pending: int  # lines of unfinished jobs still to process
    failed: int  # lines rejected by the last completed job
    failed_jobs: int
    legacy_traffic: list[dict[str, Any]]  # [{"day", "result", "count"}], last days

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def panel(session: Session, settings: Settings, *, days: int = 14,
          today: dt.date | None = None) -> Panel:
    mode = get_mode(session)
    by_source: dict[str, int] = {source: int(number) for source, number in session.execute(
        select(MigratedAccount.source, func.count()).group_by(MigratedAccount.source))}
    real = MigrationJob.dry_run.is_(False)
    pending = session.scalar(
        select(func.coalesce(func.sum(MigrationChunk.line_count), 0))
        .join(MigrationJob, MigrationJob.id == MigrationChunk.job_id)
        .where(real, MigrationChunk.status != APPLIED, MigrationJob.purged_at.is_(None),
               MigrationJob.state.in_(("created", "running", "stopping", "stopped", "failed"))))
    last = session.scalar(select(MigrationJob.id).where(real, MigrationJob.state == SUCCEEDED)
                          .order_by(MigrationJob.id.desc()).limit(1))
    # From the chunks' counts, which outlive the lines themselves (purged after a while).
    failed = 0 if last is None else session.scalar(
        select(func.coalesce(func.sum(MigrationChunk.rejected), 0)).where(
            MigrationChunk.job_id == last))
    failed_jobs = session.scalar(select(func.count()).select_from(MigrationJob).where(
        real, MigrationJob.state == "failed"))
    since = (today or dt.datetime.now(dt.UTC).date()) - dt.timedelta(days=days - 1)
    traffic = [{"day": day.isoformat(), "result": result, "count": count}
               for day, result, count in session.execute(
                   select(LegacyTrafficDay.day, LegacyTrafficDay.result, LegacyTrafficDay.count)
                   .where(LegacyTrafficDay.day >= since)
                   .order_by(LegacyTrafficDay.day, LegacyTrafficDay.result))]
    configured = bool(settings.legacy_telepoints_url)
    return Panel(
        mode=mode, legacy_backend_configured=configured,
        lazy_migration_active=configured and mode == MODE_MIGRATE,
        migrated=sum(by_source.values()), migrated_bulk=by_source.get(SOURCE_BULK, 0),
        migrated_lazy=by_source.get(SOURCE_LAZY, 0), pending=int(pending or 0),
        failed=int(failed or 0), failed_jobs=int(failed_jobs or 0), legacy_traffic=traffic)
