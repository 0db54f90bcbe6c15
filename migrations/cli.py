"""`flask migrations …` and `flask admin …`: thin wrappers over the services the admin API
calls, with a progress bar on long work. Every state-changing command is audit-logged."""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from migrations import spreadsheet
from migrations.accounts import services as accounts
from migrations.admin import audit, tokens
from migrations.export.reader import LINES_PER_CHUNK, ExportFormatError
from migrations.jobs import runner, services, worker
from migrations.jobs.models import RUNNING
from migrations.jobs.services import REPORT_HEADER, JobStatus
from migrations.lazy import cutover
from modern.db import database_unreachable, db
from modern.errors import DomainError
from modern.logs import mask_numero

migrations_cli = AppGroup("migrations", help="Migration of legacy Télépoints accounts.")
admin_cli = AppGroup("admin", help="Administration: tokens of the admin API.")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def _audit(action: str, target: str | None = None, **details: Any) -> None:
    audit.record(db.session(), actor=_actor(), action=action, target=target,
                 details=details or None)


def _fail(exc: Exception) -> click.ClickException:
    message = exc.message if isinstance(exc, DomainError) else str(exc)
    return click.ClickException(message)


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _summary(status: JobStatus) -> str:
    return (f"job {status.id} [{status.state}{' dry run' if status.dry_run else ''}] "
            f"{status.source_name}: read {status.read}/{status.lines}, "
            f"migrated {status.migrated}, duplicates {status.ignored_doublon}, "
            f"closed {status.ignored_clos}, already migrated {status.ignored_deja_migre}, "
            f"updated {status.updated}, rejected {status.rejected}")


