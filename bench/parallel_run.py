"""The parallel run's cost to the answers: p50 and p99 of `ConsulterSolde` answered here,
with the parallel run off, on for every request (`PARALLEL_RUN_SHARE=1`), and on with a
legacy backend that does not answer and a queue of one (every comparison dropped), in the
same run and alternating batches.

    .venv/bin/python bench/parallel_run.py [--requests 3000] [--batch 250]

In process (the application called through its WSGI entry point, as `bench/soap_cpu.py`),
SQLite in a temporary folder, the contract's sample export migrated, the local legacy backend
served on loopback by werkzeug; the comparisons run in the parallel run's own threads.
Prints each mode's p50 and p99 and their ratios to the run without it.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLES = ROOT.parent / "shared" / "contracts" / "samples"
TNS = "urn:fr:interieur:telepoints:v1"


def envelope(numero: str, code: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope '
            f'xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tp="{TNS}"><s:Body>'
            f"<tp:ConsulterSolde><tp:numeroDossier>{numero}</tp:numeroDossier>"
            f"<tp:codeConfidentiel>{code}</tp:codeConfidentiel></tp:ConsulterSolde>"
            "</s:Body></s:Envelope>").encode()


def call(app: Any, body: bytes) -> float:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/telepoints/ws", "QUERY_STRING": "",
               "SERVER_NAME": "localhost", "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1",
               "CONTENT_TYPE": "text/xml; charset=utf-8", "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
               "HTTP_USER_AGENT": "bench"}
    started = time.perf_counter()
    status: list[str] = []
    b"".join(app(environ, lambda s, _h, _e=None: status.append(s)))
    elapsed = time.perf_counter() - started
    if not status[0].startswith("200"):
        raise SystemExit(f"unexpected answer {status[0]}")
    return elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=250)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="parallel-run-bench-"))
    os.environ["INSTANCE_PATH"] = str(folder / "instance")

    from werkzeug.serving import make_server

    from migrations.legacy_backend.app import create_legacy_app
    from migrations.legacy_backend.store import engine_for, load_export, load_registry
    from migrations.parallel_run.services import ParallelRun
    from modern.db import db
    from modern.schema import upgrade
    from modern.settings import Settings
    from wsgi import create_app

    legacy_db = str(folder / "legacy.db")
    engine = engine_for(legacy_db)
    with (SAMPLES / "legacy-export.csv").open("rb") as stream:
        load_export(engine, stream)
    with (SAMPLES / "registry-extract.jsonl").open("rb") as stream:
        load_registry(engine, stream)
    server = make_server("127.0.0.1", 0, create_legacy_app(legacy_db), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/telepoints/ws"

    database = f"sqlite:///{folder / 'service.db'}"
    from sqlalchemy import create_engine
    upgrade(create_engine(database))
    app = create_app(Settings(environment="test", database_url=database, secret_key="k" * 40,
                              legacy_telepoints_url=url, parallel_run_share=1.0,
                              rate_limit_per_minute=10**9))
    runner = app.test_cli_runner()
    with app.app_context():
        from modern.licences.importer import import_extract
        with (SAMPLES / "registry-extract.jsonl").open("rb") as stream:
            import_extract(db.session(), stream, lambda _n, _r: None)
    result = runner.invoke(args=["migrations", "run", str(SAMPLES / "legacy-export.csv")])
    assert result.exit_code == 0, result.output
    codes = [line.split(";") for line in
             (SAMPLES / "codes.csv").read_text(encoding="utf-8").splitlines()[1:]]
    bodies = [envelope(numero, code) for numero, code, locked in codes if not locked]

    traffic = app.extensions["legacy_traffic"]
    on: ParallelRun = traffic.parallel_run

    class Stuck:
        def consult(self, _operation: str, _numero: str, _code: str) -> bytes:
            time.sleep(3600)
            return b""

    full = ParallelRun(Stuck(), on.engine, 1.0, queue_size=1, threads=1)
    modes: dict[str, ParallelRun | None] = {"off": None, "on (share 1)": on,
                                            "on, queue full": full}
    timings: dict[str, list[float]] = {name: [] for name in modes}
    for _ in range(20):  # warm-up
        call(app, bodies[0])
    done = 0
    while done < args.requests:
        for name, run in modes.items():
            traffic.parallel_run = run
            for index in range(args.batch):
                timings[name].append(call(app, bodies[(done + index) % len(bodies)]))
        done += args.batch
    on.drain()
    base50, base99 = percentile(timings["off"], 0.5), percentile(timings["off"], 0.99)
    for name, values in timings.items():
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"{name:16} p50 {p50 * 1000:6.2f} ms  p99 {p99 * 1000:6.2f} ms  "
              f"(p50 x{p50 / base50:.2f}, p99 x{p99 / base99:.2f} of off)")
    with app.app_context():
        from migrations.parallel_run.services import report
        figures = report(db.session())
    print(f"share 1: compared {figures['compared']}, different {figures['mismatches']}, "
          f"legacy backend unavailable {figures['unavailable']}, dropped (queue of 1,000 "
          f"full) {figures['dropped']}; queue of one, stuck backend: dropped "
          f"{sum(full._dropped.values())}")
    server.shutdown()


if __name__ == "__main__":
    main()
