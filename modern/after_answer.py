"""Work done after the answer, so that the answer's time does not depend on it.

Where an answer must take the same time whatever the case (no enumeration, ASVS 5 6.3.8:
whether a file exists, whether a birth date matches), the request does only what every case
does, hands the rest to `later(work)`, and answers. One background thread per process runs
the work handed over, in order, each in its own application context and database session,
and commits it (or rolls it back and logs why, with the request id of the request that
handed it over). Nothing of it shows in the answer, whose time is then the same either way
(`bench/enumeration.py` measures it over HTTP).

The queue is in memory: work already handed over is finished on an orderly shutdown (the
thread is joined when the process exits, as gunicorn's workers do on a restart) but lost if
the process is killed. Use it only for work whose loss the person can make up for by asking
again (a new confidential code), never for what must not be lost.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app, g, has_app_context
from sqlalchemy.orm import Session

from modern.db import db

log = logging.getLogger("telepoints.after_answer")
EXTENSION = "after_answer"
Work = Callable[[Session], None]
_GATE = "after_answer_gate"  # in `g`: set when the request that handed work over is over


class AfterAnswer:
    def __init__(self, app: Flask) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0

    def later(self, work: Work, what: str) -> None:
        """Runs `work(session)` after the answer, then commits; `what` names it in the logs."""
        context = contextvars.copy_context()  # the request id, for the log lines of the work
        gate = None
        if has_app_context():
            gate = g.get(_GATE)
            if gate is None:
                gate = g.setdefault(_GATE, threading.Event())
        self._executor().submit(context.run, self._run, work, what, gate)

    def drain(self, timeout: float = 30.0) -> None:
        """Returns once the work handed over so far is done (tests, an orderly stop)."""
        self._executor().submit(lambda: None).result(timeout)

    def _executor(self) -> ThreadPoolExecutor:
        # Started in the process that uses it: gunicorn forks its workers after the app is
        # built, and a thread does not survive a fork.
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="after-answer")
                self._pid = os.getpid()
            return self._pool

    def _run(self, work: Work, what: str, gate: threading.Event | None) -> None:
        if gate is not None:
            gate.wait(60)  # the request is over (or, at worst, a minute has passed)
        with self._app.app_context():
            try:
                work(db.session())
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("work after the answer failed", extra={
                    "event": "after_answer_failed", "work": what})


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = AfterAnswer(app)

    @app.teardown_appcontext
    def _request_over(_error: BaseException | None) -> None:
        gate = g.pop(_GATE, None)
        if gate is not None:
            gate.set()


def after_answer() -> AfterAnswer:
    handler: AfterAnswer = current_app.extensions[EXTENSION]
    return handler