def _run(job_id: int, workers: int, threads: int | None) -> JobStatus:
    """Runs the job with `workers` workers (one in this process, the others as processes)
    and shows its progress from the database: rows per second and time left."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if workers > 1 and not _is_postgres():
        click.echo("SQLite: one worker only (its writers take turns).", err=True)
        workers = 1
    settings = app.config["SETTINGS"]
    extra = runner.spawn_workers(workers - 1, job_id, settings.database_url, threads) \
        if workers > 1 else []
    outcome: dict[str, str] = {}

    def work() -> None:
        try:
            outcome["state"] = runner.work_here(app, job_id, "cli", threads=threads)
        except Exception as exc:  # not even the job's failure could be written (a full disk)
            outcome["error"] = worker.error_text(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    total = 2 * services.status(db.session(), job_id).lines
    show = sys.stderr.isatty()
    started, first_done = time.monotonic(), None
    with click.progressbar(length=max(total, 1), label=f"Travail {job_id}", file=sys.stderr,
                           hidden=not show, show_eta=True, show_percent=True,
                           item_show_func=lambda item: item) as bar:
        done = 0
        while thread.is_alive() or any(p.poll() is None for p in extra):
            thread.join(0.5)
            try:
                db.session.rollback()  # a fresh snapshot for each look
                status = services.status(db.session(), job_id)
            except SQLAlchemyError as exc:
                if not database_unreachable(exc):
                    raise
                continue  # the workers wait for the database too (a restart, a failover)
            now_done = status.staged + status.read
            first_done = first_done if first_done is not None else now_done
            rate = (now_done - first_done) / 2 / max(time.monotonic() - started, 1e-6)
            bar.update(now_done - done, f"{rate:,.0f} lignes/s".replace(",", " "))
            done = now_done
            if services.finished(status.state) and not thread.is_alive():
                break
    for process in extra:
        process.wait()
    db.session.rollback()
    status = services.status(db.session(), job_id)
    if "error" in outcome and not services.finished(status.state):
        return dataclasses.replace(status, error=(
            f"{outcome['error']}; the job could not be marked failed, "
            f"`migrations resume {job_id}` takes it up"))
    return status


def _write_report(job_id: int, target: IO[str]) -> int:
    writer = spreadsheet.Writer(target)
    writer.writerow(REPORT_HEADER)
    count = 0
    for line in services.report_lines(db.session(), job_id):
        writer.writerow((line.ligne, line.numero, line.resultat, line.motif))
        count += 1
    return count


@migrations_cli.command("run")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what a run would do; write nothing.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes on this host (PostgreSQL).")
@click.option("--threads", type=click.IntRange(1, 16),
              help="Connections of each worker (PostgreSQL; default MIGRATION_WORKER_THREADS).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write one line per input line: ligne;numero;resultat;motif.")
@click.option("--chunk-lines", default=LINES_PER_CHUNK, show_default=True,
              type=click.IntRange(1, 100_000), hidden=True)
@click.option("--no-start", is_flag=True, hidden=True,
              help="Create the job only (for worker processes started elsewhere).")
def run_command(path: Path, dry_run: bool, workers: int, threads: int | None,
                report_path: Path | None, chunk_lines: int, no_start: bool) -> None:
    """Migrate the accounts of a legacy export (Windows-1252, `;`, CRLF)."""
    try:
        with path.open("rb") as stream:
            job = services.create_job(db.session(), stream, source_name=path.name,
                                      created_by=_actor(), dry_run=dry_run,
                                      lines_per_chunk=chunk_lines)
        job_id = job.id
        if not no_start:
            services.start(db.session(), job_id)
        _audit("job.create", str(job_id), dry_run=dry_run, source=path.name,
               lines=job.line_count)
        db.session.commit()
    except ExportFormatError as exc:
        raise click.ClickException(f"{path.name}: {exc}") from exc
    except SQLAlchemyError as exc:  # a full disk, a database out of reach: one transaction
        db.session.rollback()
        raise click.ClickException(f"{path.name}: the database refused the job "
                                   f"({worker.error_text(exc)}); nothing was recorded") from exc
    click.echo(f"job {job_id}: {job.line_count} lines in {job.chunk_count} chunks", err=True)
    if no_start:
        click.echo(job_id)
        return
    status = _run(job_id, workers, threads)
    if report_path is not None:
        with report_path.open("w", encoding="utf-8", newline="") as handle:
            _write_report(job_id, handle)
    click.echo(_summary(status))
    if dry_run:  # a dry run leaves nothing behind but its report
        services.delete_job(db.session(), job_id)
        db.session.commit()
    if status.state != "succeeded":
        raise click.ClickException(f"job {job_id} ended {status.state}: {status.error or ''}")


@migrations_cli.command("resume")
@click.argument("job_id", type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", type=click.IntRange(1, 16))
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path))
def resume_command(job_id: int, workers: int, threads: int | None,
                   report_path: Path | None) -> None:
    """Resume a stopped, failed or interrupted job from its last checkpoint."""
    try:
        services.resume(db.session(), job_id)
    except DomainError as exc:
        raise _fail(exc) from exc
    _audit("job.resume", str(job_id))
    db.session.commit()
    status = _run(job_id, workers, threads)
    if report_path is not None:
        with report_path.open("w", encoding="utf-8", newline="") as handle:
            _write_report(job_id, handle)
    click.echo(_summary(status))


@migrations_cli.command("work")
@click.argument("job_id", type=int, required=False)
@click.option("--threads", type=click.IntRange(1, 16),
              help="Connections of this worker (PostgreSQL; default MIGRATION_WORKER_THREADS).")
@click.option("--once", is_flag=True,
              help="Without JOB_ID: stop when no job is left instead of waiting for the next.")
@click.option("--poll", default=2.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Seconds between two looks for a job to take up.")
@click.option("--quiet", is_flag=True)
def work_command(job_id: int | None, threads: int | None, once: bool, poll: float,
                 quiet: bool) -> None:
    """Be one more worker of a running job (JOB_ID), or, without it, a standing worker that
    takes up every running job, including those whose workers died, and waits for the next.
    Run any number of them, on this host or others that reach the database."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    name = f"process-{os.getpid()}"
    if job_id is not None:
        state = runner.work_here(app, job_id, name, threads=threads)
        if not quiet:
            click.echo(f"job {job_id}: {state}")
        return
    settings = app.config["SETTINGS"]
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # finish the current batch, then leave
        signal.signal(signum, lambda *_args: stopping.set())
    done = worker.work_all(
        db.engine, lambda: runner.dependencies(app), name=name,
        threads=threads or settings.migration_worker_threads, poll_seconds=poll, once=once,
        lease_seconds=settings.migration_lease_seconds, should_stop=stopping.is_set)
    if not quiet:
        click.echo(f"jobs worked on: {', '.join(map(str, done)) or 'none'}")


@migrations_cli.command("stop")
@click.argument("job_id", type=int)
def stop_command(job_id: int) -> None:
    """Ask a job's workers to stop after their current batch."""
    try:
        job = services.stop(db.session(), job_id)
    except DomainError as exc:
        raise _fail(exc) from exc
    _audit("job.stop", str(job_id))
    db.session.commit()
    click.echo(f"job {job_id}: {job.state}")


