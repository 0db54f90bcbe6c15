"""gunicorn settings; each can be overridden by the GUNICORN_* variables below."""

import os

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
# Restart workers now and then so that a slow leak cannot grow without bound.
max_requests = 20000
max_requests_jitter = 2000
accesslog = None  # the application logs each request as JSON, with its request id
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(_server: object, worker: object) -> None:
    """Metrics of a finished worker stop counting as live (multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def worker_int(worker: object) -> None:
    """SIGINT (Ctrl-C) or SIGQUIT: gunicorn's quick shutdown. A threaded worker would otherwise
    wait for its request threads, one of them held by a browser's kept-alive connection, until
    `graceful_timeout`, and then be killed. A quick shutdown exits at once (SIGTERM, what
    service managers send, still lets requests in progress finish)."""
    import logging

    logging.shutdown()
    os._exit(0)
