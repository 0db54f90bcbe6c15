"""`/verifier`: anybody (insurer, employer, car rental) checks a document of ours.

The page takes no account and changes nothing, so its form carries no CSRF token (asking for
one would open a server-side session for every anonymous visitor); it is rate limited per
client address instead, like the JSON verification. Expiry is judged on today's date in Paris.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _

from modern.documents import publication
from modern.documents.keys import KeyRing
from modern.documents.pdf import code_in_pdf, typed_code, updated_after_issue
from modern.documents.verification import check
from modern.points.services import today_in_paris
from modern.throttling import StoreUnavailable, client_address, throttling

blueprint = Blueprint("documents", __name__)
MAX_PDF_BYTES = 2 * 1024 * 1024


def seal_keys() -> KeyRing:
    keys: KeyRing = current_app.extensions["seal_keys"]
    return keys


def _refused() -> Response | None:
    try:
        decision = throttling().rate_limit.hit("verification", client_address())
    except StoreUnavailable:
        return Response(render_template(
            "documents/verifier.html", outcome=None, code="",
            problem=_("Le service ne peut pas vérifier de document pour le moment. Réessayez "
                      "dans quelques minutes.")), 503)
    if decision.allowed:
        return None
    response = Response(render_template(
        "documents/verifier.html", outcome=None, code="",
        problem=_("Trop de vérifications en peu de temps. Patientez une minute.")), 429)
    response.headers["Retry-After"] = str(decision.retry_after)
    return response


@blueprint.route("/verifier", methods=["GET", "POST"])
def verifier() -> Response | tuple[str, int]:
    code = ""
    problem = ""
    if request.method == "POST":
        if (refused := _refused()) is not None:
            return refused
        upload = request.files.get("document")
        if upload and upload.filename:
            data = upload.read(MAX_PDF_BYTES + 1)
            found = code_in_pdf(data) if len(data) <= MAX_PDF_BYTES else None
            if found is None:
                problem = (_("Ce PDF a été modifié après son émission (plusieurs cachets ou "
                             "mises à jour) : il n'est pas reconnu.")
                           if updated_after_issue(data) else
                           _("Ce fichier n'est pas un document PDF émis par ce service."))
            code = found or ""
        else:
            code = typed_code(request.form.get("code", ""))
            if not code:
                problem = _("Saisissez le code du document ou joignez le fichier PDF.")
    outcome = check(code, seal_keys(), today_in_paris()) if code else None
    status = 200 if outcome is None or outcome.valid else 422
    if problem:
        status = 422
    return render_template("documents/verifier.html", outcome=outcome, problem=problem,
                           code=request.form.get("code", "")), status


@blueprint.get(publication.PATH)
def published_keys() -> Response:
    """The public keys of document seals, for verifiers outside the service (JWKS). Public
    and the same for everybody: caches may keep it a few minutes, so a revocation shows
    everywhere within that time."""
    settings = current_app.config["SETTINGS"]
    response = jsonify(publication.key_set(seal_keys(), settings.public_url))
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
