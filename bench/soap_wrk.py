"""SOAP throughput: `ConsulterSolde` with valid credentials against `GET /healthz`, same run.

    .venv/bin/python bench/soap_wrk.py                      # SQLite, counters in the database
    .venv/bin/python bench/soap_wrk.py --redis redis://127.0.0.1:6379/2
    .venv/bin/python bench/soap_wrk.py --database postgresql+psycopg://root@127.0.0.1/bench_x

Starts gunicorn (2 workers) on a loopback port against a temporary database holding the
registry sample and one issued code, then runs wrk (Debian package) against both endpoints in
turn, `--rounds` times each, 16 connections. Every SOAP answer is checked to be a 200 (a
refused or failed call would flatter the figures). Prints requests/s, the 99th percentile and
the workers' CPU time per request of each round, and the medians over the rounds (the machine
may be shared: a median is steadier than a mean or a maximum; CPU per request, steadier than
throughput). Targets: ratio at least 0.6, SOAP p99 under 25 ms.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from soap_request import ENVELOPE, NUMERO, SAMPLE, flask  # bench/ is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
LUA = """wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.headers["SOAPAction"] = '"urn:fr:interieur:telepoints:v1#ConsulterSolde"'
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    """Both workers answer (the port opens before the workers have loaded the app)."""
    answered = 0
    deadline = time.monotonic() + 120
    while answered < 20:
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("gunicorn did not start")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                answered += response.status == 200
        except OSError:
            time.sleep(0.2)


def workers_cpu(master: int) -> float:
    """CPU seconds (user and system) used so far by the gunicorn workers of `master` (Linux:
    /proc), or NaN where it cannot be read."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        total = 0
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    except (OSError, ValueError, IndexError):
        return math.nan
    return total / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int, connections: int, script: Path | None,
        master: int) -> tuple[float, float, int, float]:
    """(requests/s, p99 in ms, count of non-2xx answers, workers' CPU µs per request)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    before = workers_cpu(master)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    used = workers_cpu(master) - before
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    count = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return rate, p99, int(errors.group(1)) if errors else 0, used / max(count, 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--redis", default="", help="REDIS_URL for the counters")
    parser.add_argument("--database", default="", help="DATABASE_URL (default: SQLite)")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    if not SAMPLE.exists():
        raise SystemExit(f"the registry sample is missing: {SAMPLE}")

    with tempfile.TemporaryDirectory(prefix="soap-bench-") as folder:
        work = Path(folder)
        env = {**os.environ, "FLASK_APP": "wsgi", "INSTANCE_PATH": str(work / "instance"),
               "DATABASE_URL": options.database or f"sqlite:///{work / 'bench.db'}",
               "ENVIRONMENT": "test", "LOG_LEVEL": "INFO",
               # The rate limit counts every request as usual, with a ceiling wrk cannot reach.
               "RATE_LIMIT_PER_MINUTE": "1000000"}
        env.pop("REDIS_URL", None)
        if options.redis:
            env.update(REDIS_URL=options.redis, REDIS_KEY_PREFIX=f"bench:{os.getpid()}:")
        flask(["db", "upgrade"], env)
        flask(["registry", "import", str(SAMPLE)], env)
        code = flask(["codes", "issue", NUMERO], env).split("confidential code ")[1].split()[0]
        script = work / "soap.lua"
        script.write_text(LUA.format(body=ENVELOPE.format(numero=NUMERO, code=code)))

        port = free_port()
        # The project's gunicorn settings, but no periodic worker restart (`max_requests`):
        # a worker booting in the middle of a run would be measured instead of the endpoint.
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
             "--workers", "2", "--bind", f"127.0.0.1:{port}", "--max-requests", "0",
             "wsgi:create_app()"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_ready(f"{base}/healthz", server)
            wrk(f"{base}/healthz", 2, options.connections, None, server.pid)  # warm-up
            wrk(f"{base}/telepoints/ws", 2, options.connections, script, server.pid)
            health: list[tuple[float, float, int, float]] = []
            soap: list[tuple[float, float, int, float]] = []
            for _ in range(options.rounds):
                health.append(wrk(f"{base}/healthz", options.seconds, options.connections, None,
                                  server.pid))
                soap.append(wrk(f"{base}/telepoints/ws", options.seconds, options.connections,
                                script, server.pid))
        finally:
            server.terminate()
            server.wait(20)

    failed = sum(errors for _rate, _p99, errors, _cpu in soap)
    if failed:
        raise SystemExit(f"{failed} SOAP answers were not 200: the figures are meaningless")
    store = "Redis" if options.redis else "database"
    print(f"gunicorn 2 workers (gunicorn.conf.py), wrk {options.connections} connections, "
          f"{options.rounds} rounds x {options.seconds} s each, counters in the {store}")
    # Each round measures both endpoints back to back, so its ratio compares them under the
    # same load from the rest of the machine; the medians damp rounds that another job spoilt.
    ratios, cpu_ratios = [], []
    for number, ((h_rate, h_p99, _e, h_cpu), (s_rate, s_p99, _f, s_cpu)) in enumerate(
            zip(health, soap, strict=True), start=1):
        ratios.append(s_rate / h_rate)
        cpu_ratios.append(h_cpu / s_cpu)
        print(f"  round {number}: /healthz {h_rate:6.0f} req/s p99 {h_p99:6.2f} ms "
              f"{h_cpu:5.0f} µs | SOAP {s_rate:6.0f} req/s p99 {s_p99:6.2f} ms {s_cpu:5.0f} µs "
              f"| ratio {ratios[-1]:.2f}")
    median = statistics.median
    print("medians of the rounds (µs: the workers' CPU time per request):")
    print(f"GET /healthz            {median(r[0] for r in health):9.0f} req/s   "
          f"p99 {median(r[1] for r in health):6.2f} ms   {median(r[3] for r in health):5.0f} µs")
    soap_p99 = median(r[1] for r in soap)
    print(f"SOAP ConsulterSolde     {median(r[0] for r in soap):9.0f} req/s   "
          f"p99 {soap_p99:6.2f} ms   {median(r[3] for r in soap):5.0f} µs "
          f"(worst round p99 {max(r[1] for r in soap):.2f} ms)")
    ratio = median(ratios)
    print(f"ratio SOAP / health     {ratio:9.2f}   (target >= 0.60: "
          f"{'met' if ratio >= 0.6 else 'NOT met'}; "
          f"p99 target < 25 ms: {'met' if soap_p99 < 25 else 'NOT met'})")
    # CPU per request moves less than throughput when other jobs share the machine: the
    # throughput ratio the service would reach were the workers alone on their cores.
    print(f"CPU ratio health / SOAP {median(cpu_ratios):9.2f}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
