"""JSON output of a licence's points (marshmallow), for the API and the web UI's scripts.

Field names follow the registry's wire format (camelCase), so that `soldeRecalcule` or
`restitutions[].motif` mean the same thing in the extract, the CLI output and the API.
"""

from __future__ import annotations

from marshmallow import fields

from modern.points.wording import explanation
from modern.validation_messages import ApiSchema


class RestitutionSchema(ApiSchema):
    date = fields.Date(required=True)
    points = fields.Integer(required=True)
    motif = fields.String(required=True)
    solde = fields.Integer(required=True,
                           metadata={"description": "Solde une fois ces points rendus"})
    explication = fields.Function(explanation, required=True, metadata={
        "type": "string", "description": "Pourquoi cette date"})


class StageObligatoireSchema(ApiSchema):
    mouvement_id = fields.String(data_key="mouvementId", required=True)
    date_infraction = fields.Date(data_key="dateInfraction", required=True)
    date_valeur = fields.Date(data_key="dateValeur", required=True)
    points = fields.Integer(required=True)
    date_limite_indicative = fields.Date(
        data_key="dateLimiteIndicative", required=True,
        metadata={"description": "Quatre mois après dateValeur : le délai légal court de la "
                                 "réception de la lettre 48N, donc jamais avant cette date"})


class BilanSchema(ApiSchema):
    numero_dossier = fields.String(data_key="numeroDossier", required=True)
    date_reference = fields.Date(data_key="dateReference", required=True)
    solde = fields.Integer(required=True)
    date_solde = fields.Date(data_key="dateSolde", required=True)
    solde_recalcule = fields.Integer(data_key="soldeRecalcule", required=True)
    ecart = fields.Boolean(required=True)
    solde_au_jour = fields.Integer(data_key="soldeAuJour", required=True)
    plafond = fields.Integer(required=True)
    en_probatoire = fields.Boolean(data_key="enProbatoire", required=True)
    date_fin_probatoire = fields.Date(data_key="dateFinProbatoire", allow_none=True)
    invalide = fields.Boolean(required=True)
    stage_obligatoire = fields.Nested(StageObligatoireSchema, data_key="stageObligatoire",
                                      allow_none=True)
    restitutions = fields.List(fields.Nested(RestitutionSchema), required=True)
    en_attente = fields.List(fields.Nested(RestitutionSchema), data_key="enAttente",
                             required=True)
