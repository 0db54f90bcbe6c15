"""The data a fault test serves: legacy accounts whose plain codes are known (the export
generator's), the registry records of their files, and the local legacy backend answering for
them over HTTP, with switches that make it slow or take it down."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from migrations.export import generator
from migrations.legacy_backend.app import create_legacy_app
from migrations.legacy_backend.store import engine_for, load_export, load_registry
from tests.faults.servers import wait_until
from tests.migrations.conftest import sample

TEMPLATE = "991091010000"  # the registry sample's first licence: balance 11 (contract §3)


@dataclass(frozen=True)
class Holder:
    numero: str
    code: str


def holders(count: int) -> list[Holder]:
    """Active accounts, no duplicate, lock or closed account: every code opens its file."""
    return [Holder(generator.numero_for(index), generator.code_for(index))
            for index in range(count)]


def write_export(path: Path, count: int) -> Path:
    generator.write(str(path), count, seed=3, duplicate_every=0, closed_every=0,
                    suspended_every=0, rejected_every=0, locked_every=0)
    return path


def write_registry(path: Path, numeros: Iterable[str]) -> Path:
    """One licence per file number: the sample's first record under each number."""
    source = sample("registry-extract.jsonl")
    template = next(json.loads(line) for line in source.read_text("utf-8").splitlines()
                    if json.loads(line)["numeroDossier"] == TEMPLATE)
    with path.open("w", encoding="utf-8") as handle:
        for numero in numeros:
            handle.write(json.dumps({**template, "numeroDossier": numero},
                                    ensure_ascii=False) + "\n")
    return path


# -- the legacy backend --------------------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LegacyBackend:
    """The local legacy backend (migrations.legacy_backend) on a loopback port, in a thread.
    `delay` makes every answer that many seconds late; `down()` closes the port (connections
    refused) and `up()` opens it again at the same address."""

    def __init__(self, folder: Path, export: Path, registry: Path) -> None:
        self.database = str(folder / "legacy.db")
        engine = engine_for(self.database)
        with export.open("rb") as stream:
            load_export(engine, stream)
        with registry.open("rb") as stream:
            load_registry(engine, stream)
        self.engine = engine
        self.delay = 0.0
        self.answered = 0  # requests answered (late ones included)
        self._lock = threading.Lock()
        legacy = create_legacy_app(self.database)

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            if self.delay:
                time.sleep(self.delay)
            try:
                return legacy(environ, start_response)
            finally:
                with self._lock:
                    self.answered += 1

        self._app = app
        self.port = 0
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telepoints/ws"

    def up(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self._app, threaded=True,
                                  request_handler=_Quiet)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def down(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)
        self.server = None

    def failures(self, numero: str) -> int:
        """The failure count the legacy backend keeps for a file."""
        from migrations.legacy_backend.store import account
        row = account(self.engine, numero)
        assert row is not None
        return int(row["echecs"])  # type: ignore[call-overload]

    def wait_idle(self, answered: int, timeout: float = 30) -> None:
        """Waits until `answered` requests have been answered (late ones included)."""
        wait_until(lambda: self.answered >= answered, timeout,
                   f"the legacy backend answers {answered} requests")

    def close(self) -> None:
        if self.server is not None:
            self.down()
        self.engine.dispose()

