"""Input and output schemas of the admin API (marshmallow), separate for each direction.

Inputs refuse unknown fields. Outputs mark every field the API always sends as required, so
that the OpenAPI document (openapi.py) says exactly what a client receives.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate, validates_schema

from migrations.admin.tokens import SCOPES
from migrations.jobs.models import OUTCOMES, STATES
from migrations.lazy.models import MODES
from modern.validation_messages import ApiSchema

PHASES = ("stage", "apply", "done")


class UtcDateTime(fields.DateTime):
    """ISO 8601 with its offset, always: SQLite hands datetimes back without their zone, and
    they are UTC."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def _out(field: type[fields.Field], description: str = "", **options: Any) -> Any:
    """A field every answer holds (null only where `allow_none`)."""
    metadata = {"description": description} if description else {}
    return field(required=True, metadata=metadata, **options)


# -- inputs --------------------------------------------------------------------------------------

class JobStartIn(ApiSchema):
    """JSON body of `POST /jobs`: an export already in the server's exports folder."""

    chemin = fields.String(required=True, validate=validate.Length(1, 255), metadata={
        "description": "Nom du fichier dans le dossier des exports (MIGRATION_FILES_DIR)"})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Simulation : le rapport d'un vrai passage, sans rien écrire"})
    demarrer = fields.Boolean(load_default=True, metadata={
        "description": "Lancer le travail tout de suite (sinon : état « created »)"})


class JobStartForm(ApiSchema):
    """Fields of the multipart form of `POST /jobs` beside the file (`fichier`)."""

    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Simulation : le rapport d'un vrai passage, sans rien écrire"})
    demarrer = fields.Boolean(load_default=True, metadata={
        "description": "Lancer le travail tout de suite (sinon : état « created »)"})


class PageQuery(ApiSchema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0), metadata={
        "description": "Numéro de ligne après lequel reprendre (0 : depuis le début)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class CutoverIn(ApiSchema):
    mode = fields.String(required=True, validate=validate.OneOf(MODES), metadata={
        "description": "migration : vérification par l'ancien service puis migration ; "
                       "legacy : vérification par l'ancien service, rien n'est migré ; "
                       "off : l'ancien service n'est plus jamais interrogé"})
    confirmation = fields.String(required=True, validate=validate.Length(1, 20), metadata={
        "description": "Le mode, recopié : sans lui le mode ne change pas (un changement "
                       "de mode ne se fait pas par accident)"})

    @validates_schema
    def _confirmed(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["confirmation"] != data["mode"]:
            raise ValidationError(_("Recopiez le mode choisi : « %(mode)s ».", mode=data["mode"]),
                                  "confirmation")


class RevertIn(ApiSchema):
    confirmation = fields.String(required=True, validate=validate.Length(1, 64), metadata={
        "description": "Le numéro de dossier, recopié (espaces et minuscules acceptés) : "
                       "sans lui rien n'est annulé"})


# -- outputs -------------------------------------------------------------------------------------

class ProblemOut(ApiSchema):
    """RFC 9457 problem details; `code` is stable, `detail` is in the request's language."""

    type = _out(fields.String)
    title = _out(fields.String)
    status = _out(fields.Integer)
    code = _out(fields.String)
    detail = _out(fields.String)
    request_id = _out(fields.String, allow_none=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={
        "description": "Pour une requête invalide : les champs refusés et pourquoi"})


class JobOut(ApiSchema):
    id = _out(fields.Integer)
    state = _out(fields.String, validate=validate.OneOf(STATES))
    phase = _out(fields.String, validate=validate.OneOf(PHASES))
    dry_run = _out(fields.Boolean)
    source_name = _out(fields.String)
    source_sha256 = _out(fields.String)
    source_bytes = _out(fields.Integer)
    created_by = _out(fields.String)
    created_at = _out(UtcDateTime)
    started_at = _out(UtcDateTime, allow_none=True)
    finished_at = _out(UtcDateTime, allow_none=True)
    heartbeat_at = _out(UtcDateTime, "Dernier signe de vie d'un exécutant",
                        allow_none=True)
    error = _out(fields.String, allow_none=True)
    lines = _out(fields.Integer, "Lignes de données du fichier")
    staged = _out(fields.Integer, "Lignes lues (première phase)")
    read = _out(fields.Integer, "Lignes traitées : somme des six compteurs suivants")
    migrated = _out(fields.Integer)
    ignored_doublon = _out(fields.Integer)
    ignored_clos = _out(fields.Integer)
    ignored_deja_migre = _out(fields.Integer)
    updated = _out(fields.Integer, "Lignes MIS_A_JOUR : code réémis par Télépoints depuis la "
                                   "migration, remplacé ici")
    rejected = _out(fields.Integer)
    progress = _out(fields.Float, "Avancement des deux phases, de 0 à 1")


class JobListOut(ApiSchema):
    items = _out(fields.List, cls_or_instance=fields.Nested(JobOut))


class ReportLineOut(ApiSchema):
    ligne = _out(fields.Integer, "Numéro de ligne dans le fichier (en-tête = 1)")
    numero = _out(fields.String, "Numéro de dossier tel qu'écrit dans le fichier")
    resultat = _out(fields.String, validate=validate.OneOf(OUTCOMES))
    motif = _out(fields.String)


class ErrorsPageOut(ApiSchema):
    items = _out(fields.List, cls_or_instance=fields.Nested(ReportLineOut))
    next_after = _out(fields.Integer, "Valeur de `after` pour la page suivante (null : fin)",
                      allow_none=True)


class AccountOut(ApiSchema):
    numero = _out(fields.String)
    source = _out(fields.String, validate=validate.OneOf(("bulk", "lazy")))
    job_id = _out(fields.Integer, allow_none=True)
    line = _out(fields.Integer, allow_none=True)
    migrated_at = _out(UtcDateTime)
    legacy_statut = _out(fields.String)
    legacy_failures = _out(fields.Integer)
    legacy_locked_until = _out(UtcDateTime, allow_none=True)
    code_imported = _out(fields.Boolean)
    legacy_used_on = _out(fields.Date, "Dernier jour où un logiciel ou l'ancien site a utilisé "
                                       "le code de ce dossier ici (UTC)", allow_none=True)


class RevertOut(ApiSchema):
    numero = _out(fields.String)
    source = _out(fields.String)
    job_id = _out(fields.Integer, allow_none=True)
    codes_removed = _out(fields.Integer)
    contact_removed = _out(fields.Boolean)


class TokenOut(ApiSchema):
    name = _out(fields.String, "Le nom du jeton : celui de l'agent ou de l'outil qui agit")
    scopes = _out(fields.List, cls_or_instance=fields.String(validate=validate.OneOf(SCOPES)))
    expires_at = _out(UtcDateTime, allow_none=True)


class TrafficOut(ApiSchema):
    day = _out(fields.String, "Jour (UTC), AAAA-MM-JJ")
    result = _out(fields.String)
    count = _out(fields.Integer)


class CutoverOut(ApiSchema):
    mode = _out(fields.String, validate=validate.OneOf(MODES))
    legacy_backend_configured = _out(fields.Boolean)
    lazy_migration_active = _out(fields.Boolean)
    migrated = _out(fields.Integer)
    migrated_bulk = _out(fields.Integer)
    migrated_lazy = _out(fields.Integer)
    pending = _out(fields.Integer, "Lignes des travaux non terminés encore à traiter")
    failed = _out(fields.Integer, "Lignes rejetées par le dernier travail terminé")
    failed_jobs = _out(fields.Integer)
    legacy_traffic = _out(fields.List, cls_or_instance=fields.Nested(TrafficOut))
