"""The admin API under `/admin/api`: jobs (start from an upload or a server-side file, dry
run, status, per-line errors paged, report, stop, resume), one account (look-up, revert), the
cutover panel and switch, and the token in use; its OpenAPI document at
`/admin/api/openapi.json`.

A revert and a change of cutover mode need a `confirmation` field that repeats what they act
on (the file number, the mode): neither happens by a stray click nor a script's slip.

Authentication policy, in one place for the whole blueprint: a bearer token
(`Authorization: Bearer …`, see tokens.py) on every request, then the endpoint's scope. The
token travels in a header that browsers never add by themselves, so no request can be forged
from another site (no cookie, no CSRF). Requests are rate limited per client address, failed
authentications more tightly. Every action, refused ones included, is audit-logged.

Each endpoint is declared once with `operation(…)`: its scope, its audit action, and its
input and output marshmallow schemas, which drive the parsing of the request, the dumping of
the answer and the OpenAPI document alike. Errors are problem details (ProblemOut).
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context
from flask_babel import gettext as _
from marshmallow import Schema
from werkzeug.exceptions import RequestEntityTooLarge

from migrations import spreadsheet
from migrations.accounts import services as accounts
from migrations.admin import audit, openapi, tokens
from migrations.admin.models import AdminToken
from migrations.admin.schemas import (
    AccountOut,
    CutoverIn,
    CutoverOut,
    ErrorsPageOut,
    JobListOut,
    JobOut,
    JobStartForm,
    JobStartIn,
    PageQuery,
    RevertIn,
    RevertOut,
    TokenOut,
)
from migrations.export.reader import ExportFormatError
from migrations.jobs import runner, services
from migrations.lazy import cutover
from modern import json_api
from modern.db import db
from modern.errors import (
    DomainError,
    Forbidden,
    InvalidRequest,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from modern.i18n import N_
from modern.licences.record import normalise_numero
from modern.logs import mask_numero
from modern.settings import Settings
from modern.throttling import StoreUnavailable, client_address

log = logging.getLogger("telepoints.admin")
blueprint = Blueprint("migrations_admin_api", __name__, url_prefix="/admin/api")
FAILED_AUTH_PER_MINUTE = 10
JSON, CSV, MULTIPART = "application/json", "text/csv", "multipart/form-data"


class TooLarge(DomainError):
    status = 413
    code = "TROP_VOLUMINEUX"


@dataclass(frozen=True, kw_only=True)
class Operation(json_api.Operation):
    scope: str
    action: str  # its name in the audit log
    form: type[Schema] | None = None  # multipart, with the export in `fichier`

    @property
    def responses(self) -> tuple[int, ...]:
        return self.answers({401, 403, 429, 503} | ({400} if self.form else set()))


OPERATIONS: list[Operation] = []


def operation(rule: str, method: str = "GET", *, summary: str, tag: str, scope: str,
              action: str, output: type[Schema] | None, status: int = 200,
              description: str = "", query: type[Schema] | None = None,
              body: type[Schema] | None = None, form: type[Schema] | None = None,
              errors: tuple[int, ...] = ()) -> Callable[..., Any]:
    """Declares an endpoint: checks the token's scope, parses the input with `query`,
    `body` (JSON) or `form` (multipart), and dumps what the view returns with `output`."""
    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        spec = Operation(rule=rule, method=method, name=view.__name__, summary=summary,
                         description=description, tag=tag, scope=scope, action=action,
                         output=output, status=status, query=query, body=body, form=form,
                         errors=errors)

        @functools.wraps(view)
        def handler(**kwargs: Any) -> Response:
            token: AdminToken = g.admin_token
            if spec.scope not in token.scopes.split():
                _refuse(spec.action, f"scope {spec.scope} missing")
                raise Forbidden(_("Ce jeton n'a pas la portée %(scope)s.", scope=spec.scope))
            g.audit_action = spec.action
            if spec.query is not None:
                kwargs["query"] = json_api.load(spec.query(), request.args.to_dict())
            if spec.form is not None:
                # Exports are larger than ordinary requests: their own limit (413 beyond),
                # set before the form is read.
                request.max_content_length = _settings().migration_upload_max_bytes
            if spec.form is not None and request.mimetype == MULTIPART:
                kwargs["form"] = json_api.load(spec.form(), request.form.to_dict())
            elif spec.body is not None:
                kwargs["body"] = json_api.load(spec.body(), json_api.json_body())
            result = view(**kwargs)
            if isinstance(result, Response):
                return result
            assert spec.output is not None
            response = jsonify(spec.output().dump(result))
            response.status_code = spec.status
            return response

        blueprint.add_url_rule(rule, view.__name__, handler, methods=[method])
        OPERATIONS.append(spec)
        return handler

    return register


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
        raise Unavailable(N_("Service momentanément indisponible.")) from None
    if not decision.allowed:
        raise TooManyRequests(N_("Trop de requêtes : réessayez plus tard."),
                              retry_after=decision.retry_after)


def _refuse(action: str, reason: str, outcome: str = "refused",
            target: str | None = None) -> None:
    """A refused request leaves a trace even though its own transaction is rolled back."""
    db.session.rollback()
    audit.record(db.session(), actor=getattr(g.get("admin_token"), "name", "anonyme"),
                 action=action, outcome=outcome, target=target, details={"reason": reason},
                 request_id=g.get("request_id"), client=client_address())
    db.session.commit()
    g.audited = True


# -- policy for the whole blueprint ----------------------------------------------------------

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
        raise Unauthorized(N_("Jeton d'administration absent, invalide ou expiré."))
    g.admin_token = token


# Values no endpoint can use (NUL, integers past 32 bits): 404 or 400, once the token is known.
blueprint.before_request(json_api.refuse_unusable_input)



@blueprint.after_request
def _audit_every_authenticated_request(response: Response) -> Response:
    """Whatever its end (a refusal: 400, 403, 404, 409, 410, 413…; an error: 500), an
    authenticated request leaves its audit line; the views write their own on success.
    Requests without a valid token were traced by `_authenticate` (or refused by the rate
    limit before any token was read: those are not written, so that a flood costs no write)."""
    status = response.status_code
    if g.get("audited") or g.get("admin_token") is None or (
            status < 400 and g.get("audited_by_view")):
        return response
    outcome = "ok" if status < 400 else "refused" if status < 500 else "error"
    action = g.get("audit_action") or f"{request.method} {request.endpoint}"[:40]
    try:
        _refuse(action, g.get("refusal") or str(status), outcome, _target())
    except Exception:  # the answer still goes out; the log line says what was not written
        db.session.rollback()
        log.exception("admin audit line not written", extra={"event": "admin_audit_failed",
                                                             "action": action})
    return response


def _target() -> str | None:
    """What the request named: a job id, or a masked file number."""
    arguments = request.view_args or {}
    if "job_id" in arguments:
        return str(arguments["job_id"])[:64]
    if "numero" in arguments:
        return mask_numero(str(arguments["numero"]))[:64]
    return None


@blueprint.errorhandler(DomainError)
def _problem(error: DomainError) -> Response:
    g.refusal = error.code
    return json_api.problem_of(error, authenticate='Bearer realm="admin"')


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> Response:
    limit = _settings().migration_upload_max_bytes // (1024 * 1024)
    return _problem(TooLarge(_("Fichier trop volumineux : %(mio)s Mio au plus.", mio=limit)))


def _audit(target: str | None = None, **details: Any) -> None:
    token: AdminToken = g.admin_token
    audit.record(db.session(), actor=token.name, action=g.audit_action, target=target,
                 details=details or None, request_id=g.get("request_id"),
                 client=client_address())
    g.audited_by_view = True  # written with the view's own work, in its transaction


def _job(job_id: int) -> dict[str, Any]:
    return services.status(db.session(), job_id).as_dict()


def _launch(job_id: int) -> None:
    runner.start_thread(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]


def _adopt_orphans() -> None:
    """A running job whose workers all died (its web process was killed) is taken up here,
    by the next web process an admin reaches: no manual resume is needed."""
    runner.adopt_orphans(current_app._get_current_object())  # type: ignore[attr-defined]


# -- the document ----------------------------------------------------------------------------

@blueprint.get("/openapi.json")
def document() -> Response:
    """The OpenAPI 3 document of this API (for any valid token: it describes, it holds no
    data)."""
    return jsonify(openapi.DOCUMENT.cached(
        current_app._get_current_object(), OPERATIONS))  # type: ignore[attr-defined]


# -- jobs -------------------------------------------------------------------------------------

@operation("/jobs", summary="Les derniers travaux de migration", tag="Travaux",
           scope=tokens.READ, action="job.list", output=JobListOut,
           description="Les 50 derniers travaux, du plus récent au plus ancien, avec leurs "
                       "compteurs (qui s'additionnent toujours au nombre de lignes lues).")
def list_jobs() -> dict[str, Any]:
    _adopt_orphans()
    jobs = services.list_jobs(db.session(), 50)
    _audit()
    db.session.commit()
    return {"items": [job.as_dict() for job in jobs]}


def _server_file(name: str) -> Path:
    """A file of MIGRATION_FILES_DIR, by its name only: no other path can be read."""
    folder = _settings().migration_files_dir
    if not folder:
        raise Forbidden(N_("Aucun dossier d'exports n'est configuré (MIGRATION_FILES_DIR)."))
    base = Path(folder).resolve()
    path = (base / name).resolve()
    try:
        found = path.parent == base and path.is_file()
    except OSError:  # a name the file system cannot hold (too long in bytes): none such
        found = False
    if not found:
        raise NotFound(N_("Aucun export de ce nom dans le dossier des exports."))
    return path


@operation("/jobs", "POST", summary="Lancer un travail de migration", tag="Travaux",
           scope=tokens.WRITE, action="job.create", output=JobOut, status=202,
           body=JobStartIn, form=JobStartForm, errors=(404, 413),
           description="L'export est envoyé dans le champ `fichier` d'un formulaire "
                       "multipart, ou désigné par son nom dans le dossier des exports du "
                       "serveur (JSON). La réponse arrive tout de suite (202) ; le travail "
                       "avance ensuite : suivre `Location`.")
def create_job(body: dict[str, Any] | None = None,
               form: dict[str, Any] | None = None) -> Response:
    if form is not None:
        options = form
        upload = request.files.get("fichier")
        uploaded = json_api.file_name(upload, "fichier")
        if upload is None or uploaded is None:
            raise InvalidRequest(N_("Joignez l'export dans le champ « fichier »."),
                                 errors={"fichier": [N_("Champ obligatoire manquant.")]})
        name, stream = uploaded, upload.stream
    else:
        assert body is not None
        options = body
        path = _server_file(options["chemin"])
        name, stream = path.name, path.open("rb")
    try:
        with stream:
            job = services.create_job(db.session(), stream, source_name=name,
                                      created_by=g.admin_token.name,
                                      dry_run=options["dry_run"])
    except ExportFormatError as exc:
        raise InvalidRequest(_("Ce fichier n'est pas un export Télépoints : %(reason)s",
                               reason=str(exc))) from None
    job_id = job.id
    if options["demarrer"]:
        services.start(db.session(), job_id)
    _audit(str(job_id), source=name, dry_run=options["dry_run"], lines=job.line_count)
    db.session.commit()
    if options["demarrer"]:
        _launch(job_id)
    response = jsonify(JobOut().dump(_job(job_id)))
    response.status_code = 202
    response.headers["Location"] = f"{blueprint.url_prefix}/jobs/{job_id}"
    return response


@operation("/jobs/<int:job_id>", summary="État d'un travail", tag="Travaux",
           scope=tokens.READ, action="job.status", output=JobOut, errors=(404,))
def job_status(job_id: int) -> dict[str, Any]:
    _adopt_orphans()
    result = _job(job_id)
    _audit(str(job_id))
    db.session.commit()
    return result


@operation("/jobs/<int:job_id>/errors", summary="Lignes non migrées d'un travail, par pages",
           tag="Travaux", scope=tokens.READ, action="job.errors", output=ErrorsPageOut,
           query=PageQuery, errors=(404, 410),
           description="Toutes les lignes sauf MIGRE, dans l'ordre du fichier, avec leur "
                       "résultat et leur motif. Page suivante : `after=next_after`. 410 : "
                       "lignes effacées à la fin de leur durée de conservation.")
def job_errors(job_id: int, query: dict[str, Any]) -> dict[str, Any]:
    lines = list(services.report_lines(db.session(), job_id, only_issues=True,
                                       after_line=query["after"], limit=query["limit"] + 1))
    more = len(lines) > query["limit"]
    lines = lines[:query["limit"]]
    _audit(str(job_id), after=query["after"])
    db.session.commit()
    return {"items": [vars(line) for line in lines],
            "next_after": lines[-1].ligne if more else None}


@operation("/jobs/<int:job_id>/report", summary="Rapport complet d'un travail (CSV)",
           tag="Travaux", scope=tokens.READ, action="job.report", output=None,
           errors=(404, 410),
           description="Une ligne par ligne du fichier : `ligne;numero;resultat;motif` "
                       "(en-tête = ligne 1). 410 : lignes effacées à la fin de leur durée "
                       "de conservation.")
def job_report(job_id: int) -> Response:
    services.job_with_lines(db.session(), job_id)
    _audit(str(job_id))
    db.session.commit()

    def rows() -> Iterator[str]:
        yield "ligne;numero;resultat;motif\n"
        buffer = io.StringIO()
        writer = spreadsheet.Writer(buffer)
        for line in services.report_lines(db.session(), job_id):
            writer.writerow((line.ligne, line.numero, line.resultat, line.motif))
            if buffer.tell() > 65536:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(rows()), mimetype=CSV)
    response.headers["Content-Disposition"] = f'attachment; filename="rapport-{job_id}.csv"'
    return response


@operation("/jobs/<int:job_id>/stop", "POST", summary="Arrêter un travail", tag="Travaux",
           scope=tokens.WRITE, action="job.stop", output=JobOut, status=202,
           errors=(404, 409),
           description="Les exécutants s'arrêtent après leur lot en cours (« stopping », "
                       "puis « stopped »). Un travail sans exécutant s'arrête tout de suite.")
def stop_job(job_id: int) -> dict[str, Any]:
    services.stop(db.session(), job_id, lease_seconds=_settings().migration_lease_seconds)
    _audit(str(job_id))
    db.session.commit()
    return _job(job_id)


@operation("/jobs/<int:job_id>/resume", "POST", summary="Reprendre un travail", tag="Travaux",
           scope=tokens.WRITE, action="job.resume", output=JobOut, status=202,
           errors=(404, 409, 410),
           description="Reprend au dernier point de contrôle un travail créé, arrêté, en "
                       "échec ou interrompu (410 : ses lignes ont été effacées).")
def resume_job(job_id: int) -> dict[str, Any]:
    services.resume(db.session(), job_id)
    _audit(str(job_id))
    db.session.commit()
    _launch(job_id)
    return _job(job_id)


# -- accounts ---------------------------------------------------------------------------------

@operation("/accounts/<numero>", summary="Un dossier migré", tag="Comptes",
           scope=tokens.READ, action="account.show", output=AccountOut, errors=(404,))
def show_account(numero: str) -> Any:
    account = accounts.find(db.session(), numero)
    _audit(mask_numero(account.numero))
    db.session.commit()
    return account


@operation("/accounts/<numero>/revert", "POST", summary="Annuler la migration d'un dossier",
           tag="Comptes", scope=tokens.REVERT, action="account.revert", output=RevertOut,
           body=RevertIn, errors=(404, 409),
           description="Le dossier repasse du côté de l'ancien service : le code et les "
                       "coordonnées venus de la migration sont retirés ; le prochain "
                       "passage ou la prochaine utilisation le migre à nouveau. Le corps "
                       "recopie le numéro de dossier dans `confirmation` (400 sinon). 409 : "
                       "délai d'annulation dépassé.")
def revert_account(numero: str, body: dict[str, Any]) -> dict[str, Any]:
    if normalise_numero(body["confirmation"]) != normalise_numero(numero):
        raise InvalidRequest(N_("La confirmation ne nomme pas ce dossier : rien n'est annulé."),
                             errors={"confirmation": [N_("Recopiez le numéro de dossier.")]})
    result = accounts.revert(db.session(), numero)
    _audit(mask_numero(result.numero), source=result.source, codes_removed=result.codes_removed)
    db.session.commit()
    return vars(result)


# -- the token in use -------------------------------------------------------------------------

@operation("/token", summary="Le jeton de la requête", tag="Jetons", scope=tokens.READ,
           action="token.show", output=TokenOut,
           description="Son nom, ses portées et son expiration : qui agit (l'en-tête de la "
                       "page d'administration le montre).")
def show_token() -> dict[str, Any]:
    token: AdminToken = g.admin_token
    _audit()
    db.session.commit()
    return {"name": token.name, "scopes": token.scopes.split(), "expires_at": token.expires_at}


# -- cutover ----------------------------------------------------------------------------------

@operation("/cutover", summary="Tableau de bascule", tag="Bascule", scope=tokens.READ,
           action="cutover.show", output=CutoverOut,
           description="Comptes migrés (en masse, à la première utilisation), lignes en "
                       "attente et en échec, trafic vers l'ancien service des 14 derniers "
                       "jours, et le mode de bascule.")
def show_cutover() -> dict[str, Any]:
    panel = cutover.panel(db.session(), _settings())
    _audit()
    db.session.commit()
    return panel.as_dict()


@operation("/cutover", "PUT", summary="Changer le mode de bascule", tag="Bascule",
           scope=tokens.CUTOVER, action="cutover.set", output=CutoverOut, body=CutoverIn,
           description="Le corps recopie le mode dans `confirmation` (400 sinon) : "
                       "`{\"mode\": \"off\", \"confirmation\": \"off\"}`.")
def set_cutover(body: dict[str, Any]) -> dict[str, Any]:
    cutover.set_mode(db.session(), body["mode"], g.admin_token.name)
    _audit(body["mode"])
    db.session.commit()
    log.warning("cutover mode changed", extra={"event": "cutover", "mode": body["mode"],
                                               "actor": g.admin_token.name})
    return cutover.panel(db.session(), _settings()).as_dict()
