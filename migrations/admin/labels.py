"""The words the admin page shows for the codes the admin API sends.

The API, the CLI and the reports keep the codes (`REJETE`, `running`, `off`…): agents' tools
read them. People read these words instead, translated where they are shown (`N_` marks
them for the catalogue)."""

from __future__ import annotations

from dataclasses import dataclass

from migrations.jobs.models import (
    CREATED,
    FAILED,
    IGNORE_CLOS,
    IGNORE_DEJA_MIGRE,
    IGNORE_DOUBLON,
    MIGRE,
    MIS_A_JOUR,
    REJETE,
    RUNNING,
    STOPPED,
    STOPPING,
    SUCCEEDED,
)
from migrations.lazy.models import MODE_LEGACY, MODE_MIGRATE, MODE_OFF
from modern.i18n import N_
from telepoints_compat.legacy_traffic import SOAP, WEB


@dataclass(frozen=True)
class Outcome:
    done: str  # what happened to the line
    dry_run: str  # what would happen to it (a dry run writes nothing)


OUTCOMES = {
    MIGRE: Outcome(N_("migrée"), N_("serait migrée")),
    IGNORE_DOUBLON: Outcome(N_("ignorée : doublon d'une ligne plus récente du même dossier"),
                            N_("serait ignorée : doublon d'une ligne plus récente du même "
                               "dossier")),
    IGNORE_CLOS: Outcome(N_("ignorée : dossier clos"), N_("serait ignorée : dossier clos")),
    IGNORE_DEJA_MIGRE: Outcome(N_("ignorée : dossier déjà migré"),
                               N_("serait ignorée : dossier déjà migré")),
    MIS_A_JOUR: Outcome(N_("code mis à jour : réémis par Télépoints depuis la migration"),
                        N_("code qui serait mis à jour : réémis par Télépoints depuis la "
                           "migration")),
    REJETE: Outcome(N_("rejetée"), N_("serait rejetée")),
}

STATES = {
    CREATED: N_("créé"),
    RUNNING: N_("en cours"),
    STOPPING: N_("arrêt demandé"),
    STOPPED: N_("arrêté"),
    SUCCEEDED: N_("terminé"),
    FAILED: N_("en échec"),
}


@dataclass(frozen=True)
class Mode:
    name: str
    hint: str  # one line under the choice
    consequence: str  # what the confirmation says the change means


MODES = {
    MODE_MIGRATE: Mode(
        N_("Migration à la première utilisation"),
        N_("Le code est vérifié par l'ancien service, puis le compte est migré."),
        N_("Un dossier non encore migré est vérifié par l'ancien service à sa première "
           "utilisation, puis migré ici.")),
    MODE_LEGACY: Mode(
        N_("Retour à l'ancien service"),
        N_("Le code est vérifié par l'ancien service ; rien n'est migré."),
        N_("Un dossier non encore migré est vérifié par l'ancien service et n'est plus "
           "migré : la migration à la première utilisation s'arrête. Les dossiers déjà "
           "migrés restent servis ici.")),
    MODE_OFF: Mode(
        N_("Ancien service coupé"),
        N_("L'ancien service n'est plus jamais interrogé."),
        N_("L'ancien service ne sera plus jamais interrogé. Le code Télépoints d'un dossier "
           "non encore migré sera refusé comme un mauvais code : son titulaire devra créer "
           "un compte ou demander un nouveau code. À ne faire que lorsque chaque critère "
           "pour éteindre l'ancien service est atteint.")),
}

# Legacy requests for files not migrated yet, by result (migrations/lazy/services.py).
TRAFFIC = {
    "migre": N_("migré à la première utilisation"),
    "verifie": N_("vérifié par l'ancien service, non migré"),
    "refuse": N_("code refusé par l'ancien service"),
    "bloque": N_("dossier bloqué par l'ancien service"),
    "expire": N_("code expiré"),
    "mis_a_jour": N_("code réémis par l'ancien service, repris ici"),
    "indisponible": N_("ancien service injoignable : requête refusée"),
}

CHANNELS = {SOAP: N_("interface SOAP"), WEB: N_("anciennes pages web")}
