"""What the personal-data page says about retention, derived from the purge rules.

Each rule of `flask purge run` (modern/retention) names a kind of data; this table says in
words what that data is. A rule without words here fails the tests
(tests/legal/test_pages.py), so the page cannot fall behind what the service deletes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modern.i18n import N_
from modern.retention import CLEARED, Rule
from modern.settings import RETENTION, Settings

# kind of data → (what it is, from when its period runs), translated when the page renders
WORDS: dict[str, tuple[str, str]] = {
    "web_session.expired": (
        N_("Sessions de connexion (identifiant de session, date de dernière activité)"),
        N_("la fin de la session")),
    "account.pending": (
        N_("Inscriptions dont l'adresse électronique n'a jamais été confirmée"),
        N_("l'inscription")),
    "account_possession.orphan": (
        N_("Preuves de détention d'un dossier dont le compte n'existe plus"),
        N_("la fermeture du compte")),
    "used_token.expired": (
        N_("Liens à usage unique déjà utilisés (confirmation, réinitialisation)"),
        N_("leur expiration")),
    "throttle_counter.expired": (
        N_("Compteurs de tentatives (limitation des essais, adresse réseau)"),
        N_("leur expiration")),
    "alert_change.sent": (
        N_("Changements de solde ou de statut déjà signalés par une alerte"),
        N_("l'envoi de l'alerte")),
    "outbox_message": (
        N_("Messages envoyés (courriels, SMS, courriers)"),
        N_("leur envoi")),
    "share_look.ended": (
        N_("Consultations d'un code de partage par un tiers (date, motif, réseau)"),
        N_("la fin de validité du code")),
    "share_code.ended": (
        N_("Codes de partage"),
        N_("leur fin de validité")),
    "calendar_feed.stopped": (
        N_("Adresses d'abonnement au calendrier arrêtées"),
        N_("leur arrêt")),
    "wallet_presentation_request.expired": (
        N_("Demandes de vérification d'un permis numérique et informations présentées au "
           "vérificateur"),
        N_("l'expiration de la demande (10 minutes)")),
    "wallet_credential.expired": (
        N_("Attestations émises pour un portefeuille numérique (numéro de dossier, place dans "
           "la liste de statuts)"),
        N_("l'expiration de l'attestation")),
    "confidential_code.expired": (
        N_("Codes confidentiels Télépoints expirés (empreinte seulement)"),
        N_("leur expiration")),
    "confidential_code.retired": (
        N_("Codes confidentiels Télépoints après la fermeture de l'ancien service"),
        N_("la fermeture")),
    "holder_contact": (
        N_("Numéro de mobile et adresse postale repris de Télépoints"),
        N_("la fermeture de l'ancien service")),
    "migration_job.ended": (
        N_("Fichiers de reprise des comptes Télépoints (lignes importées)"),
        N_("la fin de la reprise")),
    "migration_entry": (
        N_("Résultats ligne à ligne de la reprise des comptes"),
        N_("la fin de la reprise")),
    "migrated_account.legacy_copy": (
        N_("Copie des données Télépoints d'un compte repris (pour pouvoir annuler la "
           "reprise)"),
        N_("la reprise")),
    "migrated_account.legacy_used_on": (
        N_("Date de la dernière utilisation d'un code Télépoints repris, par un logiciel ou "
           "l'ancien site"),
        N_("cette utilisation")),
    "migration_legacy_traffic": (
        N_("Statistiques quotidiennes d'usage de l'ancien service"),
        N_("le jour compté")),
    "parallel_run_day": (
        N_("Comptes quotidiens de la comparaison entre l'ancien service et le nouveau"),
        N_("le jour compté")),
    "parallel_run_mismatch": (
        N_("Différences relevées entre l'ancien service et le nouveau (numéro de dossier "
           "masqué, valeurs comparées)"),
        N_("la comparaison")),
    "legacy_client_day": (
        N_("Usage quotidien de l'ancien service par logiciel client (opérations, échecs)"),
        N_("le jour compté")),
    "legacy_client": (
        N_("Logiciels clients de l'ancien service (agent utilisateur, réseau /24 ou /48, "
           "jamais l'adresse complète)"),
        N_("leur dernière requête")),
    "admin_audit": (
        N_("Journal des actions des agents"),
        N_("l'action")),
}


@dataclass(frozen=True)
class Retention:
    """One line of the table, its words still to translate: the data, from when its period
    runs, the period in days (0: as soon as it starts), and what happens then."""

    data: str
    start: str
    days: int
    action: str


def _period_days(rule: Rule, settings: Settings) -> int | None:
    if rule.period is None:
        return None
    setting = RETENTION[rule.period][0]
    return int(getattr(settings, setting))


def retention_table(rules: Sequence[Rule], settings: Settings) -> list[Retention]:
    rows = []
    for rule in rules:
        data, start = WORDS[rule.kind]
        rows.append(Retention(data, start, _period_days(rule, settings) or 0,
                              N_("effacées") if rule.action == CLEARED else N_("supprimées")))
    return rows
