"""The texts the admin page's script shows, translated for the request and handed to it as
JSON inside the page (admin.js reads `#textes-admin`; the script itself holds no text).

Placeholders are `%(name)s`, filled in by the script. A text with a singular and a plural
takes its count as `%(n)s`; `zero_singulier` says whether 0 takes the singular (French) or
the plural (English)."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale, get_translations
from flask_babel import gettext as _

from migrations.admin import labels
from migrations.census.services import STATUS_LABELS
from migrations.readiness.services import DAYS, LABELS

DATE_FORMATS = {"fr": "fr-FR", "en": "en-GB"}


def _messages() -> dict[str, str]:
    return {
        "erreur_http": _("Erreur %(statut)s : réessayez, ou rechargez la page."),
        "jeton_enregistre": _("Jeton « %(nom)s » enregistré pour cet onglet."),
        "jeton_agent": _("Jeton : %(nom)s"),
        # Jobs.
        "travail_lance": _("Travail %(id)s lancé (%(lignes)s)."),
        "simulation_lancee": _("Simulation lancée : travail %(id)s (%(lignes)s). Rien ne "
                               "sera écrit."),
        "fin_travail": _("Travail %(id)s %(etat)s : %(migres)s, %(rejetes)s sur %(lignes)s."),
        "fin_simulation": _("Travail %(id)s (simulation) %(etat)s : %(migres)s, %(rejetes)s "
                            "sur %(lignes)s. Rien n'a été écrit."),
        "badge_simulation": _("Simulation : rien n'est écrit"),
        "avancement": _("Avancement du travail %(id)s"),
        "avancement_simulation": _("Avancement de la simulation %(id)s"),
        "du_travail": _("du travail %(id)s"),
        "arreter": _("Arrêter"),
        "reprendre": _("Reprendre"),
        "lignes": _("Lignes non migrées"),
        "lignes_simulation": _("Lignes qui ne seraient pas migrées"),
        "aucun_travail": _("Aucun travail."),
        "lignes_titre": _("Lignes non migrées du travail %(id)s"),
        "lignes_simulation_titre": _("Lignes qui ne seraient pas migrées par la simulation "
                                     "%(id)s"),
        "ligne_resultat": _("Ligne %(ligne)s (%(numero)s) : %(resultat)s"),
        "ligne_resultat_motif": _("Ligne %(ligne)s (%(numero)s) : %(resultat)s – %(motif)s"),
        "aucune_ligne": _("Aucune."),
        "deux_cents_premieres": _("Les 200 premières seulement : le rapport complet s'obtient "
                                  "par l'API (%(adresse)s)."),
        # The cutover.
        "mode_en_vigueur": _("Mode en vigueur : %(mode)s."),
        "sans_ancien_service": _("Aucun ancien service n'est configuré "
                                 "(LEGACY_TELEPOINTS_URL)."),
        "sans_ancien_service_enregistre": _(
            "Aucun ancien service n'est configuré (LEGACY_TELEPOINTS_URL) : il n'est jamais "
            "interrogé. Le mode enregistré, « %(enregistre)s », n'agira qu'une fois un ancien "
            "service configuré."),
        "mode_actuel": _("Aujourd'hui : %(mode)s."),
        "mode_enregistre_sans_effet": _("Mode enregistré : « %(mode)s », sans effet tant "
                                        "qu'aucun ancien service n'est configuré."),
        "mode_deja": _("Le mode « %(mode)s » est déjà enregistré : rien à changer."),
        "confirmer_mode_titre": _("Passer en mode « %(mode)s » ?"),
        "confirmer_mode": _("Passer en mode « %(mode)s »"),
        "garder_mode": _("Garder le mode actuel"),
        "chiffres_avant_coupure": _("En ce moment : %(attente)s, %(rejetees)s par la dernière "
                                    "migration terminée."),
        "mode_applique": _("Mode « %(mode)s » appliqué."),
        "aucune_requete": _("Aucune requête."),
        "pret_oui": _("Oui : chaque critère est atteint, l'ancien service peut être éteint."),
        "pret_non": _("Non : au moins un critère n'est pas atteint."),
        "aucun_chiffre": _("aucun chiffre"),
        "atteint": _("atteint"),
        "non_atteint": _("non atteint"),
        "parallele_resume": _("%(comparees)s réponse(s) comparée(s), %(differentes)s "
                              "différente(s)%(taux)s, %(indisponibles)s sans réponse de "
                              "l'ancien service, %(abandonnees)s abandonnée(s) (file pleine)."),
        "parallele_taux": _(" (taux %(taux)s)"),
        "absent": _("absent"),
        "aucune_difference": _("Aucune différence."),
        "aucun_client": _("Aucun client."),
        "avis_clients": _("Avis de fermeture daté du %(date)s : un client vu depuis l'a reçu ; "
                          "arrêté = aucune requête depuis 7 jours."),
        "aucune_annonce": _("Aucune interruption annoncée."),
        "retirer": _("Retirer"),
        "l_interruption": _("l'interruption %(id)s"),
        "interruption_programmee": _("Interruption programmée."),
        "interruption_retiree": _("Interruption retirée."),
        "aucune_interruption": _("Aucune interruption programmée."),
        # Revert.
        "confirmer_annulation_titre": _("Annuler la migration du dossier %(numero)s ?"),
        "confirmer_annulation": _("Annuler la migration du dossier %(numero)s"),
        "garder_migration": _("Garder la migration"),
        "migre_en_masse": _("Migré en masse le %(date)s par le travail %(travail)s (fichier "
                            "%(fichier)s, ligne %(ligne)s)."),
        "migre_en_masse_sans_travail": _("Migré en masse le %(date)s."),
        "chiffres_du_travail": _("Ce travail : %(migres)s, %(rejetes)s sur %(lignes)s."),
        "migre_a_la_premiere_utilisation": _("Migré à la première utilisation le %(date)s."),
        "code_importe": _("Son code Télépoints est venu avec la migration."),
        "code_non_importe": _("Aucun code Télépoints n'est venu avec la migration."),
        "consequence_annulation": _(
            "Le code et les coordonnées venus de la migration seront retirés ; les codes émis "
            "ici depuis restent. Le dossier repassera du côté de l'ancien service, et sera "
            "migré de nouveau à sa prochaine utilisation ou au prochain passage d'un export."),
        "migration_annulee": _("Migration du dossier %(numero)s annulée (%(codes)s)."),
        # The dialog.
        "saisir_pour_confirmer": _("Pour confirmer, saisissez « %(texte)s »"),
        "saisie_differente": _("Saisissez exactement « %(texte)s » pour confirmer, ou gardez "
                               "le mode actuel."),
    }


def _plurals() -> dict[str, list[str]]:
    """Both forms of each text, as the catalogue of the request's language has them."""
    translations = get_translations()
    texts = {
        "n_lignes": (translations.ngettext("%(n)s ligne", "%(n)s lignes", 1),
                     translations.ngettext("%(n)s ligne", "%(n)s lignes", 2)),
        "n_migres": (translations.ngettext("%(n)s migré", "%(n)s migrés", 1),
                     translations.ngettext("%(n)s migré", "%(n)s migrés", 2)),
        "n_rejetes": (translations.ngettext("%(n)s rejeté", "%(n)s rejetés", 1),
                      translations.ngettext("%(n)s rejeté", "%(n)s rejetés", 2)),
        "n_seraient_migres": (
            translations.ngettext("%(n)s serait migré", "%(n)s seraient migrés", 1),
            translations.ngettext("%(n)s serait migré", "%(n)s seraient migrés", 2)),
        "n_seraient_rejetes": (
            translations.ngettext("%(n)s serait rejeté", "%(n)s seraient rejetés", 1),
            translations.ngettext("%(n)s serait rejeté", "%(n)s seraient rejetés", 2)),
        "n_lignes_en_attente": (
            translations.ngettext("%(n)s ligne en attente", "%(n)s lignes en attente", 1),
            translations.ngettext("%(n)s ligne en attente", "%(n)s lignes en attente", 2)),
        "n_lignes_rejetees": (
            translations.ngettext("%(n)s ligne rejetée", "%(n)s lignes rejetées", 1),
            translations.ngettext("%(n)s ligne rejetée", "%(n)s lignes rejetées", 2)),
        "n_codes_retires": (
            translations.ngettext("%(n)s code retiré", "%(n)s codes retirés", 1),
            translations.ngettext("%(n)s code retiré", "%(n)s codes retirés", 2)),
    }
    return {key: list(pair) for key, pair in texts.items()}


def script_texts() -> dict[str, Any]:
    locale = get_locale()
    language = locale.language if locale is not None else "fr"
    return {
        "textes": {**_messages(), **_plurals()},
        "resultats": {code: [_(words.done), _(words.dry_run)]
                      for code, words in labels.OUTCOMES.items()},
        "etats": {code: _(word) for code, word in labels.STATES.items()},
        "modes": {code: {"nom": _(mode.name), "consequence": _(mode.consequence)}
                  for code, mode in labels.MODES.items()},
        "trafic": {code: _(word) for code, word in labels.TRAFFIC.items()},
        "canaux": {code: _(word) for code, word in labels.CHANNELS.items()},
        "statuts_clients": {code: _(word) for code, word in STATUS_LABELS.items()},
        "criteres": {name: _(label, days=DAYS) for name, label in LABELS.items()},
        "zero_singulier": locale is not None and locale.plural_form(0) == "one",
        "format_date": DATE_FORMATS.get(language, "fr-FR"),
    }
