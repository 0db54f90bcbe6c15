"""What the personal-data page says about retention, derived from the purge rules.

Each rule of `flask purge run` (modern/retention) names a kind of data; this table says in
words what that data is. A rule without words here fails the tests
(tests/legal/test_pages.py), so the page cannot fall behind what the service deletes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modern.retention import CLEARED, Rule
from modern.settings import RETENTION, Settings

# kind of data → (what it is, from when its period runs)
WORDS: dict[str, tuple[str, str]] = {
    "web_session.expired": ("Sessions de connexion (identifiant de session, date de dernière "
                            "activité)", "la fin de la session"),
    "account.pending": ("Inscriptions dont l'adresse électronique n'a jamais été confirmée",
                        "l'inscription"),
    "used_token.expired": ("Liens à usage unique déjà utilisés (confirmation, "
                           "réinitialisation)", "leur expiration"),
    "throttle_counter.expired": ("Compteurs de tentatives (limitation des essais, adresse "
                                 "réseau)", "leur expiration"),
    "alert_change.sent": ("Changements de solde ou de statut déjà signalés par une alerte",
                          "l'envoi de l'alerte"),
    "outbox_message": ("Messages envoyés (courriels, SMS, courriers)", "leur envoi"),
    "share_look.ended": ("Consultations d'un code de partage par un tiers (date, motif, "
                         "réseau)", "la fin de validité du code"),
    "share_code.ended": ("Codes de partage", "leur fin de validité"),
    "calendar_feed.stopped": ("Adresses d'abonnement au calendrier arrêtées", "leur arrêt"),
    "confidential_code.expired": ("Codes confidentiels Télépoints expirés (empreinte "
                                  "seulement)", "leur expiration"),
    "confidential_code.retired": ("Codes confidentiels Télépoints après la fermeture de "
                                  "l'ancien service", "la fermeture"),
    "holder_contact": ("Numéro de mobile et adresse postale repris de Télépoints",
                       "la fermeture de l'ancien service"),
    "migration_job.ended": ("Fichiers de reprise des comptes Télépoints (lignes importées)",
                            "la fin de la reprise"),
    "migration_entry": ("Résultats ligne à ligne de la reprise des comptes",
                        "la fin de la reprise"),
    "migrated_account.legacy_copy": ("Copie des données Télépoints d'un compte repris "
                                     "(pour pouvoir annuler la reprise)", "la reprise"),
    "migration_legacy_traffic": ("Statistiques quotidiennes d'usage de l'ancien service",
                                 "le jour compté"),
    "admin_audit": ("Journal des actions des agents", "l'action"),
}


@dataclass(frozen=True)
class Retention:
    data: str
    period: str  # in words
    action: str  # "supprimées" or "effacées" (the row kept without the personal data)


def _period_days(rule: Rule, settings: Settings) -> int | None:
    if rule.period is None:
        return None
    setting = RETENTION[rule.period][0]
    return int(getattr(settings, setting))


def retention_table(rules: Sequence[Rule], settings: Settings) -> list[Retention]:
    rows = []
    for rule in rules:
        data, start = WORDS[rule.kind]
        days = _period_days(rule, settings)
        if not days:
            period = f"dès {start}"
        else:
            period = f"{days} jour{'s' if days > 1 else ''} après {start}"
        rows.append(Retention(data, period, "effacées" if rule.action == CLEARED
                              else "supprimées"))
    return rows
