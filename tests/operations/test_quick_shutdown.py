"""Ctrl-C (SIGINT) stops the served application at once, even while browsers hold kept-alive
connections: a threaded worker used to wait for them until `graceful_timeout` (20 s), then be
killed ("Worker was sent SIGKILL! Perhaps out of memory?")."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.faults.servers import Gunicorn, flask, service_env

pytestmark = pytest.mark.slow


def test_ctrl_c_stops_within_three_seconds_with_connections_kept_alive(tmp_path: Path) -> None:
    env = service_env(tmp_path / "instance", f"sqlite:///{tmp_path / 'demo.db'}")
    flask(env, "db", "upgrade")
    server = Gunicorn(env, tmp_path)
    server.start()
    browsers = []
    try:
        for _ in range(6):  # as a browser does: a page, then the connection left open
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            connection.sendall(b"GET / HTTP/1.1\r\nHost: demo\r\nConnection: keep-alive\r\n\r\n")
            assert connection.recv(65536).startswith(b"HTTP/1.1 200")
            browsers.append(connection)
        assert server.process is not None
        started = time.monotonic()
        # As a terminal's Ctrl-C does: the signal to the master and to each worker.
        for pid in (server.process.pid, *server.worker_pids()):
            os.kill(pid, signal.SIGINT)
        server.process.wait(30)
        stopped_in = time.monotonic() - started
    finally:
        for connection in browsers:
            connection.close()
        server.stop()
    assert stopped_in < 3, f"stopped in {stopped_in:.1f} s"
    assert "SIGKILL" not in server.log_text()
