"""Input and output schemas of the admin API (marshmallow), one pair per resource."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from migrations.jobs.models import OUTCOMES, STATES
from migrations.lazy.models import MODES


class JobStartIn(Schema):
    """JSON body of `POST /jobs` for a file already on the server (multipart otherwise)."""

    chemin = fields.String(required=True, validate=validate.Length(1, 255))
    dry_run = fields.Boolean(load_default=False)
    demarrer = fields.Boolean(load_default=True)


class JobStartForm(Schema):
    dry_run = fields.Boolean(load_default=False)
    demarrer = fields.Boolean(load_default=True)


class JobOut(Schema):
    id = fields.Integer()
    state = fields.String(validate=validate.OneOf(STATES))
    phase = fields.String()
    dry_run = fields.Boolean()
    source_name = fields.String()
    source_sha256 = fields.String()
    source_bytes = fields.Integer()
    created_by = fields.String()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
    lines = fields.Integer()
    staged = fields.Integer()
    read = fields.Integer()
    migrated = fields.Integer()
    ignored_doublon = fields.Integer()
    ignored_clos = fields.Integer()
    ignored_deja_migre = fields.Integer()
    rejected = fields.Integer()
    progress = fields.Float()


class PageQuery(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class ReportLineOut(Schema):
    ligne = fields.Integer()
    numero = fields.String()
    resultat = fields.String(validate=validate.OneOf(OUTCOMES))
    motif = fields.String()


class ErrorsPageOut(Schema):
    items = fields.List(fields.Nested(ReportLineOut))
    next_after = fields.Integer(allow_none=True)


class AccountOut(Schema):
    numero = fields.String()
    source = fields.String()
    job_id = fields.Integer(allow_none=True)
    line = fields.Integer(allow_none=True)
    migrated_at = fields.DateTime()
    legacy_statut = fields.String()
    legacy_failures = fields.Integer()
    legacy_locked_until = fields.DateTime(allow_none=True)
    code_imported = fields.Boolean()


class RevertOut(Schema):
    numero = fields.String()
    source = fields.String()
    job_id = fields.Integer(allow_none=True)
    codes_removed = fields.Integer()
    contact_removed = fields.Boolean()


class CutoverIn(Schema):
    mode = fields.String(required=True, validate=validate.OneOf(MODES))


class TrafficOut(Schema):
    day = fields.String()
    result = fields.String()
    count = fields.Integer()


class CutoverOut(Schema):
    mode = fields.String()
    legacy_backend_configured = fields.Boolean()
    lazy_migration_active = fields.Boolean()
    migrated = fields.Integer()
    migrated_bulk = fields.Integer()
    migrated_lazy = fields.Integer()
    pending = fields.Integer()
    failed = fields.Integer()
    failed_jobs = fields.Integer()
    legacy_traffic = fields.List(fields.Nested(TrafficOut))
