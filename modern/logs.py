"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

The request id comes from the caller's `X-Request-Id` when it is a plausible id (so a reverse
proxy's id follows the request), otherwise a new one; it is returned in the same header.
Secrets never go into log records: callers log a file number through `mask_numero`.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from typing import Any

import msgspec
from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


# Lines are written on every request (and twice on the legacy ones): msgspec encodes a line in
# a twentieth of json.dumps's time; anything it does not know is written as str() would.
_ENCODER = msgspec.json.Encoder(enc_hook=str)


class JsonFormatter(logging.Formatter):
    _second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def _time(self, record: logging.LogRecord) -> str:
        """ISO 8601 in UTC to the millisecond; the date and time of day made once a second."""
        second = int(record.created)
        if self._second[0] != second:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{self._second[1]}.{int(record.msecs):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        attributes = record.__dict__
        entry: dict[str, Any] = {
            "time": self._time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": attributes.get("request_id"),
        }
        for key in attributes:  # the caller's `extra` fields, in the order given
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = attributes[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        try:
            return _ENCODER.encode(entry).decode()
        except (TypeError, ValueError, OverflowError):  # an exotic value: the slow way
            return json.dumps(entry, ensure_ascii=False, default=str)


def _stamp_request_id(factory: Any) -> Any:
    """Wraps the record factory so that each record carries the request id when created."""
    if getattr(factory, "stamps_request_id", False):
        return factory

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    make.stamps_request_id = True  # type: ignore[attr-defined]
    return make


def configure_logging(level: str) -> None:
    # The lines carry no source location (file, line, function), so the logging module is
    # told not to look for it: a walk up the call stack for every record, a fifth of the cost
    # of a line (the logging HOWTO, "Optimization"). Thread and process stay: gunicorn's own
    # log lines print the process id.
    logging._srcfile = None
    logging.setLogRecordFactory(_stamp_request_id(logging.getLogRecordFactory()))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def mask_numero(numero: str) -> str:
    """Enough of a file number to tell cases apart in logs, never the whole of it."""
    return "*" * max(len(numero) - 4, 0) + numero[-4:]


ACCESS = logging.getLogger("access")


def request_id_for(incoming: str | None) -> str:
    """The caller's request id when it is a plausible one (a reverse proxy's), else a new one."""
    if incoming and _VALID_REQUEST_ID.fullmatch(incoming):
        return incoming
    return secrets.token_hex(12)


def log_request(method: str, route: str, status: int, started: float) -> None:
    """The access line of a request. `route` is the route pattern, not the path: paths carry
    file numbers and one-time tokens, which must not reach the logs."""
    ACCESS.info("request", extra={
        "method": method, "route": route, "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    })


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER))
        g.request_token = request_id_var.set(g.request_id)
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id is not None:
            response.headers[REQUEST_ID_HEADER] = request_id
            log_request(request.method,
                        request.url_rule.rule if request.url_rule else "unmatched",
                        response.status_code, g.request_started)
        return response

    @app.teardown_request
    def _clear(_exc: BaseException | None) -> None:
        token = g.pop("request_token", None)
        if token is not None:
            request_id_var.reset(token)
