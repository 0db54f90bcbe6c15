"""gunicorn's periodic worker restart (`max_requests`) under load: the longest time without
any answer, with the project's policy (limits spaced, one worker restarting at a time, see
modern/recycling.py) against the policy it replaced (a random jitter of a tenth) and the
worst case of that policy (both workers on the same limit), in the same run.

    .venv/bin/python bench/worker_recycle.py [--seconds 40] [--limit 400] [--clients 4]

Each policy serves `/healthz` from two workers on SQLite, with `--clients` keep-alive clients
sending requests back to back for `--seconds`; a tiny `--limit` makes the workers restart
many times. Printed per policy: answers, failed requests, restarts, the longest time with no
answer, p99 of the answers' times; then the ratios of the longest silences.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import ROOT

BEFORE = """
exec(open({config!r}).read())
max_requests_jitter = max_requests // 10
def post_fork(server, worker): pass
def pre_request(worker, request): pass
"""
SAME_LIMIT = """
exec(open({config!r}).read())
max_requests_jitter = 0
def post_fork(server, worker): pass
def pre_request(worker, request): pass
"""


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(name: str, config: Path, folder: Path, seconds: float, limit: int,
        clients: int) -> dict[str, float]:
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(folder / "instance"),
           "DATABASE_URL": f"sqlite:///{folder / 'service.db'}", "ENVIRONMENT": "development",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2",
           "GUNICORN_MAX_REQUESTS": str(limit), "LOG_LEVEL": "WARNING"}
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", str(config),
                                   "wsgi:create_app()"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"gunicorn did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        time.sleep(2)  # both workers loaded
        done: list[float] = []
        durations: list[float] = []
        failures = [0]
        stop = time.monotonic() + seconds

        def client() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while time.monotonic() < stop:
                started = time.monotonic()
                try:
                    connection.request("GET", "/healthz")
                    response = connection.getresponse()
                    response.read()
                    ok = response.status == 200
                except OSError:
                    ok = False
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ended = time.monotonic()
                if ok:
                    done.append(ended)
                    durations.append(ended - started)
                else:
                    failures[0] += 1

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(30)
    done.sort()
    durations.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(done)]
    restarts = log.read_text(errors="replace").count("Autorestarting worker")
    return {"answers": len(done), "failures": failures[0], "restarts": restarts,
            "longest_silence": max(gaps, default=seconds),
            "p99": durations[int(len(durations) * 0.99)] if durations else seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="recycle-bench-") as scratch:
        folder = Path(scratch)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                       cwd=ROOT, check=True, capture_output=True,
                       env={"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(folder / "instance"),
                            "DATABASE_URL": f"sqlite:///{folder / 'service.db'}"})
        project = str(ROOT / "gunicorn.conf.py")
        configs = {"now (spaced, one at a time)": ROOT / "gunicorn.conf.py"}
        for name, text in (("before (jitter 1/10)", BEFORE), ("same limit", SAME_LIMIT)):
            path = folder / f"{name.split()[0]}.conf.py"
            path.write_text(text.format(config=project))
            configs[name] = path
        results = {}
        for name, config in configs.items():
            results[name] = run(name.split()[0], config, folder, args.seconds, args.limit,
                                args.clients)
            figures = results[name]
            print(f"{name:30} answers {figures['answers']:6d}  failed {figures['failures']:3d}"
                  f"  restarts {figures['restarts']:3d}  longest silence "
                  f"{figures['longest_silence']:6.2f} s  p99 {figures['p99'] * 1000:7.1f} ms",
                  flush=True)
    now = results["now (spaced, one at a time)"]["longest_silence"]
    for name in ("before (jitter 1/10)", "same limit"):
        print(f"longest silence, now / {name}: {now / results[name]['longest_silence']:.2f}")


if __name__ == "__main__":
    main()
