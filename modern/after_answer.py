"""Work done after the answer, so that the answer's time does not depend on it.

Where an answer must take the same time whatever the case (no enumeration, ASVS 5 6.3.8:
whether a file exists, whether a birth date matches), the request does only what every case
does, hands the rest to `later(work)`, and answers. One background thread per process runs
the work handed over, in order, each in its own application context and database session, and
commits it (or rolls it back and logs why, with the request id of the request that handed it
over). `bench/enumeration.py` measures the answers' times over HTTP.

The work starts once the answer is written, and a moment later: `wrap` puts the application
inside a WSGI layer that knows when the server has sent the last byte (it closes the body).
Started earlier, the thread would take the interpreter lock from the request while the server
still writes the answer (between its headers and its body, say); started at that very moment,
it takes a processor just when the client is woken to read the answer (measured: 15 to 25 %
longer answers on a busy two-core host). `SETTLE_SECONDS` after the answer, the client has it;
a random part is added (up to `JITTER_SECONDS`), so that the load the work puts on the process
cannot be tied to one request by timing the next ones (and a file gets a few requests served a
day at most). The moment is counted from the answer: a backlog does not wait for it again.
Outside a served request (a command, a test that does not close its responses) the work
starts when `drain` is called, or at the latest a minute later.

The queue is in memory: work already handed over is finished on an orderly shutdown (the
thread is joined when the process exits, as gunicorn's workers do on a restart) but lost if
the process is killed. Use it only for work whose loss the person can make up for by asking
again (a new confidential code), never for what must not be lost.
"""

from __future__ import annotations

import contextvars
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session
from werkzeug.wsgi import ClosingIterator

from modern.db import db

log = logging.getLogger("telepoints.after_answer")
EXTENSION = "after_answer"
Work = Callable[[Session], None]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Answer:
    """The answer to a request that handed work over: when the server has written it."""

    __slots__ = ("at", "event")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.at = 0.0

    def written(self) -> None:
        self.at = time.monotonic()
        self.event.set()

    def wait(self) -> None:
        self.event.wait(WAIT_SECONDS)
        if not self.at:  # drained: taken as read
            return
        due = self.at + SETTLE_SECONDS + _random.uniform(0, JITTER_SECONDS)
        if (settle := due - time.monotonic()) > 0:
            time.sleep(settle)


class _Request:
    """The request being served; `answered` exists once it has handed work over."""

    __slots__ = ("answered",)

    def __init__(self) -> None:
        self.answered: _Answer | None = None


_current: contextvars.ContextVar[_Request | None] = contextvars.ContextVar(
    "after_answer_request", default=None)
WAIT_SECONDS = 60  # the longest a work waits for its request's answer to be written
SETTLE_SECONDS = 0.02  # then the time for the client to read it
JITTER_SECONDS = 0.25  # and a random part
_random = secrets.SystemRandom()


class AfterAnswer:
    def __init__(self, app: Flask) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0
        self._waiting: set[_Answer] = set()

    def later(self, work: Work, what: str) -> None:
        """Runs `work(session)` once the answer is written, then commits; `what` names it in
        the logs."""
        context = contextvars.copy_context()  # the request id, for the log lines of the work
        request = _current.get()
        answered = None
        if request is not None:
            if request.answered is None:
                request.answered = _Answer()
                with self._lock:
                    self._waiting.add(request.answered)
            answered = request.answered
        self._executor().submit(context.run, self._run, work, what, answered)

    def wrap(self, wsgi_app: WsgiApp) -> WsgiApp:
        """The WSGI application that tells the work its request's answer is written."""
        def application(environ: dict[str, Any],
                        start_response: Callable[..., Any]) -> Iterable[bytes]:
            request = _Request()
            token = _current.set(request)
            try:
                body = wsgi_app(environ, start_response)
            except BaseException:
                if request.answered is not None:
                    request.answered.written()
                raise
            finally:
                _current.reset(token)
            if request.answered is None:
                return body
            return ClosingIterator(body, request.answered.written)
        return application

    def drain(self, timeout: float = 30.0) -> None:
        """Returns once the work handed over so far is done, its requests taken as answered
        (tests; an orderly stop)."""
        with self._lock:
            waiting, self._waiting = self._waiting, set()
        for answered in waiting:
            answered.event.set()  # as good as written, without the moment to read it
        self._executor().submit(lambda: None).result(timeout)

    def _executor(self) -> ThreadPoolExecutor:
        # Started in the process that uses it: gunicorn forks its workers after the app is
        # built, and a thread does not survive a fork.
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="after-answer")
                self._pid = os.getpid()
            return self._pool

    def _run(self, work: Work, what: str, answered: _Answer | None) -> None:
        if answered is not None:
            answered.wait()
            with self._lock:
                self._waiting.discard(answered)
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


def install(app: Flask) -> None:
    """Wraps the whole application (the SOAP endpoint served in front of Flask included)."""
    handler: AfterAnswer = app.extensions[EXTENSION]
    app.wsgi_app = handler.wrap(app.wsgi_app)  # type: ignore[method-assign,assignment]


def after_answer() -> AfterAnswer:
    handler: AfterAnswer = current_app.extensions[EXTENSION]
    return handler
