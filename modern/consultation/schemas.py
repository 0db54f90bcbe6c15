"""JSON input and output of the holder's API (marshmallow), one schema per resource.

Field names are camelCase, as in the registry's wire format and the points schemas, so that
`dateValeur` or `soldeRecalcule` mean the same thing everywhere. Output schemas mark every
field the API always sends as required, so the OpenAPI document says exactly what a client
receives; inputs are separate schemas and refuse unknown fields.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, fields, validate

from modern.licences.record import MAX_POINTS
from modern.points.schemas import RestitutionSchema, StageObligatoireSchema
from modern.validation_messages import ApiSchema

TYPES_MOUVEMENT = ("RETRAIT", "STAGE", "RESTITUTION", "INVALIDATION")
ETATS = ("VALIDE", "SUSPENDU", "INVALIDE", "ANNULE")
POINTS = validate.Range(min=0, max=MAX_POINTS)


def _date(key: str, description: str = "", **options: Any) -> fields.Date:
    return fields.Date(data_key=key, required=True,
                       metadata={"description": description} if description else {}, **options)


class ProblemSchema(ApiSchema):
    """RFC 9457 problem details; `code` is stable, `detail` is in the request's language."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    code = fields.String(required=True)
    detail = fields.String(required=True)
    request_id = fields.String(allow_none=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={
        "description": "Pour une requête invalide : les champs refusés et pourquoi"})


class TitulaireSchema(ApiSchema):
    nom = fields.String(required=True)
    prenoms = fields.String(required=True)
    date_naissance = _date("dateNaissance")
    lieu_naissance = fields.String(data_key="lieuNaissance", required=True, allow_none=True)


class SuspensionSchema(ApiSchema):
    date_debut = _date("dateDebut")
    date_fin = _date("dateFin", allow_none=True)
    en_cours = fields.Boolean(data_key="enCours", required=True)


class RestrictionSchema(ApiSchema):
    code = fields.String(required=True)
    libelle = fields.String(required=True, allow_none=True,
                            metadata={"description": "Signification du code européen"})


class CategorieSchema(ApiSchema):
    code = fields.String(required=True)
    libelle = fields.String(required=True)
    date_obtention = _date("dateObtention")
    date_fin_validite = _date("dateFinValidite", "Absente : sans limite", allow_none=True)
    restrictions = fields.List(fields.Nested(RestrictionSchema), required=True)
    lourde = fields.Boolean(required=True, metadata={
        "description": "Catégorie lourde (C, D et leurs sous-catégories) : validité limitée"})
    expiree = fields.Boolean(required=True)
    a_renouveler = fields.Boolean(data_key="aRenouveler", required=True, metadata={
        "description": "Expire dans les six mois"})


class ProbatoireSchema(ApiSchema):
    date_debut = _date("dateDebut")
    date_fin = _date("dateFin", allow_none=True)
    aac = fields.Boolean(required=True)
    formation_complementaire = fields.Boolean(data_key="formationComplementaire", required=True)
    en_cours = fields.Boolean(data_key="enCours", required=True)


class PermisSchema(ApiSchema):
    numero_dossier = fields.String(data_key="numeroDossier", required=True)
    titulaire = fields.Nested(TitulaireSchema, required=True)
    etat = fields.String(required=True, validate=validate.OneOf(ETATS))
    etat_libelle = fields.String(data_key="etatLibelle", required=True)
    date_mise_a_jour = fields.AwareDateTime(data_key="dateMiseAJour", required=True, metadata={
        "description": "Dernière mise à jour du dossier par le fichier national"})
    suspensions = fields.List(fields.Nested(SuspensionSchema), required=True)
    probatoire = fields.Nested(ProbatoireSchema, required=True, allow_none=True)
    categories = fields.List(fields.Nested(CategorieSchema), required=True)


class ConseilSchema(ApiSchema):
    code = fields.String(required=True)
    niveau = fields.String(required=True, validate=validate.OneOf(
        ("info", "avertissement", "alerte")))
    titre = fields.String(required=True)
    texte = fields.String(required=True)
    reference = fields.String(required=True, metadata={
        "description": "Articles du Code de la route appliqués ; vide s'il n'y en a pas"})


