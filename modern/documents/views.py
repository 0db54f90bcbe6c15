"""`/verifier`: anybody (insurer, employer, car rental) checks a document of ours."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, render_template, request

from modern.documents.keys import KeyRing
from modern.documents.pdf import code_in_pdf, typed_code
from modern.documents.verification import check

blueprint = Blueprint("documents", __name__)
MAX_PDF_BYTES = 2 * 1024 * 1024


def seal_keys() -> KeyRing:
    keys: KeyRing = current_app.extensions["seal_keys"]
    return keys


@blueprint.route("/verifier", methods=["GET", "POST"])
def verifier() -> tuple[str, int]:
    code = ""
    problem = ""
    if request.method == "POST":
        upload = request.files.get("document")
        if upload and upload.filename:
            data = upload.read(MAX_PDF_BYTES + 1)
            found = code_in_pdf(data) if len(data) <= MAX_PDF_BYTES else None
            if found is None:
                problem = "Ce fichier n'est pas un document PDF émis par ce service."
            code = found or ""
        else:
            code = typed_code(request.form.get("code", ""))
            if not code:
                problem = "Saisissez le code du document ou joignez le fichier PDF."
    outcome = check(code, seal_keys(), dt.date.today()) if code else None
    status = 200 if outcome is None or outcome.valid else 422
    if problem:
        status = 422
    return render_template("documents/verifier.html", outcome=outcome, problem=problem,
                           code=request.form.get("code", "")), status