@migrations_cli.command("status")
@click.argument("job_id", type=int, required=False)
@click.option("--json", "as_json", is_flag=True)
def status_command(job_id: int | None, as_json: bool) -> None:
    """A job's state and counts (the last jobs without JOB_ID), and the cutover figures."""
    try:
        found = [services.status(db.session(), job_id)] if job_id else services.list_jobs(
            db.session(), 20)
    except DomainError as exc:
        raise _fail(exc) from exc
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in found], default=str, indent=2))
        return
    for item in found:
        click.echo(_summary(item))
        if item.error:
            click.echo(f"  error: {item.error}")
    if job_id is None:
        panel = cutover.panel(db.session(), current_app.config["SETTINGS"])
        click.echo(f"accounts migrated: {panel.migrated} (bulk {panel.migrated_bulk}, "
                   f"first use {panel.migrated_lazy}); lazy migration: {panel.mode}")


@migrations_cli.command("errors")
@click.argument("job_id", type=int)
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 10**9))
def errors_command(job_id: int, limit: int) -> None:
    """The lines of a job that were not migrated, with their reason."""
    try:
        lines = list(services.report_lines(db.session(), job_id, only_issues=True, limit=limit))
    except DomainError as exc:
        raise _fail(exc) from exc
    writer = spreadsheet.Writer(sys.stdout)
    writer.writerow(REPORT_HEADER)
    for line in lines:
        writer.writerow((line.ligne, line.numero, line.resultat, line.motif))


@migrations_cli.command("report")
@click.argument("job_id", type=int)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def report_command(job_id: int, path: Path) -> None:
    """Write a job's report: ligne;numero;resultat;motif for every line."""
    try:
        services.job_with_lines(db.session(), job_id)  # before the file is created
        with path.open("w", encoding="utf-8", newline="") as handle:
            count = _write_report(job_id, handle)
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"{count} lines written to {path}")


@migrations_cli.command("revert")
@click.argument("numero")
def revert_command(numero: str) -> None:
    """Undo the migration of one file: it goes back to the legacy side."""
    try:
        result = accounts.revert(db.session(), numero)
    except DomainError as exc:
        raise _fail(exc) from exc
    _audit("account.revert", mask_numero(result.numero), source=result.source,
           codes_removed=result.codes_removed)
    db.session.commit()
    contact = "removed" if result.contact_removed else "none"
    click.echo(f"{mask_numero(result.numero)}: migration reverted "
               f"({result.codes_removed} code(s), contact {contact})")


@migrations_cli.command("cutover")
@click.argument("mode", type=click.Choice(cutover.MODES), required=False)
def cutover_command(mode: str | None) -> None:
    """Show or set what happens to legacy requests for files not migrated yet:
    migration (check at the legacy backend, migrate), legacy (check there, migrate nothing),
    off (never call the legacy backend)."""
    if mode is not None:
        cutover.set_mode(db.session(), mode, _actor())
        _audit("cutover.set", mode)
        db.session.commit()
    panel = cutover.panel(db.session(), current_app.config["SETTINGS"])
    click.echo(json.dumps(panel.as_dict(), default=str, indent=2))


@admin_cli.command("create-token")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(tokens.SCOPES),
              help="Repeat for several; default: every scope.")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=90, show_default=True)
def create_token_command(name: str, scopes: tuple[str, ...], expires_days: int) -> None:
    """Create an admin API token; it is shown once, and only its digest is kept."""
    try:
        token, secret = tokens.create(db.session(), name, scopes or tokens.SCOPES,
                                      expires_in=dt.timedelta(days=expires_days))
    except DomainError as exc:
        raise _fail(exc) from exc
    _audit("token.create", name, scopes=token.scopes.split())
    db.session.commit()
    click.echo(secret)
    click.echo(f"token {name!r} ({token.scopes}), expires {token.expires_at:%Y-%m-%d}; "
               "keep it now, it cannot be shown again", err=True)


@admin_cli.command("list-tokens")
def list_tokens_command() -> None:
    for token in tokens.list_tokens(db.session()):
        state = "revoked" if token.revoked_at else "active"
        click.echo(f"{token.name}\t{state}\t{token.scopes}\texpires {token.expires_at}\t"
                   f"last used {token.last_used_at}")


@admin_cli.command("revoke-token")
@click.argument("name")
def revoke_token_command(name: str) -> None:
    try:
        tokens.revoke(db.session(), name)
    except DomainError as exc:
        raise _fail(exc) from exc
    _audit("token.revoke", name)
    db.session.commit()
    click.echo(f"token {name!r} revoked")


__all__ = ["RUNNING", "admin_cli", "migrations_cli"]
