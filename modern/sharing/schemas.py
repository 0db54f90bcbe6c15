"""JSON input and output of the share codes' API (marshmallow), camelCase like the rest of
/api/v1. The third party's answer has no field for points or history (L223-7)."""

from __future__ import annotations

from marshmallow import RAISE, fields, validate

from modern.consultation.schemas import ETATS, RestrictionSchema
from modern.sharing.codes import MAX_DAYS, MIN_DAYS, PURPOSES
from modern.validation_messages import ApiSchema


class PartageInSchema(ApiSchema):
    class Meta:
        unknown = RAISE

    motif = fields.String(required=True, validate=validate.OneOf(tuple(PURPOSES)))
    duree_jours = fields.Integer(data_key="dureeJours", required=True,
                                 validate=validate.Range(MIN_DAYS, MAX_DAYS))
    alerte_courriel = fields.Boolean(data_key="alerteCourriel", load_default=False, metadata={
        "description": "Un courriel au titulaire à chaque consultation"})


class ConsultationVueSchema(ApiSchema):
    le = fields.AwareDateTime(required=True)
    motif = fields.String(required=True)
    reseau = fields.String(required=True, metadata={
        "description": "Le réseau de la personne (IPv4 /24, IPv6 /48), jamais son adresse"})


class PartageSchema(ApiSchema):
    id = fields.Integer(required=True)
    motif = fields.String(required=True, validate=validate.OneOf(tuple(PURPOSES)))
    cree_le = fields.AwareDateTime(data_key="creeLe", required=True)
    expire_le = fields.AwareDateTime(data_key="expireLe", required=True)
    revoque_le = fields.AwareDateTime(data_key="revoqueLe", required=True, allow_none=True)
    actif = fields.Boolean(required=True)
    alerte_courriel = fields.Boolean(data_key="alerteCourriel", required=True)
    consultations = fields.List(fields.Nested(ConsultationVueSchema), required=True)


class PartageCreeSchema(PartageSchema):
    code = fields.String(required=True, metadata={
        "description": "Le code, montré cette seule fois : il n'est gardé nulle part en clair"})


class PartagesSchema(ApiSchema):
    partages = fields.List(fields.Nested(PartageSchema), required=True)


class ConsultationInSchema(ApiSchema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Length(min=1, max=200))
    nom = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "Le nom de naissance du titulaire"})


class SuspensionTiersSchema(ApiSchema):
    date_debut = fields.Date(data_key="dateDebut", required=True)
    date_fin = fields.Date(data_key="dateFin", required=True, allow_none=True)
    en_cours = fields.Boolean(data_key="enCours", required=True)


class CategorieTiersSchema(ApiSchema):
    code = fields.String(required=True)
    libelle = fields.String(required=True)
    date_obtention = fields.Date(data_key="dateObtention", required=True)
    date_fin_validite = fields.Date(data_key="dateFinValidite", required=True, allow_none=True)
    expiree = fields.Boolean(required=True)
    restrictions = fields.List(fields.Nested(RestrictionSchema), required=True)


class DroitsSchema(ApiSchema):
    nom = fields.String(required=True)
    prenoms = fields.String(required=True)
    date_naissance = fields.Date(data_key="dateNaissance", required=True)
    etat = fields.String(required=True, validate=validate.OneOf(ETATS))
    etat_libelle = fields.String(data_key="etatLibelle", required=True)
    suspensions = fields.List(fields.Nested(SuspensionTiersSchema), required=True)
    categories = fields.List(fields.Nested(CategorieTiersSchema), required=True)
    date_mise_a_jour = fields.AwareDateTime(data_key="dateMiseAJour", required=True, metadata={
        "description": "Dernière mise à jour du dossier par le fichier national"})
    code_valable_jusqu_au = fields.AwareDateTime(data_key="codeValableJusquAu", required=True)
    motif = fields.String(required=True)
