"""gunicorn settings; each can be overridden by the GUNICORN_* variables below."""

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the project, for modern.recycling
from modern.recycling import RecycleGate, recycle_limit

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Two threads per worker (gthread): a request waits on the network for PostgreSQL, Redis and,
# during the migration, the legacy backend; meanwhile the worker's other thread uses the CPU
# instead of idling (measured on PostgreSQL: SOAP throughput +60 % over one thread), and
# connections are kept alive (`keepalive`), which sync workers cannot do. More threads add
# contention for the interpreter lock, which shows in the slowest answers.
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Restart workers now and then so that a slow leak cannot grow without bound: one at a time,
# only while every other worker is up (modern/recycling.py and the hooks below).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 0  # the limits are spaced instead (recycle_limit)
accesslog = None  # the application logs each request as JSON, with its request id
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(_server: object, worker: object) -> None:
    """Metrics of a finished worker stop counting as live (multiprocess mode); a worker
    killed is no longer ready."""
    if _gate is not None:
        _gate.gone(worker.pid)  # type: ignore[attr-defined]
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def worker_int(worker: object) -> None:
    """SIGINT (Ctrl-C) or SIGQUIT: gunicorn's quick shutdown. A threaded worker would otherwise
    wait for its request threads, one of them held by a browser's kept-alive connection, until
    `graceful_timeout`, and then be killed. A quick shutdown exits at once (SIGTERM, what
    service managers send, still lets requests in progress finish). Nothing else is done
    here: this runs in a signal handler, where taking any lock (logging's, for one) can wait
    forever on the code it interrupted. The log handlers write each line as it comes."""
    os._exit(0)


_gate: RecycleGate | None = None  # set in the master before the workers are forked


def on_starting(_server: object) -> None:
    global _gate
    _gate = RecycleGate(Path(tempfile.mkdtemp(prefix="gunicorn-recycle-")))


def on_exit(_server: object) -> None:
    if _gate is not None:
        shutil.rmtree(_gate.folder, ignore_errors=True)


def post_fork(server: object, worker: object) -> None:
    cfg = server.cfg  # type: ignore[attr-defined]  # command-line values included
    if cfg.max_requests > 0:
        worker.max_requests = recycle_limit(  # type: ignore[attr-defined]
            cfg.max_requests, cfg.workers, worker.age)  # type: ignore[attr-defined]


def post_worker_init(worker: object) -> None:
    # Said once the application is loaded (gunicorn says "Booting worker" before): from here
    # the worker serves, and stops at once on a quick shutdown.
    worker.log.info("Worker ready (pid: %s)", os.getpid())  # type: ignore[attr-defined]
    if _gate is not None:
        _gate.ready(os.getpid())


def pre_request(worker: object, _request: object) -> None:
    """Near the limit: restart only if no other worker is restarting and all are up;
    otherwise move the limit on and ask again later. A worker's threads count its requests
    each after this hook, so the question is asked as soon as the requests in flight could
    reach the limit, and the limit moved past what they can reach."""
    w: Any = worker
    if _gate is None or getattr(w, "restart_granted", False) \
            or w.nr + w.cfg.threads < w.max_requests:
        return
    if _gate.may_restart(w.pid, w.cfg.workers):
        w.restart_granted = True
        w.max_requests = min(w.max_requests, w.nr + 1)
    else:
        w.max_requests = w.nr + w.cfg.threads + 1


def worker_exit(_server: object, worker: object) -> None:
    """A worker leaving gracefully (recycled, SIGTERM; not a quick shutdown, see worker_int)
    writes what its application counted in memory and has not written yet: the census's last
    seconds of counts, the legacy code uses noted since the last write."""
    if _gate is not None:
        _gate.gone(worker.pid)  # type: ignore[attr-defined]
    app = getattr(worker, "wsgi", None)  # the application, once the worker has loaded it
    if app is not None:
        from wsgi import close_app

        close_app(app)
