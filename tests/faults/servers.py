"""The processes a fault test starts for itself, each on a free loopback port in a folder of
its own, stopped, frozen or restarted at will: a PostgreSQL cluster, a Redis, gunicorn with
the project's configuration. The machine's shared servers are never touched.

A test that needs a binary the machine lacks is skipped, saying which one.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gunicorn.config
import pytest
import redis
import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               every: float = 0.05) -> None:
    """Waits for `condition`, at most `timeout` seconds (every wait of these tests is
    bounded); fails the test naming what did not happen."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:g} s: {what}")
        time.sleep(every)


def _scratch(prefix: str, owner: pwd.struct_passwd | None = None) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if owner is not None:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    return folder


# -- PostgreSQL --------------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The folder of initdb, pg_ctl and postgres: the newest Debian version, else the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit()
                   else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """A cluster of its own: initdb into a scratch folder, trust authentication for the
    superuser `root` on 127.0.0.1 only, its unix socket in the same folder. PostgreSQL
    refuses to run as root: as root, the cluster runs as the system user `postgres`.
    Durability settings are off: these tests restart the server, they never crash the
    machine."""

    def __init__(self) -> None:
        binaries = postgres_bin()
        if binaries is None:
            pytest.skip("needs PostgreSQL's initdb (Debian: apt-get install postgresql)")
        self.bin = binaries
        self.owner: pwd.struct_passwd | None = None
        if os.getuid() == 0:
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root, PostgreSQL needs the system user postgres")
        self.folder = _scratch("faults-pg-", self.owner)
        self.data = self.folder / "data"
        self.port = free_port()
        self.log = self.folder / "server.log"
        self._run("initdb", "-D", str(self.data), "-U", "root", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.folder}'\n"
                       "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                       "shared_buffers = 32MB\nmax_connections = 60\n")

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        result = subprocess.run([str(self.bin / program), *args], capture_output=True,
                                text=True, timeout=timeout, check=False, cwd=self.folder,
                                env=self._env(), **self._as_owner())
        if result.returncode != 0:
            pytest.fail(f"{program} failed: {result.stderr[-2000:]}")

    def _env(self) -> dict[str, str]:
        return {key: value for key, value in os.environ.items() if not key.startswith("PG")}

    def _as_owner(self) -> dict[str, Any]:
        if self.owner is None:
            return {}
        return {"user": self.owner.pw_uid, "group": self.owner.pw_gid, "extra_groups": []}

    def chown(self, path: Path) -> None:
        """Hands a folder made by the test over to the server's user (a tablespace)."""
        if self.owner is not None:
            os.chown(path, self.owner.pw_uid, self.owner.pw_gid)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: clients are disconnected and the server shuts down cleanly, as a restart
        by an operator does; `immediate`: as a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://root@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, *, tablespace: str | None = None) -> str:
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                connection.execute(text(
                    f"CREATE DATABASE {name}"
                    + (f" TABLESPACE {tablespace}" if tablespace else "")))
        finally:
            engine.dispose()
        return self.url(name)

    def execute(self, statement: str) -> None:
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(BaseException):  # best effort: the folder goes anyway
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


# -- Redis -------------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of its own. `stop` saves its data and shuts it down, `start` brings it
    back with that data, as a Redis with persistence comes back after a restart; `freeze`
    and `thaw` make it stop answering without closing any connection."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("needs redis-server (Debian: apt-get install redis-server)")
        self.binary = binary
        self.folder = _scratch("faults-redis-")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no",
             "--protected-mode", "yes"], stdout=log, stderr=log, cwd=self.folder)
        log.close()

        def answers() -> bool:
            try:
                return bool(self.client().ping())
            except redis.RedisError:
                assert self.process is not None
                if self.process.poll() is not None:
                    pytest.fail("redis-server stopped: "
                                + (self.folder / "redis.log").read_text()[-1000:])
                return False
        wait_until(answers, 20, "redis-server answers")

    def stop(self) -> None:
        assert self.process is not None
        with contextlib.suppress(redis.ConnectionError):  # it closes it as it leaves
            self.client().shutdown(save=True)
        self.process.wait(20)
        self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


# -- gunicorn ----------------------------------------------------------------------------------


