"""The load test from set-up to verdict (started by __main__.py, after gevent's patching)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import resource
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import dataset
import gevent
import redis
import report
import server
import traffic
from bulk_job import BulkMigration
from dataset import OUT, Installation
from locust.env import Environment
from locust.stats import RequestStats

WORK = OUT / "load"
SIZES = {"codes": 2000, "wrong": 200, "accounts": 100, "documents": 200}


# -- options -----------------------------------------------------------------------------------


def seconds(text: str) -> int:
    """`600`, `600s` or `10m`."""
    found = re.fullmatch(r"(\d+)([sm]?)", text.strip())
    if not found:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (600, 600s or 10m)")
    return int(found.group(1)) * (60 if found.group(2) == "m" else 1)


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of at least 1: {text!r}")
    return int(text)


def options(argv: list[str] | None = None) -> argparse.Namespace:
    doc = sys.modules["__main__"].__doc__ or ""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0], prog="bench/load")
    parser.add_argument("--duration", type=seconds, default=600,
                        help="measured time (default 10m; 600, 600s or 10m)")
    parser.add_argument("--warmup", type=seconds, default=30,
                        help="traffic before the measured time, not counted (default 30s)")
    parser.add_argument("--users", type=positive, default=80, help="simulated clients (default 80)")
    parser.add_argument("--workers", type=positive, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--licences", type=positive, default=50_000,
                        help="licences in the registry extract (default 50000)")
    parser.add_argument("--export-lines", type=positive, default=1_000_000,
                        help="lines of the legacy export migrated during the load")
    parser.add_argument("--sample-every", type=seconds, default=10,
                        help="seconds between two memory samples (default 10)")
    parser.add_argument("--max-growth", type=float, default=5.0,
                        help="allowed growth of the server's memory, first minute to last, "
                             "in percent (default 5)")
    parser.add_argument("--recycle-duration", type=seconds, default=180,
                        help="measured time of the recycling phase, after the memory phase "
                             "(default 3m; 0: none)")
    parser.add_argument("--max-requests", type=positive, default=1000,
                        help="GUNICORN_MAX_REQUESTS of the recycling phase: small, so that "
                             "every worker recycles in it (default 1000; production 20000)")
    parser.add_argument("--max-gap", type=float, default=2.0,
                        help="longest time without any answer allowed in the recycling "
                             "phase, in seconds (default 2)")
    parser.add_argument("--database", default="bench_load",
                        help="PostgreSQL database created and dropped by the test")
    parser.add_argument("--pg-admin-url", default="postgresql://root@127.0.0.1:5432/postgres",
                        help="libpq URL of a database to create and drop it from")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6",
                        help="Redis database (keys under a prefix of this run)")
    parsed = parser.parse_args(argv)
    if parsed.duration < 30 or parsed.sample_every < 1:
        parser.error("--duration must be at least 30 s and --sample-every at least 1 s")
    if 0 < parsed.recycle_duration < 30:
        parser.error("--recycle-duration must be 0 (no recycling phase) or at least 30 s")
    return parsed


# -- set-up ------------------------------------------------------------------------------------


def step(label: str, started: float) -> None:
    print(f"  {label} ({time.monotonic() - started:.0f} s)", flush=True)


def check_tools(place: Installation) -> None:
    if shutil.which("psql") is None:
        raise SystemExit("psql is missing: apt-get install -y postgresql-client")
    try:
        redis.Redis.from_url(place.redis_url).ping()
    except redis.RedisError as error:
        raise SystemExit(f"Redis does not answer at {place.redis_url}: {error}") from error


def set_up(place: Installation, opts: argparse.Namespace,
           port: int) -> tuple[dict[str, str], Path]:
    """A fresh database at the current schema with the registry, codes, accounts and
    documents; the legacy export ready. Returns the service's environment and the export."""
    started = time.monotonic()
    print("set-up:", flush=True)
    extract = dataset.registry_extract(opts.licences, dt.date.today())
    step(f"registry extract of {opts.licences} licences ({extract.name})", started)
    from measure import legacy_export  # bench/, on the path since `dataset`

    export = legacy_export(opts.export_lines)
    step(f"legacy export of {opts.export_lines} lines ({export.name})", started)
    dataset.create_database(place)
    env = place.environment(port)
    dataset.flask(["db", "upgrade"], env)
    step(f"database {place.database} created, schema upgraded", started)
    summary = dataset.flask(["registry", "import", str(extract)], env).strip().splitlines()[0]
    step(f"registry import: {summary}", started)
    data = dataset.prepare(place, env, extract, SIZES)
    token = dataset.admin_token(env)
    traffic.configure(data, token)
    step(f"{len(data['valid'])} files with a code, {len(data['wrong'])} files for wrong codes, "
         f"{len(data['accounts'])} confirmed accounts, {len(data['documents'])} sealed "
         "documents, an admin token (migrations:read)", started)
    return env, export


