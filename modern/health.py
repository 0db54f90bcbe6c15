"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from modern.db import db
from modern.schema import schema_problem

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """The process answers; nothing else is checked."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database answers and its schema is the one this code expects."""
    try:
        db.session.execute(text("SELECT 1"))
        problem = schema_problem(db.engine)
    except Exception:  # any database failure means "not ready"; the detail stays in the logs
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    if problem:
        return jsonify(status="unavailable", database="schema not current"), 503
    return jsonify(status="ok", database="ok"), 200
