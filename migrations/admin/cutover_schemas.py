"""Input and output schemas of the admin API's cutover evidence: brownout windows, the
readiness, the parallel run and the client census."""

from __future__ import annotations

from marshmallow import fields, validate

from migrations.admin.schemas import UtcDateTime, _out
from modern.validation_messages import ApiSchema


class DaysQuery(ApiSchema):
    days = fields.Integer(load_default=14, validate=validate.Range(min=1, max=3650),
                          metadata={"description": "Nombre de jours en arrière"})


class BrownoutIn(ApiSchema):
    starts_at = fields.AwareDateTime(required=True, metadata={
        "description": "Début, ISO 8601 avec son décalage horaire"})
    ends_at = fields.AwareDateTime(required=True, metadata={
        "description": "Fin, ISO 8601 avec son décalage horaire"})
    share = fields.Float(load_default=1.0,
                         validate=validate.Range(min=0, max=1, min_inclusive=False),
                         metadata={"description": "Part des requêtes refusées (SERVICE_CLOS)"})


class BrownoutOut(ApiSchema):
    id = _out(fields.Integer)
    starts_at = _out(UtcDateTime)
    ends_at = _out(UtcDateTime)
    share = _out(fields.Float)


class BrownoutListOut(ApiSchema):
    items = _out(fields.List, cls_or_instance=fields.Nested(BrownoutOut))
    announcement = _out(fields.String, "Texte ajouté à l'avis de migration", allow_none=True)


class ReadinessLineOut(ApiSchema):
    name = _out(fields.String)
    label = _out(fields.String)
    figure = _out(fields.Float, allow_none=True)
    threshold = _out(fields.Float)
    ok = _out(fields.Boolean)


class ReadinessOut(ApiSchema):
    ready = _out(fields.Boolean, "Vrai quand chaque ligne est au vert")
    lines = _out(fields.List, cls_or_instance=fields.Nested(ReadinessLineOut))


class ParallelRunCountOut(ApiSchema):
    day = _out(fields.String)
    kind = _out(fields.String)
    result = _out(fields.String)
    count = _out(fields.Integer)


class MismatchOut(ApiSchema):
    at = _out(fields.String)
    kind = _out(fields.String)
    numero = _out(fields.String, "Numéro de dossier masqué")
    field = _out(fields.String)
    here = _out(fields.String, allow_none=True)
    legacy = _out(fields.String, allow_none=True)


class ParallelRunOut(ApiSchema):
    days = _out(fields.Integer)
    since = _out(fields.String)
    first_day = _out(fields.String, allow_none=True)
    compared = _out(fields.Integer)
    matches = _out(fields.Integer)
    mismatches = _out(fields.Integer)
    unavailable = _out(fields.Integer)
    dropped = _out(fields.Integer, "Comparaisons abandonnées (file pleine)")
    mismatch_rate = _out(fields.Float, allow_none=True)
    by_day = _out(fields.List, cls_or_instance=fields.Nested(ParallelRunCountOut))
    last_mismatches = _out(fields.List, cls_or_instance=fields.Nested(MismatchOut))


class ClientOut(ApiSchema):
    client = _out(fields.String)
    channel = _out(fields.String)
    user_agent = _out(fields.String)
    network = _out(fields.String, "Réseau /24 (IPv4) ou /48 (IPv6), jamais l'adresse")
    soap_version = _out(fields.String, allow_none=True)
    first_seen = _out(fields.String)
    last_seen = _out(fields.String)
    requests = _out(fields.Dict, keys=fields.String(), values=fields.Integer())
    failures = _out(fields.Integer)
    status = _out(fields.String, "Où en est le client avec l'avis : appelle_encore, "
                                 "arrete_depuis_avis, arrete_avant_avis, actif_sans_avis")
    status_label = _out(fields.String, "Le même, en mots")
    stopped = _out(fields.Boolean, "Aucune requête depuis 7 jours")


class ClientListOut(ApiSchema):
    items = _out(fields.List, cls_or_instance=fields.Nested(ClientOut))
    notice_date = _out(fields.String, "Date de l'avis (TELEPOINTS_DEPRECATION_DATE)")
