"""The JSON API under /api/v1: the holder's licence, balance, history, forecast and documents,
and the public verification of a document.

Authentication policy, in one place. The holder's endpoints take the holder's web session,
the same server-side session and cookie as the pages (FranceConnect or account sign-in, idle
and absolute expiry): no other credential exists for them. There is deliberately no bearer
token for holders: a token is easy to hand to somebody else, and an employer, an insurer or a
"fleet check" service asking drivers for one would obtain the points the law keeps from them
(Code de la route L223-7), as the scrapers of Télépoints did with the confidential code.
Third parties use the verification endpoint, which needs no authentication and shows no points.
Every endpoint only reads (GET) except the verification, which changes nothing and uses no
session: a forged cross-site request gains nothing, so no CSRF token is asked. Requests are
rate limited per client address on the shared counters, like the pages; past the limit: 429
with Retry-After.

Each endpoint is declared once with `operation(…)`: its input and output marshmallow schemas
drive both the request parsing and the OpenAPI document (`openapi.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from marshmallow import Schema

from modern import json_api
from modern.accounts.sessions import SessionStoreUnavailable
from modern.consultation import documents, openapi
from modern.consultation.holder import Holder, current_holder, overview_of
from modern.consultation.overview import Overview
from modern.consultation.schemas import (
    DocumentsSchema,
    HistoriqueQuerySchema,
    HistoriqueSchema,
    PermisSchema,
    PrevisionsSchema,
    SoldeSchema,
    VerificationInSchema,
    VerificationSchema,
)
from modern.documents.keys import KeyRing
from modern.documents.pdf import typed_code
from modern.documents.verification import check
from modern.errors import (
    DomainError,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from modern.i18n import N_
from modern.points.services import today_in_paris
from modern.throttling import StoreUnavailable, client_address, throttling

blueprint = Blueprint("api_v1", __name__, url_prefix="/api/v1")
PREFIX = "/api/v1"
JSON = "application/json"
PDF = "application/pdf"
# Translated where the problem is written (modern/errors.py: `problem`).
UNAVAILABLE = N_("Service momentanément indisponible. Réessayez dans quelques minutes.")


@dataclass(frozen=True, kw_only=True)
class Operation(json_api.Operation):
    holder: bool = True  # takes the signed-in holder's session
    path_parameters: tuple[dict[str, Any], ...] = field(default=())

    @property
    def responses(self) -> tuple[int, ...]:
        # 404 for a holder: the account's file is not in the national file
        return self.answers({429, 503} | ({401, 404} if self.holder else set()))


OPERATIONS: list[Operation] = []


def operation(rule: str, method: str = "GET", *, summary: str, tag: str,
              output: type[Schema] | None, description: str = "",
              query: type[Schema] | None = None, body: type[Schema] | None = None,
              holder: bool = True, errors: tuple[int, ...] = (), status: int = 200,
              path_parameters: tuple[dict[str, Any], ...] = ()) -> Callable[..., Any]:
    """Declares an endpoint: parses its input with `query` / `body`, hands the view the
    signed-in holder when `holder`, and dumps what the view returns with `output`."""
    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        spec = Operation(rule=rule, method=method, name=view.__name__, summary=summary,
                         description=description, tag=tag, output=output, query=query,
                         body=body, holder=holder, errors=errors, status=status,
                         path_parameters=path_parameters)

        @functools.wraps(view)
        def handler(**kwargs: Any) -> Response:
            if spec.holder:
                kwargs["holder"] = _holder()
            if spec.query is not None:
                kwargs["query"] = json_api.load(spec.query(), request.args.to_dict())
            if spec.body is not None:
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


def _holder() -> Holder:
    found = current_holder()
    if found is None:
        raise Unauthorized(_("Connectez-vous au service (FranceConnect ou compte) : cette "
                             "ressource utilise la session de votre navigateur."))
    return found


# -- policy for the whole blueprint ------------------------------------------------------------


@blueprint.before_request
def _rate_limit() -> None:
    if request.endpoint == "api_v1.consult_share":
        return  # counted by the share codes' own throttling (modern/sharing/codes.py)
    scope = "verification" if request.endpoint == "api_v1.verify" else "api"
    try:
        decision = throttling().rate_limit.hit(scope, client_address())
    except StoreUnavailable:
        raise Unavailable(UNAVAILABLE) from None
    if not decision.allowed:
        raise TooManyRequests(_("Trop de requêtes : réessayez plus tard."),
                              retry_after=decision.retry_after)


# Values no endpoint can use (NUL, integers past 32 bits): 404 or 400.
blueprint.before_request(json_api.refuse_unusable_input)



@blueprint.errorhandler(SessionStoreUnavailable)
def _sessions_down(error: SessionStoreUnavailable) -> Response:
    return _problem(Unavailable(UNAVAILABLE))


@blueprint.errorhandler(DomainError)
def _problem(error: DomainError) -> Response:
    return json_api.problem_of(error, authenticate='Cookie realm="mes-points-permis"')


# -- the holder's resources ----------------------------------------------------------------------


@operation("/permis", summary="Le permis du titulaire", tag="Titulaire", output=PermisSchema,
           description="Identité, état (valide, suspendu, invalidé, annulé) et suspensions, "
                       "période probatoire, catégories avec leur validité et leurs restrictions.")
def licence(holder: Holder) -> dict[str, Any]:
    o = overview_of(holder)
    record = holder.record
    probation = record.probatoire
    return {
        "numero_dossier": record.numero_dossier, "titulaire": record.titulaire,
        "etat": record.etat_permis, "etat_libelle": o.status_label,
        "date_mise_a_jour": record.date_mise_a_jour,
        "suspensions": [{"date_debut": s.date_debut, "date_fin": s.date_fin,
                         "en_cours": s is o.current_suspension} for s in record.suspensions],
        "probatoire": None if probation is None else {
            "date_debut": probation.date_debut, "date_fin": o.probation_end,
            "aac": probation.aac, "formation_complementaire": probation.formation_complementaire,
            "en_cours": o.on_probation},
        "categories": [{
            "code": c.code, "libelle": c.label, "date_obtention": c.obtained_on,
            "date_fin_validite": c.valid_until,
            "restrictions": [{"code": code, "libelle": meaning or None}
                             for code, meaning in c.restrictions],
            "lourde": c.heavy, "expiree": c.expired, "a_renouveler": c.renew_soon}
            for c in o.categories],
    }


def _advice(o: Overview) -> list[dict[str, str]]:
    return [{"code": a.code, "niveau": a.level, "titre": a.title, "texte": a.text,
             "reference": a.reference} for a in o.advice]


@operation("/solde", summary="Le solde de points", tag="Titulaire", output=SoldeSchema,
           description="Le solde du fichier national (officiel) et la date de sa dernière mise "
                       "à jour, le solde que donnent les règles de l'article L223-6 à partir "
                       "des mouvements, l'écart éventuel, les restitutions échues que le "
                       "fichier n'a pas encore enregistrées, la période probatoire, le stage "
                       "obligatoire (R223-4) et les conseils utiles.")
def balance(holder: Holder) -> dict[str, Any]:
    o = overview_of(holder)
    b = o.bilan
    return {
        "solde": b.solde, "plafond": b.plafond, "date_mise_a_jour": holder.record.date_mise_a_jour,
        "jours_depuis_mise_a_jour": o.days_since_update, "date_solde": b.date_solde,
        "solde_recalcule": b.solde_recalcule, "ecart": b.ecart, "solde_au_jour": b.solde_au_jour,
        "en_attente": b.en_attente, "en_probatoire": b.en_probatoire,
        "date_fin_probatoire": b.date_fin_probatoire, "invalide": b.invalide,
        "stage_obligatoire": b.stage_obligatoire, "conseils": _advice(o),
    }


@operation("/historique", summary="L'historique des dix dernières années", tag="Titulaire",
           output=HistoriqueSchema, query=HistoriqueQuerySchema,
           description="Retraits, stages, restitutions et invalidation enregistrés depuis dix "
                       "ans, du plus récent au plus ancien, avec la façon dont la loi les a "
                       "comptés quand ce n'est pas en entier.")
def history(holder: Holder, query: dict[str, Any]) -> dict[str, Any]:
    o = overview_of(holder)
    wanted = query.get("type")
    return {
        "depuis": o.history_since, "mouvements_plus_anciens": o.older_movements,
        "mouvements": [{
            "id": h.id, "type": h.type, "nature": h.nature, "date_valeur": h.date_valeur,
            "points": h.points, "date_infraction": h.date_infraction, "classe": h.classe,
            "libelle": h.libelle, "lieu": h.lieu, "motif": h.motif, "remarque": h.remark}
            for h in o.history if wanted is None or h.type == wanted],
    }


@operation("/previsions", summary="Les prochaines restitutions de points", tag="Titulaire",
           output=PrevisionsSchema,
           description="Les restitutions automatiques à venir (article L223-6, fin de période "
                       "probatoire), chacune avec sa raison, en supposant qu'aucune nouvelle "
                       "infraction ne soit commise.")
def forecast(holder: Holder) -> dict[str, Any]:
    o = overview_of(holder)
    return {"date_reference": o.today, "restitutions": o.forecast,
            "date_solde_maximal": o.full_balance_on,
            "avertissement": _("Ces dates supposent qu'aucune nouvelle infraction entraînant "
                               "un retrait de points ne soit commise (article L223-6 du Code "
                               "de la route).")}


@operation("/documents", summary="Les documents disponibles", tag="Documents",
           output=DocumentsSchema,
           description="L'attestation de droits à conduire pour tous ; le relevé "
                       "d'information intégral seulement dans une session ouverte avec "
                       "FranceConnect.")
def document_list(holder: Holder) -> dict[str, Any]:
    offers = []
    for offer in documents.OFFERS:
        available = documents.allowed(holder, offer)
        offers.append({
            "type": offer.slug, "titre": offer.label, "description": offer.text,
            "disponible": available,
            "motif": None if available else _("Connexion avec FranceConnect nécessaire."),
            "url": url_for("api_v1.document", kind=offer.slug) if available else None})
    return {"documents": offers}


@operation("/documents/<kind>", summary="Télécharger un document (PDF scellé)",
           tag="Documents", output=None, errors=(403,),
           description="Le PDF porte un cachet électronique (code 2D signé ECDSA P-256) "
                       "vérifiable sur /verifier ou par POST /api/v1/verifications.",
           path_parameters=({"name": "kind", "in": "path", "required": True,
                             "schema": {"type": "string",
                                        "enum": [o.slug for o in documents.OFFERS]}},))
def document(holder: Holder, kind: str) -> Response:
    today = today_in_paris()
    issued = documents.issue(holder, kind, _keys(), today, documents.verification_address())
    response = Response(issued.pdf, mimetype=PDF)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{documents.filename(kind, today)}"')
    return response


# -- the public verification -----------------------------------------------------------------------


def _keys() -> KeyRing:
    keys: KeyRing = current_app.extensions["seal_keys"]
    return keys


@operation("/verifications", "POST", summary="Vérifier un document", tag="Vérification",
           output=VerificationSchema, body=VerificationInSchema, holder=False,
           description="Pour un tiers (assureur, employeur, loueur) : le code du document "
                       "est-il authentique et non modifié, quelle clé l'a signé, est-il "
                       "expiré, et quels champs atteste-t-il. Jamais le solde de points "
                       "(article L223-7 du Code de la route). Sans authentification.")
def verify(body: dict[str, Any]) -> dict[str, Any]:
    outcome = check(typed_code(body["code"]), _keys(), today_in_paris())
    return {
        "authentique": outcome.authentic, "valide": outcome.valid, "expire": outcome.expired,
        "motif": outcome.reason, "type_document": outcome.document_type or None,
        "cle": outcome.key_id or None, "emis_le": outcome.issued_on,
        "valable_jusqu_au": outcome.expires_on,
        "champs": [{"code": code, "libelle": label, "valeur": value}
                   for code, label, value in outcome.fields],
    }


@blueprint.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3 document of this API, generated from the declarations above."""
    return jsonify(openapi.DOCUMENT.cached(
        current_app._get_current_object(), OPERATIONS))  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)


