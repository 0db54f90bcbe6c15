"""Migration job progress for `/metrics`, read from the database at each scrape: jobs run in
`migrations work` processes, often on other hosts, whose own counters no web host serves.
Labels stay bounded: the last few jobs only."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from migrations.jobs import services
from migrations.jobs.models import (
    IGNORE_CLOS,
    IGNORE_DEJA_MIGRE,
    IGNORE_DOUBLON,
    MIGRE,
    MIS_A_JOUR,
    REJETE,
)
from modern.db import db

LAST_JOBS = 5


def job_metrics() -> Iterator[Metric]:
    lines = GaugeMetricFamily("migration_job_lines", "Data lines of a migration job's export.",
                              labels=["job", "state", "dry_run"])
    staged = GaugeMetricFamily("migration_job_lines_staged", "Lines of a job read and staged.",
                               labels=["job"])
    done = GaugeMetricFamily("migration_job_lines_done",
                             "Lines of a job with their final outcome, by outcome.",
                             labels=["job", "outcome"])
    session = db.session()
    try:
        for job in services.list_jobs(session, LAST_JOBS):
            job_id = str(job.id)
            lines.add_metric([job_id, job.state, str(job.dry_run).lower()], job.lines)
            staged.add_metric([job_id], job.staged)
            for outcome, count in ((MIGRE, job.migrated), (IGNORE_DOUBLON, job.ignored_doublon),
                                   (IGNORE_CLOS, job.ignored_clos),
                                   (IGNORE_DEJA_MIGRE, job.ignored_deja_migre),
                                   (MIS_A_JOUR, job.updated),
                                   (REJETE, job.rejected)):
                done.add_metric([job_id, outcome], count)
    finally:
        session.rollback()
    yield from (lines, staged, done)
