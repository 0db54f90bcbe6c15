"""The admin API under `/admin/api`: jobs (start from an upload or a server-side file, dry
run, status, per-line errors paged, report, stop, resume), one account (look-up, revert) and
the cutover panel and switch.

Authentication policy, in one place for the whole blueprint: a bearer token
(`Authorization: Bearer …`, see tokens.py) on every request, then the endpoint's scope. The
token travels in a header that browsers never add by themselves, so no request can be forged
from another site (no cookie, no CSRF). Requests are rate limited per client address, failed
authentications more tightly. Every action, refused ones included, is audit-logged.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context
from marshmallow import ValidationError

from migrations.accounts import services as accounts
from migrations.admin import audit, tokens
from migrations.admin.models import AdminToken
from migrations.admin.schemas import (
    AccountOut,
    CutoverIn,
    CutoverOut,
    ErrorsPageOut,
    JobOut,
    JobStartForm,
    JobStartIn,
    PageQuery,
    RevertOut,
)
from migrations.export.reader import ExportFormatError
from migrations.jobs import runner, services
from migrations.lazy import cutover
from modern.db import db
from modern.errors import DomainError, Forbidden, NotFound, problem
from modern.logs import mask_numero
from modern.settings import Settings
from modern.throttling import StoreUnavailable, client_address

log = logging.getLogger("telepoints.admin")
blueprint = Blueprint("migrations_admin_api", __name__, url_prefix="/admin/api")
F = TypeVar("F", bound=Callable[..., Any])
FAILED_AUTH_PER_MINUTE = 10


class Unauthorized(DomainError):
    status = 401
    code = "NON_AUTHENTIFIE"


class TooManyRequests(DomainError):
    status = 429
    code = "TROP_DE_REQUETES"


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def _rate_limit(scope: str, limit: int) -> None:
    bundle = current_app.extensions.get("throttling")
    if bundle is None:
        return
    try:
        decision = bundle.rate_limit.hit(scope, client_address(), limit=limit)
    except StoreUnavailable:
        raise DomainError("Service momentanément indisponible.") from None
    if not decision.allowed:
        error = TooManyRequests("Trop de requêtes : réessayez plus tard.")
        error.details["retry_after"] = decision.retry_after
        raise error


def _refuse(action: str, reason: str) -> None:
    """A refused request leaves a trace even though its own transaction is rolled back."""
    db.session.rollback()
    audit.record(db.session(), actor=getattr(g.get("admin_token"), "name", "anonyme"),
                 action=action, outcome="refused", details={"reason": reason},
                 request_id=g.get("request_id"), client=client_address())
    db.session.commit()


@blueprint.before_request
def _authenticate() -> None:
    _rate_limit("admin", _settings().admin_rate_limit_per_minute)
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    token = tokens.authenticate(db.session(), presented.strip()) \
        if scheme.lower() == "bearer" else None
    if token is None:
        _refuse(f"{request.method} {request.endpoint or request.path}"[:40], "authentication")
        _rate_limit("admin-auth-failure", FAILED_AUTH_PER_MINUTE)
        raise Unauthorized("Jeton d'administration absent, invalide ou expiré.")
    g.admin_token = token


@blueprint.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="admin"'
    return response


@blueprint.errorhandler(TooManyRequests)
def _too_many(error: TooManyRequests) -> Response:
    response = problem(429, error.code, error.code, error.message)
    response.headers["Retry-After"] = str(error.details.get("retry_after", 60))
    return response


def requires(scope: str, action: str) -> Callable[[F], F]:
    """The endpoint's scope, and its audit entry (written in the endpoint's transaction)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token: AdminToken = g.admin_token
            if scope not in token.scopes.split():
                _refuse(action, f"scope {scope} missing")
                raise Forbidden(f"Ce jeton n'a pas la portée {scope}.")
            g.audit_action = action
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _audit(target: str | None = None, **details: Any) -> None:
    token: AdminToken = g.admin_token
    audit.record(db.session(), actor=token.name, action=g.audit_action, target=target,
                 details=details or None, request_id=g.get("request_id"),
                 client=client_address())


def _load(schema: Any, data: Any) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        raise DomainError("Requête invalide.", fields=exc.messages) from None
    return loaded


def _job_json(job_id: int, status: int = 200) -> tuple[Response, int]:
    return jsonify(JobOut().dump(services.status(db.session(), job_id).as_dict())), status


def _launch(job_id: int) -> None:
    if not runner.thread_running(job_id):
        runner.start_thread(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]


# -- jobs -------------------------------------------------------------------------------------

@blueprint.get("/jobs")
@requires(tokens.READ, "job.list")
def list_jobs() -> Response:
    jobs = services.list_jobs(db.session(), 50)
    _audit()
    db.session.commit()
    return jsonify({"items": [JobOut().dump(job.as_dict()) for job in jobs]})


def _server_file(name: str) -> Path:
    """A file of MIGRATION_FILES_DIR, by its name only: no other path can be read."""
    folder = _settings().migration_files_dir
    if not folder:
        raise Forbidden("Aucun dossier d'exports n'est configuré (MIGRATION_FILES_DIR).")
    base = Path(folder).resolve()
    path = (base / name).resolve()
    if path.parent != base or not path.is_file():
        raise NotFound("Aucun export de ce nom dans le dossier des exports.")
    return path