# -- the load ----------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float = 0.0
    stats: RequestStats | None = None
    tally: traffic.Tally = field(default_factory=traffic.Tally)
    gap: report.Gap | None = None  # the longest time without any answer
    samples: list[server.Sample] = field(default_factory=list)
    migration: BulkMigration | None = None
    users: dict[str, int] = field(default_factory=dict)
    task_errors: int = 0
    load_average: tuple[float, float] = (0.0, 0.0)
    generator_cpu: float = 0.0  # CPU seconds of this process (the Locust users)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Answers:
    """The moments (time.monotonic()) at which the server answered, whatever the answer,
    and those of the requests that got no answer, with their route and error."""

    answered: list[float] = field(default_factory=list)
    unanswered: list[tuple[float, str, str]] = field(default_factory=list)


def answers(environment: Environment) -> Answers:
    seen = Answers()

    def answered(response: Any = None, name: str = "", exception: Any = None,
                 **_: Any) -> None:
        if getattr(response, "status_code", None):  # 0: no answer (connection error)
            seen.answered.append(time.monotonic())
        else:
            seen.unanswered.append((time.monotonic(), name, repr(exception)[:200]))
    environment.events.request.add_listener(answered)
    return seen


def drive(base: str, master: int, export: Path, env: dict[str, str],
          opts: argparse.Namespace) -> Run:
    """The memory phase (no worker recycled): warm-up, then the measured time with the
    migration and the memory samples."""
    environment = Environment(user_classes=traffic.USERS, host=base)
    answered = answers(environment)
    runner = environment.create_local_runner()
    runner.start(opts.users, spawn_rate=max(1, opts.users // 5))
    print(f"load: {opts.users} users, warm-up {opts.warmup} s, then {opts.duration} s "
          "measured", flush=True)
    gevent.sleep(opts.warmup)
    environment.stats.reset_all()
    traffic.TALLY.reset()
    began = time.monotonic()
    result = Run(users=dict(runner.user_classes_count), load_average=(os.getloadavg()[0], 0))
    cpu_before = _own_cpu()
    result.migration = BulkMigration(export, env, WORK, began)
    watcher = gevent.spawn(result.migration.keep_running, opts.duration)
    for tick in [*range(0, opts.duration, opts.sample_every), opts.duration]:
        gevent.sleep(max(0.0, began + tick - time.monotonic()))
        result.samples.append(server.sample(master, began))
    runner.stop()
    watcher.join()
    result.seconds = time.monotonic() - began
    result.load_average = (result.load_average[0], os.getloadavg()[0])
    result.generator_cpu = _own_cpu() - cpu_before
    result.stats = environment.stats
    result.tally = traffic.TALLY
    result.gap = report.longest_gap(answered.answered, began, began + result.seconds)
    result.task_errors = sum(error["count"] for error in runner.exceptions.values())
    result.migration.finish()
    runner.quit()
    return result


@dataclass
class Recycling:
    """The recycling phase: the same load on a new server whose workers are recycled after
    `--max-requests` requests, one at a time (gunicorn.conf.py's policy)."""

    seconds: float = 0.0
    stats: RequestStats | None = None
    tally: traffic.Tally = field(default_factory=traffic.Tally)
    answers: int = 0
    unanswered: list[tuple[float, str, str]] = field(default_factory=list)  # t, route, error
    gap: report.Gap | None = None
    workers: server.Workers | None = None
    migration: BulkMigration | None = None
    task_errors: int = 0


def drive_recycling(base: str, master: int, export: Path, env: dict[str, str],
                    opts: argparse.Namespace) -> Recycling:
    """Measured from the moment every user has started (the new workers' first requests
    count towards their limits, and a warm-up could spend the first recycle)."""
    traffic.TALLY = traffic.Tally()
    environment = Environment(user_classes=traffic.USERS, host=base)
    answered = answers(environment)
    runner = environment.create_local_runner()
    runner.start(opts.users, spawn_rate=max(1, opts.users // 5))
    print(f"recycling phase: {opts.users} users, {opts.recycle_duration} s measured once "
          f"they have all started, workers recycled every {opts.max_requests} requests",
          flush=True)
    while runner.user_count < opts.users:
        gevent.sleep(0.1)
    environment.stats.reset_all()
    traffic.TALLY.reset()
    began = time.monotonic()
    workers = server.Workers(master, began)
    result = Recycling(workers=workers)
    sampler = gevent.spawn(workers.watch)
    result.migration = BulkMigration(export, env, WORK, began, name="recycling-migration")
    watcher = gevent.spawn(result.migration.keep_running, opts.recycle_duration)
    gevent.sleep(opts.recycle_duration)
    runner.stop()
    ended = time.monotonic()
    workers.stop()
    sampler.join()
    watcher.join()
    result.seconds = ended - began
    result.stats = environment.stats
    result.tally = traffic.TALLY
    result.answers = sum(began <= moment <= ended for moment in answered.answered)
    result.unanswered = [(at - began, route, error) for at, route, error
                         in answered.unanswered if began <= at <= ended]
    result.gap = report.longest_gap(answered.answered, began, ended)
    result.task_errors = sum(error["count"] for error in runner.exceptions.values())
    result.migration.finish()
    runner.quit()
    return result


# -- the report --------------------------------------------------------------------------------


def server_log_errors(log: Path) -> list[str]:
    """Lines the service logged at ERROR or above (its JSON logs and gunicorn's own)."""
    marks = ('"level":"ERROR"', '"level":"CRITICAL"', "[ERROR]", "[CRITICAL]")
    with log.open(errors="replace") as lines:
        return [line.strip() for line in lines if any(mark in line for mark in marks)]


def print_report(run: Run, opts: argparse.Namespace, log_errors: list[str]) -> list[str]:
    """Prints every figure; returns the reasons for failing (none: the run passed)."""
    failures = _traffic_report(run, opts)
    print(f"server log: {len(log_errors)} lines at ERROR or above (bench/out/load/server.log)")
    for line in log_errors[:5]:
        print(f"  {line[:400]}")
    if log_errors:
        failures.append(f"the service logged {len(log_errors)} errors")
    failures += _migration_report(run, opts)
    failures += _memory_report(run, opts)
    return failures


def _traffic_report(run: Run, opts: argparse.Namespace) -> list[str]:
    assert run.stats is not None and run.gap is not None
    tally = run.tally
    print()
    print(f"measured: {run.seconds:.0f} s after a {opts.warmup} s warm-up; users "
          + ", ".join(f"{name} {count}" for name, count in run.users.items()))
    print("\n".join(report.routes(run.stats, run.seconds)))
    print("\noutcomes by route (expected refusals are not errors):")
    print("\n".join(report.outcomes(tally)))
    errors, server_errors = report.error_counts(tally)
    total = run.stats.total.num_requests
    counted = report.totals(tally)
    print(f"\nthroughput: {total / run.seconds:.1f} requests/s ({total} requests); longest "
          f"time without any answer {run.gap.seconds:.2f} s (at t={run.gap.at:.0f} s)")
    print(f"errors: {errors} ({100 * errors / max(total, 1):.3f} %): server errors "
          f"{counted[traffic.SERVER_ERROR]}, unexpected answers {counted[traffic.UNEXPECTED]}, "
          f"no answer {counted[traffic.NO_ANSWER]}; exceptions in the clients {run.task_errors}")
    raw_5xx = sum(tally.http_5xx.values())
    print(f"HTTP 5xx: {raw_5xx} answers = {server_errors} server errors + "
          f"{tally.soap11_client_faults_500} SOAP 1.1 faults with a client-side code "
          "(wrong code, locked file: HTTP 500 is the contract's answer, WS-I BP R1126)")
    print("expected refusals: " + ", ".join(
        f"{name} {counted[name]}" for name in (traffic.WRONG_CODE, traffic.LOCKED,
                                               traffic.SIGN_IN_REFUSED, traffic.SEAL_REFUSED,
                                               traffic.RATE_LIMITED)))
    for line in tally.samples[:10]:
        print(f"  error sample: {line}")
    report.write_csv(WORK, run.stats, tally, run.samples, run.seconds)
    print("figures as CSV: bench/out/load/routes.csv, outcomes.csv, memory.csv")
    failures = []
    if server_errors:
        failures.append(f"{server_errors} server errors (HTTP 5xx)")
    if errors - server_errors:
        failures.append(f"{errors - server_errors} unexpected answers or requests unanswered")
    return failures


def _migration_report(run: Run, opts: argparse.Namespace) -> list[str]:
    assert run.migration is not None
    print(f"\nbulk migration, `flask --app wsgi migrations run` of a {opts.export_lines}-line "
          "export, run again whenever it ends (logs in bench/out/load/):")
    for job in run.migration.jobs:
        print(f"  {job.describe()}")
    return run.migration.failures()


def _memory_report(run: Run, opts: argparse.Namespace) -> list[str]:
    print(f"\nserver memory, every {opts.sample_every} s (gunicorn master and workers):")
    print("\n".join(report.memory_table(run.samples)))
    grown = report.growth(run.samples, run.seconds)
    print(f"growth of the floor (lowest sample), first {grown.window:.0f} s to last "
          f"{grown.window:.0f} s: {grown.first:.1f} -> {grown.last:.1f} MiB, "
          f"{grown.mib:+.1f} MiB ({grown.percent:+.1f} %; allowed {opts.max_growth:.0f} %); "
          f"peaks {grown.first_peak:.1f} and {grown.last_peak:.1f} MiB (an Argon2 hash in "
          "progress holds 46 MiB)")
    print(f"server CPU (master and workers): {report.cpu_percent(run.samples):.0f} % of one "
          f"core; load average {run.load_average[0]:.1f} at the start, "
          f"{run.load_average[1]:.1f} at the end, on {os.cpu_count()} CPUs (shared machine); "
          f"load generator {100 * run.generator_cpu / run.seconds:.0f} % of one core")
    failures = []
    if grown.percent > opts.max_growth:
        failures.append(f"server memory grew {grown.percent:.1f} % (allowed "
                        f"{opts.max_growth:.0f} %)")
    replaced = report.restarted_workers(run.samples)
    if replaced:
        failures.append(f"{len(replaced)} workers were replaced during the run (killed or "
                        "timed out: see the server log)")
    return failures


def print_recycling(phase: Recycling, opts: argparse.Namespace, memory_gap: report.Gap
                    ) -> list[str]:
    """The recycling phase's figures; returns the reasons for failing."""
    assert phase.stats is not None and phase.gap is not None and phase.workers is not None
    assert phase.migration is not None
    print(f"\nrecycling phase: {phase.seconds:.0f} s measured, gunicorn.conf.py's policy "
          f"(limits spaced, one worker restarting at a time) with --max-requests "
          f"{opts.max_requests}:")
    events = [(life.left, f"worker {life.pid} left; RSS before: {life.last_mib:.1f} MiB "
                          f"(its peak {life.peak_mib:.1f} MiB)")
              for life in phase.workers.recycled if life.left is not None]
    events += [(life.came, f"worker {life.pid} started") for life in
               phase.workers.lives.values() if life.came is not None]
    for at, what in sorted(events):
        print(f"  t={at:>6.1f} s  {what}")
    recycled = phase.workers.recycled
    every = phase.workers.first_all_recycled()
    print(f"recycles: {len(recycled)}; every worker of the start recycled: "
          f"{'yes' if every else 'no'}; RSS before a recycle at most "
          f"{max((life.last_mib for life in recycled), default=0.0):.1f} MiB")
    print("\n".join(report.routes(phase.stats, phase.seconds)))
    errors, server_errors = report.error_counts(phase.tally)
    counted = report.totals(phase.tally)
    total = phase.stats.total.num_requests
    print(f"answers: {phase.answers} ({phase.answers / phase.seconds:.1f}/s) of {total} "
          f"requests; failed requests: {errors} (server errors {counted[traffic.SERVER_ERROR]}, "
          f"unexpected answers {counted[traffic.UNEXPECTED]}, no answer "
          f"{counted[traffic.NO_ANSWER]}); exceptions in the clients {phase.task_errors}")
    for line in phase.tally.samples[:10]:
        print(f"  error sample: {line}")
    for at, route, error in phase.unanswered[:10]:
        nearest = min((change for change, _what in events), key=lambda t: abs(t - at),
                      default=None)
        print(f"  no answer at t={at:.1f} s" + ("" if nearest is None else
                                                f" (the nearest worker change at t="
                                                f"{nearest:.1f} s)") + f": {route}, {error}")
    gap = phase.gap
    nearest = min((at for at, _what in events), key=lambda at: abs(at - gap.at), default=None)
    print(f"longest time without any answer: {phase.gap.seconds:.2f} s (at t="
          f"{phase.gap.at:.1f} s" + ("" if nearest is None else
                                     f", the nearest worker change at t={nearest:.1f} s")
          + f"; allowed {opts.max_gap:g} s); in the memory phase, without recycling: "
          f"{memory_gap.seconds:.2f} s")
    for job in phase.migration.jobs:
        print(f"  {job.describe()}")
    failures = phase.migration.failures()
    if errors:
        failures.append(f"{errors} failed requests while workers were recycled "
                        f"({server_errors} server errors)")
    if not every:
        failures.append("a worker of the start was never recycled: lengthen "
                        "--recycle-duration or lower --max-requests")
    if phase.gap.seconds > opts.max_gap:
        failures.append(f"no answer for {phase.gap.seconds:.2f} s while workers were "
                        f"recycled (allowed {opts.max_gap:g} s)")
    return failures


# -- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    opts = options(argv)
    place = Installation(opts.database, opts.pg_admin_url, opts.redis,
                         f"bench-load:{os.getpid()}:", WORK)
    check_tools(place)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    port = server.free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"gunicorn {opts.workers} workers (gunicorn.conf.py: {_threads()} threads each; "
          f"memory phase: periodic restarts off; recycling phase: every {opts.max_requests} "
          f"requests) on {base}; PostgreSQL database {place.database}, Redis "
          f"{place.redis_url} under {place.redis_prefix}")
    print("settings for this test only: ENVIRONMENT=test, MIGRATION_WEB_WORKER=off, "
          + ", ".join(f"{key}={value}" for key, value in dataset.RATE_LIMITS.items())
          + " (every client is 127.0.0.1; the counters still count)", flush=True)
    log: IO[bytes] | None = None
    process = None
    recycling: Recycling | None = None
    try:
        env, export = set_up(place, opts, port)
        log = (WORK / "server.log").open("wb")
        process = server.start(port, opts.workers, env, log)
        server.wait_until_ready(base, process, opts.workers)
        run = drive(base, process.pid, export, env, opts)
        server.stop(process)
        process = None
        if opts.recycle_duration:
            process = server.start(port, opts.workers, env, log, opts.max_requests)
            server.wait_until_ready(base, process, opts.workers)
            recycling = drive_recycling(base, process.pid, export, env, opts)
    finally:
        if process is not None:
            server.stop(process)
        if log is not None:
            log.close()
        dataset.drop_database(place)
        dataset.forget_redis_keys(place)
    failures = print_report(run, opts, server_log_errors(WORK / "server.log"))
    if recycling is not None:
        assert run.gap is not None
        failures += print_recycling(recycling, opts, run.gap)
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        sys.exit(1)
    print(f"\nPASSED: no 5xx, no unexpected answer, memory within {opts.max_growth:.0f} %"
          + ("" if recycling is None else
             f"; workers recycled {len(recycling.workers.recycled) if recycling.workers else 0}"
             f" times without a failed request or a silence over {opts.max_gap:g} s"))


def _threads() -> str:
    return os.environ.get("GUNICORN_THREADS", "2")
