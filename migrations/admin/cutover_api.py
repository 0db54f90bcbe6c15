"""The admin API's cutover evidence, on the same blueprint and policy as api.py: brownout
windows (list, plan, remove), the readiness, the parallel run and the client census."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, current_app, g

from migrations.admin import tokens
from migrations.admin.api import _audit, _settings, operation
from migrations.admin.cutover_schemas import (
    BrownoutIn,
    BrownoutListOut,
    BrownoutOut,
    ClientListOut,
    DaysQuery,
    ParallelRunOut,
    ReadinessOut,
)
from migrations.brownouts import services as brownouts
from migrations.census import services as census
from migrations.parallel_run import services as parallel_run
from migrations.readiness import services as readiness
from migrations.traffic import flush_counts, watch
from modern.db import db

TAG = "Bascule"


def _refresh_brownouts() -> None:
    """Every process reads the windows again within seconds; this one at once."""
    if (traffic := watch(current_app)) is not None:
        traffic.brownouts.refresh()


def _windows() -> dict[str, Any]:
    planned = brownouts.windows(db.session())
    return {"items": planned,
            "announcement": brownouts.announcement(planned, dt.datetime.now(dt.UTC))}


@operation("/brownouts", summary="Interruptions programmées", tag=TAG, scope=tokens.READ,
           action="brownout.list", output=BrownoutListOut,
           description="Fenêtres à venir ou en cours pendant lesquelles une part des requêtes "
                       "Télépoints reçoit SERVICE_CLOS, et le texte qui les annonce.")
def list_brownouts() -> dict[str, Any]:
    _audit()
    db.session.commit()
    return _windows()


@operation("/brownouts", "POST", summary="Programmer une interruption", tag=TAG,
           scope=tokens.CUTOVER, action="brownout.add", output=BrownoutOut, body=BrownoutIn,
           status=201)
def add_brownout(body: dict[str, Any]) -> Any:
    window = brownouts.add(db.session(), body["starts_at"], body["ends_at"], body["share"],
                           g.admin_token.name)
    _audit(str(window.id), starts_at=body["starts_at"].isoformat(),
           ends_at=body["ends_at"].isoformat(), share=body["share"])
    db.session.commit()
    _refresh_brownouts()
    return window


@operation("/brownouts/<int:window_id>", "DELETE", summary="Retirer une interruption",
           tag=TAG, scope=tokens.CUTOVER, action="brownout.remove", output=None, status=204,
           errors=(404,))
def remove_brownout(window_id: int) -> Response:
    brownouts.remove(db.session(), window_id)
    _audit(str(window_id))
    db.session.commit()
    _refresh_brownouts()
    return Response(status=204)


@operation("/readiness", summary="Peut-on éteindre l'ancien service ?", tag=TAG,
           scope=tokens.READ, action="readiness.show", output=ReadinessOut,
           description="Chaque ligne avec son chiffre et son seuil (READINESS_THRESHOLDS).")
def show_readiness() -> dict[str, Any]:
    flush_counts(current_app)
    result = readiness.readiness(db.session(), _settings())
    _audit()
    db.session.commit()
    return result.as_dict()


@operation("/parallel-run", summary="Exécution parallèle", tag=TAG, scope=tokens.READ,
           action="parallel_run.show", output=ParallelRunOut, query=DaysQuery)
def show_parallel_run(query: dict[str, Any]) -> dict[str, Any]:
    report = parallel_run.report(db.session(), days=query["days"])
    _audit()
    db.session.commit()
    return report


@operation("/clients", summary="Clients de l'interface Télépoints", tag=TAG, scope=tokens.READ,
           action="clients.show", output=ClientListOut, query=DaysQuery)
def list_clients(query: dict[str, Any]) -> dict[str, Any]:
    flush_counts(current_app)
    notice_date = _settings().telepoints_deprecation_date
    rows = census.clients(db.session(), days=query["days"], notice_date=notice_date)
    _audit()
    db.session.commit()
    return {"items": rows, "notice_date": notice_date.isoformat()}