@blueprint.post("/jobs")
@requires(tokens.WRITE, "job.create")
def create_job() -> tuple[Response, int]:
    # Exports are larger than ordinary requests: their own limit (413 beyond).
    request.max_content_length = _settings().migration_upload_max_bytes
    if request.mimetype == "multipart/form-data":
        options = _load(JobStartForm(), request.form.to_dict())
        upload = request.files.get("fichier")
        if upload is None or not upload.filename:
            raise DomainError("Joignez l'export dans le champ « fichier ».")
        name, stream = Path(upload.filename).name, upload.stream
    else:
        options = _load(JobStartIn(), request.get_json(silent=True) or {})
        path = _server_file(options["chemin"])
        name, stream = path.name, path.open("rb")
    try:
        with stream:
            job = services.create_job(db.session(), stream, source_name=name,
                                      created_by=g.admin_token.name,
                                      dry_run=options["dry_run"])
    except ExportFormatError as exc:
        raise DomainError(f"Ce fichier n'est pas un export Télépoints : {exc}") from None
    job_id = job.id
    if options["demarrer"]:
        services.start(db.session(), job_id)
    _audit(str(job_id), source=name, dry_run=options["dry_run"], lines=job.line_count)
    db.session.commit()
    if options["demarrer"]:
        _launch(job_id)
    response, status = _job_json(job_id, 202)
    response.headers["Location"] = f"{blueprint.url_prefix}/jobs/{job_id}"
    return response, status


@blueprint.get("/jobs/<int:job_id>")
@requires(tokens.READ, "job.status")
def job_status(job_id: int) -> tuple[Response, int]:
    result = _job_json(job_id)
    _audit(str(job_id))
    db.session.commit()
    return result


@blueprint.get("/jobs/<int:job_id>/errors")
@requires(tokens.READ, "job.errors")
def job_errors(job_id: int) -> Response:
    query = _load(PageQuery(), request.args.to_dict())
    lines = list(services.report_lines(db.session(), job_id, only_issues=True,
                                       after_line=query["after"], limit=query["limit"] + 1))
    more = len(lines) > query["limit"]
    lines = lines[:query["limit"]]
    _audit(str(job_id), after=query["after"])
    db.session.commit()
    return jsonify(ErrorsPageOut().dump({
        "items": [vars(line) for line in lines],
        "next_after": lines[-1].ligne if more else None}))


@blueprint.get("/jobs/<int:job_id>/report")
@requires(tokens.READ, "job.report")
def job_report(job_id: int) -> Response:
    services.get_job(db.session(), job_id)
    _audit(str(job_id))
    db.session.commit()

    def rows() -> Iterator[str]:
        yield "ligne;numero;resultat;motif\n"
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
        for line in services.report_lines(db.session(), job_id):
            writer.writerow((line.ligne, line.numero, line.resultat, line.motif))
            if buffer.tell() > 65536:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="rapport-{job_id}.csv"'
    return response


@blueprint.post("/jobs/<int:job_id>/stop")
@requires(tokens.WRITE, "job.stop")
def stop_job(job_id: int) -> tuple[Response, int]:
    services.stop(db.session(), job_id)
    _audit(str(job_id))
    db.session.commit()
    return _job_json(job_id, 202)


@blueprint.post("/jobs/<int:job_id>/resume")
@requires(tokens.WRITE, "job.resume")
def resume_job(job_id: int) -> tuple[Response, int]:
    services.resume(db.session(), job_id)
    _audit(str(job_id))
    db.session.commit()
    _launch(job_id)
    return _job_json(job_id, 202)


# -- accounts ---------------------------------------------------------------------------------

@blueprint.get("/accounts/<numero>")
@requires(tokens.READ, "account.show")
def show_account(numero: str) -> Response:
    account = accounts.find(db.session(), numero)
    _audit(mask_numero(account.numero))
    db.session.commit()
    return jsonify(AccountOut().dump(account))


@blueprint.post("/accounts/<numero>/revert")
@requires(tokens.REVERT, "account.revert")
def revert_account(numero: str) -> Response:
    result = accounts.revert(db.session(), numero)
    _audit(mask_numero(result.numero), source=result.source, codes_removed=result.codes_removed)
    db.session.commit()
    return jsonify(RevertOut().dump(vars(result)))


# -- cutover ----------------------------------------------------------------------------------

@blueprint.get("/cutover")
@requires(tokens.READ, "cutover.show")
def show_cutover() -> Response:
    panel = cutover.panel(db.session(), _settings())
    _audit()
    db.session.commit()
    return jsonify(CutoverOut().dump(panel.as_dict()))


@blueprint.put("/cutover")
@requires(tokens.CUTOVER, "cutover.set")
def set_cutover() -> Response:
    body = _load(CutoverIn(), request.get_json(silent=True) or {})
    cutover.set_mode(db.session(), body["mode"], g.admin_token.name)
    _audit(body["mode"])
    db.session.commit()
    log.warning("cutover mode changed", extra={"event": "cutover", "mode": body["mode"],
                                               "actor": g.admin_token.name})
    return jsonify(CutoverOut().dump(cutover.panel(db.session(), _settings()).as_dict()))
