"""A migration job's progress at /metrics, read from the database: the job may run in another
process or on another host than the web process that is scraped."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError

from migrations.jobs import metrics
from tests.migrations.conftest import expected_outcomes, load_registry_sample, sample


def scrape(app: Flask) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = app.test_client().get("/metrics").get_data(as_text=True)
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def test_a_finished_job_shows_its_lines_and_outcomes(app: Flask, runner: FlaskCliRunner) -> None:
    load_registry_sample(app)
    result = runner.invoke(args=["migrations", "run", str(sample("legacy-export.csv"))])
    assert result.exit_code == 0, result.output
    job = re.search(r"job (\d+):", result.output)
    assert job is not None, result.output
    job_id = job.group(1)

    figures = scrape(app)
    expected = Counter(outcome for _, _, outcome in expected_outcomes())
    assert figures[("migration_job_lines", (("dry_run", "false"), ("job", job_id),
                                            ("state", "succeeded")))] == 38
    assert figures[("migration_job_lines_staged", (("job", job_id),))] == 38
    for outcome in ("MIGRE", "IGNORE_DOUBLON", "IGNORE_CLOS", "IGNORE_DEJA_MIGRE", "REJETE"):
        key = ("migration_job_lines_done", (("job", job_id), ("outcome", outcome)))
        assert figures[key] == expected.get(outcome, 0), outcome
    assert figures[("metrics_collector_up", (("collector", "migration_jobs"),))] == 1


def test_the_process_figures_still_go_out_when_the_database_does_not_answer(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*_args: object) -> None:
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(metrics.services, "list_jobs", unreachable)
    app.test_client().get("/healthz")
    figures = scrape(app)
    assert figures[("metrics_collector_up", (("collector", "migration_jobs"),))] == 0
    assert any(name == "http_requests_total" for name, _ in figures)