def service_env(instance: Path, database_url: str, **variables: str) -> dict[str, str]:
    """The environment of the service's processes: nothing inherited that could point them
    at another database or Redis; one instance folder, so that every process (gunicorn's
    workers, the commands, the test itself) uses the same code key."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DATABASE_", "REDIS_", "GUNICORN_", "LEGACY_", "MIGRATION_",
                                  "TEST_", "PG"))}
    env.update({"ENVIRONMENT": "test", "INSTANCE_PATH": str(instance),
                "DATABASE_URL": database_url, "SECRET_KEY": "f" * 40, "LOG_LEVEL": "WARNING",
                "RATE_LIMIT_PER_MINUTE": "1000000"})
    env.update(variables)
    return env


def flask(env: dict[str, str], *args: str, timeout: float = 120, check: bool = True,
          **options: Any) -> subprocess.CompletedProcess[str]:
    """`flask --app wsgi …`, the service's command line, in a process of its own."""
    result = subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=timeout,
                            check=False, **options)
    if check and result.returncode != 0:
        pytest.fail(f"flask {' '.join(args)} failed: {result.stderr[-3000:]}")
    return result


def children(pid: int) -> set[int]:
    """The live child processes of `pid` (gunicorn's workers, for its master)."""
    found = set()
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(Path(stat).parent.name))
    return found


# No control socket (gunicorn 24 and later): it would live in the home folder, shared with
# every other gunicorn of the machine.
_NO_CONTROL_SOCKET = [
    "--no-control-socket" for setting in gunicorn.config.KNOWN_SETTINGS
    if setting.name == "control_socket_disable"]


class Gunicorn:
    """The service as production runs it: gunicorn with the project's gunicorn.conf.py
    (gthread workers), here two workers on a free loopback port."""

    def __init__(self, env: dict[str, str], folder: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "gunicorn.log"
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                    "GUNICORN_WORKERS": str(workers)}
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "gunicorn", "--config", "gunicorn.conf.py", *_NO_CONTROL_SOCKET,
                 "wsgi:create_app()"], cwd=ROOT, env=self.env, stdout=log, stderr=log)

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn stopped: {self.log.read_text()[-3000:]}")
            workers = self.worker_pids()
            if len(workers) < self.workers:
                return False
            # Every worker has loaded the application: one still booting when a test stops
            # the service would miss the signal (gunicorn's own handlers not yet in place).
            log = self.log_text()
            if any(f"Worker ready (pid: {pid})" not in log for pid in workers):
                return False
            try:
                return requests.get(self.url + "/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        wait_until(ready, 60, "gunicorn answers with all its workers", every=0.1)

    def worker_pids(self) -> set[int]:
        assert self.process is not None
        return children(self.process.pid)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)  # quick shutdown: the test is over
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def problems(self) -> str:
        """The service's warning and error lines (and tracebacks), to explain a failure."""
        return "\n".join(line for line in self.log_text().splitlines()
                         if '"level":"INFO"' not in line and "[INFO]" not in line)[-4000:]


@contextmanager
def serving(gunicorn: Gunicorn) -> Iterator[Gunicorn]:
    gunicorn.start()
    try:
        yield gunicorn
    finally:
        gunicorn.stop()


# -- a small disk ------------------------------------------------------------------------------


class Tmpfs:
    """A file system of a given size, mounted for the test: the honest way to run out of
    disk space (writes fail with ENOSPC), to free some (`resize`), and to measure what is
    used. Mounting needs root (CAP_SYS_ADMIN): see `mount`."""

    full = ("disk is full", "DiskFull")  # what SQLite and PostgreSQL say

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def mount(cls, size: int) -> Tmpfs | None:
        """A new tmpfs, or None where this process may not mount one."""
        if os.getuid() != 0 or shutil.which("mount") is None:
            return None
        path = _scratch("faults-disk-")
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={_pages(size)}",
                                 "tmpfs", str(path)], capture_output=True, check=False)
        if result.returncode != 0:
            path.rmdir()
            return None
        return cls(path)

    def resize(self, size: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={_pages(size)}", str(self.path)],
                       check=True, capture_output=True)

    def used(self) -> int:
        stat = os.statvfs(self.path)
        return (stat.f_blocks - stat.f_bfree) * stat.f_frsize

    def limits(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        subprocess.run(["umount", "--lazy", str(self.path)], check=False, capture_output=True)
        shutil.rmtree(self.path, ignore_errors=True)


class FileSizeLimit:
    """Where no tmpfs can be mounted, for files written by a command (a SQLite database):
    the largest file the command may write (RLIMIT_FSIZE, in its process only). Past it a
    write fails (EFBIG), which SQLite reports as an I/O error. `used` is then the largest
    file's size: the same measure before and after, on the reference as on the victim."""

    full = ("disk I/O error",)

    def __init__(self) -> None:
        self.path = _scratch("faults-disk-")
        self.limit: int | None = None

    def resize(self, size: int) -> None:
        self.limit = size

    def used(self) -> int:
        return max((entry.stat().st_size for entry in self.path.iterdir()), default=0)

    def limits(self) -> dict[str, Any]:
        if self.limit is None:
            return {}
        limit = self.limit

        def apply() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        return {"preexec_fn": apply}

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _pages(size: int) -> int:
    return -(-size // 4096) * 4096
