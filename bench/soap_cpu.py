"""CPU time per request of `ConsulterSolde` (valid credentials) and of `GET /healthz`, in process.

    .venv/bin/python bench/soap_cpu.py [--requests 3000] [--redis redis://127.0.0.1:6379/2]
    .venv/bin/python bench/soap_cpu.py --database postgresql+psycopg://root@127.0.0.1/bench_x

The application's own cost, without the HTTP server and the load generator: the same app as
`create_app()` builds (a temporary SQLite database, or the one given, with the registry sample
and one issued code; counters in the database or Redis; JSON logs formatted and written to
/dev/null), called through its WSGI entry point. Both endpoints are measured in alternating
batches and in CPU time (`time.process_time`), so that other jobs on a shared machine disturb
the ratio little; prints the medians of the batches. `bench/soap_wrk.py` measures the served
throughput.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from soap_request import ENVELOPE, NUMERO, SAMPLE, flask  # bench/ is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def caller(app: Any, path: str, method: str = "GET", body: bytes = b"",
           headers: dict[str, str] | None = None) -> Callable[[], str]:
    """One request through the WSGI entry point; returns the status line."""
    def call() -> str:
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True,
            "wsgi.run_once": False, "CONTENT_LENGTH": str(len(body)), **(headers or {})}
        status: list[str] = []
        b"".join(app(environ, lambda line, _headers, _exc=None: status.append(line)))
        return status[0]
    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="per endpoint")
    parser.add_argument("--batches", type=int, default=15)
    parser.add_argument("--redis", default="", help="REDIS_URL for the counters")
    parser.add_argument("--database", default="", help="DATABASE_URL (default: SQLite)")
    options = parser.parse_args()
    if not SAMPLE.exists():
        raise SystemExit(f"the registry sample is missing: {SAMPLE}")

    with tempfile.TemporaryDirectory(prefix="soap-cpu-") as folder:
        work = Path(folder)
        env = {**os.environ, "FLASK_APP": "wsgi", "INSTANCE_PATH": str(work / "instance"),
               "DATABASE_URL": options.database or f"sqlite:///{work / 'bench.db'}",
               "ENVIRONMENT": "test",
               "LOG_LEVEL": "INFO", "RATE_LIMIT_PER_MINUTE": "1000000"}
        env.pop("REDIS_URL", None)
        if options.redis:
            env.update(REDIS_URL=options.redis, REDIS_KEY_PREFIX=f"bench:{os.getpid()}:")
        flask(["db", "upgrade"], env)
        flask(["registry", "import", str(SAMPLE)], env)
        code = flask(["codes", "issue", NUMERO], env).split("confidential code ")[1].split()[0]
        os.environ.update(env)

        from wsgi import create_app

        app = create_app()
        # Logs stay on, formatted as in production, and written where nobody reads them.
        devnull = open(os.devnull, "w")  # noqa: SIM115 (open for the whole run)
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(devnull)
        health = caller(app, "/healthz")
        soap = caller(app, "/telepoints/ws", "POST",
                      ENVELOPE.format(numero=NUMERO, code=code).encode(),
                      {"CONTENT_TYPE": "text/xml; charset=utf-8",
                       "HTTP_SOAPACTION": '"urn:fr:interieur:telepoints:v1#ConsulterSolde"'})
        for name, call in (("healthz", health), ("SOAP", soap)):
            if not call().startswith("200"):
                raise SystemExit(f"{name} did not answer 200: the figures would be meaningless")
        for _ in range(200):
            health()
            soap()
        per_batch = max(options.requests // options.batches, 1)
        costs: dict[str, list[float]] = {"healthz": [], "SOAP": []}
        for _ in range(options.batches):
            for name, call in (("healthz", health), ("SOAP", soap)):
                started = time.process_time()
                for _ in range(per_batch):
                    call()
                costs[name].append((time.process_time() - started) / per_batch * 1000)
        devnull.close()

    ratios = [h / s for h, s in zip(costs["healthz"], costs["SOAP"], strict=True)]
    store = "Redis" if options.redis else "database"
    database = "PostgreSQL" if options.database.startswith("postgresql") else "SQLite"
    print(f"in process, {options.batches} alternating batches of {per_batch} requests, "
          f"{database}, counters in the {store}; CPU ms per request, medians:")
    print(f"GET /healthz            {statistics.median(costs['healthz']):6.3f} ms")
    print(f"SOAP ConsulterSolde     {statistics.median(costs['SOAP']):6.3f} ms")
    print(f"healthz / SOAP          {statistics.median(ratios):6.2f}   (the throughput ratio "
          "the application alone would allow)")


if __name__ == "__main__":
    main()