class SoldeSchema(ApiSchema):
    solde = fields.Integer(required=True, validate=POINTS, metadata={
        "description": "Solde du fichier national : le solde officiel"})
    plafond = fields.Integer(required=True, validate=POINTS, metadata={
        "description": "12, ou le plafond de la période probatoire"})
    date_mise_a_jour = fields.AwareDateTime(data_key="dateMiseAJour", required=True)
    jours_depuis_mise_a_jour = fields.Integer(data_key="joursDepuisMiseAJour", required=True)
    date_solde = _date("dateSolde", "Jour auquel le solde du fichier se rapporte")
    solde_recalcule = fields.Integer(data_key="soldeRecalcule", required=True, validate=POINTS,
                                     metadata={"description": "Ce que donnent les règles à "
                                               "dateSolde à partir des mouvements"})
    ecart = fields.Boolean(required=True, metadata={
        "description": "Le solde du fichier et les mouvements ne concordent pas"})
    solde_au_jour = fields.Integer(data_key="soldeAuJour", required=True, validate=POINTS)
    en_attente = fields.List(fields.Nested(RestitutionSchema), data_key="enAttente",
                             required=True, metadata={
                                 "description": "Restitutions échues depuis dateSolde, pas "
                                                "encore enregistrées par le fichier"})
    en_probatoire = fields.Boolean(data_key="enProbatoire", required=True)
    date_fin_probatoire = _date("dateFinProbatoire", allow_none=True)
    invalide = fields.Boolean(required=True)
    stage_obligatoire = fields.Nested(StageObligatoireSchema, data_key="stageObligatoire",
                                      required=True, allow_none=True)
    conseils = fields.List(fields.Nested(ConseilSchema), required=True)


class MouvementSchema(ApiSchema):
    id = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(TYPES_MOUVEMENT))
    nature = fields.String(required=True)
    date_valeur = _date("dateValeur", "Date à laquelle le mouvement a pris effet")
    points = fields.Integer(required=True, metadata={
        "description": "Variation signée : négative pour un retrait"})
    date_infraction = _date("dateInfraction", allow_none=True)
    classe = fields.String(required=True, allow_none=True)
    libelle = fields.String(required=True, allow_none=True)
    lieu = fields.String(required=True, allow_none=True)
    motif = fields.String(required=True, allow_none=True)
    remarque = fields.String(required=True, allow_none=True, metadata={
        "description": "Quand la loi ne l'a pas compté en entier, pourquoi"})


class HistoriqueQuerySchema(ApiSchema):
    class Meta:
        unknown = RAISE

    type = fields.String(validate=validate.OneOf(TYPES_MOUVEMENT), metadata={
        "description": "Seulement les mouvements de ce type"})


class HistoriqueSchema(ApiSchema):
    depuis = _date("depuis", "Les dix dernières années")
    mouvements = fields.List(fields.Nested(MouvementSchema), required=True)
    mouvements_plus_anciens = fields.Integer(data_key="mouvementsPlusAnciens", required=True)


class PrevisionsSchema(ApiSchema):
    date_reference = _date("dateReference")
    restitutions = fields.List(fields.Nested(RestitutionSchema), required=True, metadata={
        "description": "À venir, par date, si aucune nouvelle infraction n'est commise"})
    date_solde_maximal = _date("dateSoldeMaximal", "Jour où le solde revient à 12",
                               allow_none=True)
    avertissement = fields.String(required=True)


class DocumentOffreSchema(ApiSchema):
    type = fields.String(required=True, validate=validate.OneOf(
        ("attestation", "releve-integral")))
    titre = fields.String(required=True)
    description = fields.String(required=True)
    disponible = fields.Boolean(required=True)
    motif = fields.String(required=True, allow_none=True, metadata={
        "description": "Pourquoi le document n'est pas disponible dans cette session"})
    url = fields.String(required=True, allow_none=True)


class DocumentsSchema(ApiSchema):
    documents = fields.List(fields.Nested(DocumentOffreSchema), required=True)


class VerificationInSchema(ApiSchema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Length(min=1, max=4000), metadata={
        "description": "Le contenu du code 2D, ou le texte imprimé sous le cachet"})


class ChampSchema(ApiSchema):
    code = fields.String(required=True)
    libelle = fields.String(required=True)
    valeur = fields.String(required=True)


class VerificationSchema(ApiSchema):
    authentique = fields.Boolean(required=True, metadata={
        "description": "Émis par ce service et non modifié"})
    valide = fields.Boolean(required=True, metadata={"description": "Authentique et non expiré"})
    expire = fields.Boolean(required=True)
    motif = fields.String(required=True)
    type_document = fields.String(data_key="typeDocument", required=True, allow_none=True)
    cle = fields.String(required=True, allow_none=True,
                        metadata={"description": "Identifiant de la clé qui a signé"})
    emis_le = _date("emisLe", allow_none=True)
    valable_jusqu_au = _date("valableJusquAu", allow_none=True)
    champs = fields.List(fields.Nested(ChampSchema), required=True, metadata={
        "description": "Les champs attestés ; jamais le solde de points (article L223-7)"})
