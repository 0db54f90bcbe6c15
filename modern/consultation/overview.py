"""What a signed-in holder sees about their licence, in one object for the web page and the API.

Pure: a licence record, the rules engine's `Bilan` of it and the reference date in; facts and
advice out, each piece of advice citing the article of the Code de la route it applies. The
national file's balance is shown as is (it is the official figure); the engine's own reading
of the movements serves the forecast, the expected changes since the file's last update, and
the notice when the two disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

from modern.licences.record import Categorie, LicenceRecord, Mouvement, Suspension
from modern.points.rules import PARIS, Bilan, Etape, Restitution, add_months, french_date

HISTORY_YEARS = 10  # what Mes Points Permis shows, and what we keep on screen
RENEWAL_NOTICE_MONTHS = 6  # a heavy category expiring sooner than this: time to renew
VOLUNTARY_COURSE_BALANCE = 6  # letter 48M: at 6 points or less a course is suggested
# Categories whose validity is limited and renewed on medical advice: 5 years until 60,
# 2 years from 60 to 76, then 1 year.
HEAVY = frozenset({"C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE"})

ETATS = {"VALIDE": "Valide", "SUSPENDU": "Suspendu", "INVALIDE": "Invalidé (solde nul)",
         "ANNULE": "Annulé"}
CATEGORIES = {
    "AM": "Cyclomoteurs et quadricycles légers", "A1": "Motocyclettes légères",
    "A2": "Motocyclettes de puissance limitée (35 kW)", "A": "Motocyclettes",
    "B1": "Quadricycles lourds", "B": "Voitures (3,5 t et 9 places au plus)",
    "BE": "Voitures avec remorque", "C1": "Poids lourds de 3,5 t à 7,5 t",
    "C1E": "Poids lourds C1 avec remorque", "C": "Poids lourds de plus de 3,5 t",
    "CE": "Poids lourds C avec remorque", "D1": "Minibus (16 passagers au plus)",
    "D1E": "Minibus avec remorque", "D": "Autobus et autocars",
    "DE": "Autobus et autocars avec remorque",
}
# The harmonised European codes printed in column 12 of the licence (directive 2006/126/CE).
RESTRICTIONS = {
    "01": "Correction ou protection de la vue", "01.01": "Lunettes",
    "01.02": "Lentilles de contact", "01.05": "Cache-œil",
    "01.06": "Lunettes ou lentilles de contact", "01.07": "Aide optique spécifique",
    "02": "Prothèse auditive ou aide à la communication",
    "78": "Véhicules à boîte de vitesses automatique uniquement",
    "95": "Conducteur titulaire d'une qualification professionnelle (CAP/FIMO/FCO)",
    "96": "Ensemble voiture et remorque jusqu'à 4 250 kg (B96)",
}
NATURES = {"RETRAIT": "Retrait de points", "STAGE": "Stage de sensibilisation",
           "RESTITUTION": "Restitution de points", "INVALIDATION": "Invalidation du permis"}
MOTIFS = {"SIX_MOIS": "un point, six mois après le retrait", "DEUX_ANS": "deux ans sans infraction",
          "TROIS_ANS": "trois ans sans infraction", "DIX_ANS": "dix ans après le retrait",
          "PROBATOIRE": "période probatoire"}
CLASSES = {"C1": "Contravention de 1re classe", "C2": "Contravention de 2e classe",
           "C3": "Contravention de 3e classe", "C4": "Contravention de 4e classe",
           "C5": "Contravention de 5e classe", "DELIT": "Délit"}

Level = Literal["info", "avertissement", "alerte"]


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:]


def points(value: int) -> str:
    return f"{value} point{'s' if abs(value) > 1 else ''}"


@dataclass(frozen=True)
class Advice:
    """What to know or do now, and the article that says so."""

    code: str
    level: Level
    title: str
    text: str
    reference: str = ""


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    obtained_on: dt.date
    valid_until: dt.date | None
    restrictions: tuple[tuple[str, str], ...]  # (code, meaning or "")
    heavy: bool
    expired: bool
    renew_soon: bool


@dataclass(frozen=True)
class HistoryLine:
    id: str
    date_valeur: dt.date
    type: str
    nature: str
    points: int  # signed change as the file records it (0 for an invalidation)
    date_infraction: dt.date | None
    classe: str | None
    libelle: str | None
    lieu: str | None
    motif: str | None
    remark: str | None  # how the law counted it, when not in full


@dataclass(frozen=True)
class Overview:
    record: LicenceRecord
    bilan: Bilan
    today: dt.date
    updated_at: dt.datetime  # the file's last update, Paris time
    days_since_update: int
    status: str
    status_label: str
    current_suspension: Suspension | None
    suspensions: tuple[Suspension, ...]
    on_probation: bool
    probation_start: dt.date | None
    probation_end: dt.date | None
    ceiling: int
    categories: tuple[Category, ...]
    history: tuple[HistoryLine, ...]
    history_since: dt.date
    older_movements: int  # movements older than HISTORY_YEARS, not shown
    forecast: tuple[Restitution, ...]
    pending: tuple[Restitution, ...]
    full_balance_on: dt.date | None  # when the ceiling is reached, assuming no new offence
    last_course: dt.date | None
    next_course_from: dt.date | None  # the earliest day a new course can be credited
    advice: tuple[Advice, ...]

    @property
    def discrepancy(self) -> bool:
        return self.bilan.ecart


def build(record: LicenceRecord, bilan: Bilan, today: dt.date, *,
          course_spacing_days: int = 365) -> Overview:
    updated = record.date_mise_a_jour.astimezone(PARIS)
    since = add_months(today, -12 * HISTORY_YEARS)
    suspension = _current_suspension(record.suspensions, today)
    last_course = _last_course(bilan.chronologie)
    next_course = (last_course + dt.timedelta(days=course_spacing_days)
                   if last_course is not None else None)
    if next_course is not None and next_course <= today:
        next_course = None
    probation = record.probatoire
    categories = tuple(_category(c, today) for c in record.categories)
    notes = {step.mouvement_id: step for step in bilan.chronologie
             if step.mouvement_id and step.nature in ("RETRAIT", "STAGE", "INVALIDATION")}
    shown = [m for m in record.mouvements if m.date_valeur >= since]
    history = tuple(_line(m, notes.get(m.id)) for m in sorted(
        shown, key=lambda m: (m.date_valeur, m.id), reverse=True))
    overview = Overview(
        record=record, bilan=bilan, today=today, updated_at=updated,
        days_since_update=max((today - updated.date()).days, 0),
        status=record.etat_permis, status_label=ETATS[record.etat_permis],
        current_suspension=suspension, suspensions=tuple(record.suspensions),
        on_probation=bilan.en_probatoire,
        probation_start=probation.date_debut if probation else None,
        probation_end=bilan.date_fin_probatoire, ceiling=bilan.plafond,
        categories=categories, history=history, history_since=since,
        older_movements=len(record.mouvements) - len(shown),
        forecast=bilan.restitutions, pending=bilan.en_attente,
        full_balance_on=_full_balance_on(bilan),
        last_course=last_course, next_course_from=next_course, advice=())
    return _with_advice(overview)


def _current_suspension(suspensions: list[Suspension], today: dt.date) -> Suspension | None:
    current = [s for s in suspensions
               if s.date_debut <= today and (s.date_fin is None or today <= s.date_fin)]
    return max(current, key=lambda s: s.date_debut) if current else None


def _last_course(steps: tuple[Etape, ...]) -> dt.date | None:
    credited = [step.date for step in steps if step.nature == "STAGE" and step.note is None]
    return max(credited) if credited else None


def _full_balance_on(bilan: Bilan) -> dt.date | None:
    """The day the forecast brings the balance to 12, if it does."""
    for restitution in bilan.restitutions:
        if restitution.solde >= 12:
            return restitution.date
    return None


def _category(category: Categorie, today: dt.date) -> Category:
    until = category.date_fin_validite
    heavy = category.code in HEAVY
    expired = until is not None and until < today
    return Category(
        code=category.code, label=CATEGORIES.get(category.code, category.code),
        obtained_on=category.date_obtention, valid_until=until,
        restrictions=tuple((code, RESTRICTIONS.get(code, "")) for code in category.restrictions),
        heavy=heavy, expired=expired,
        renew_soon=until is not None and not expired
        and until <= add_months(today, RENEWAL_NOTICE_MONTHS))


def _line(movement: Mouvement, step: Etape | None) -> HistoryLine:
    signed = -movement.points if movement.type == "RETRAIT" else movement.points
    if movement.type == "INVALIDATION":
        signed = 0
    remark = None
    if step is not None:
        if step.note == "CUMUL_PLAFONNE":
            remark = (f"Retrait limité à {points(-step.variation)} : les infractions commises "
                      "en même temps coûtent 8 points au plus (article L223-2).")
        elif step.note == "STAGE_TROP_RAPPROCHE":
            remark = ("Sans effet sur le solde : moins d'un an après le stage précédent "
                      "(article L223-6).")
        elif step.note == "PERMIS_INVALIDE":
            remark = "Sans effet sur le solde : le permis était invalidé."
        elif movement.type == "STAGE" and step.variation < movement.points:
            remark = (f"{points(step.variation)} crédité{'s' if step.variation > 1 else ''} : "
                      f"le solde ne peut dépasser {step.plafond} points.")
    return HistoryLine(
        id=movement.id, date_valeur=movement.date_valeur, type=movement.type,
        nature=NATURES[movement.type], points=signed, date_infraction=movement.date_infraction,
        classe=CLASSES.get(movement.classe) if movement.classe else None,
        libelle=movement.libelle, lieu=movement.lieu,
        motif=MOTIFS.get(movement.motif) if movement.motif else None, remark=remark)


# -- advice ----------------------------------------------------------------------------------


def _with_advice(o: Overview) -> Overview:
    advice: list[Advice] = []
    record, bilan = o.record, o.bilan
    closed = record.etat_permis in ("INVALIDE", "ANNULE") or record.solde == 0
    if record.etat_permis == "ANNULE":
        advice.append(Advice(
            "ANNULATION", "alerte", "Votre permis est annulé",
            "Une décision de justice a annulé votre permis : vous ne pouvez plus conduire. "
            "Un nouveau permis ne peut être demandé qu'à la fin du délai fixé par le juge."))
    elif closed:
        advice.append(Advice(
            "INVALIDATION", "alerte", "Votre permis n'est plus valide",
            "Votre solde est nul : le permis perd sa validité (article L223-1). Remettez-le à "
            "la préfecture dans les 10 jours qui suivent la réception de la lettre "
            "recommandée « 48SI » (article R223-3). Vous pourrez demander un nouveau permis 6 "
            "mois après l'avoir remis, 1 an si une autre invalidation a eu lieu dans les 5 "
            "ans, après un examen médical et psychotechnique (article L223-5). Aucun point ne "
            "revient automatiquement, et un stage ne rend plus de points.",
            "articles L223-1, L223-5 et R223-3 du Code de la route"))
    if o.current_suspension is not None or record.etat_permis == "SUSPENDU":
        end = o.current_suspension.date_fin if o.current_suspension else None
        start = o.current_suspension.date_debut if o.current_suspension else None
        period = (f" du {french_date(start)} au {french_date(end)}" if start and end
                  else f" depuis le {french_date(start)}" if start else "")
        advice.append(Advice(
            "SUSPENSION", "alerte", "Votre permis est suspendu",
            f"Votre permis est suspendu{period} : vous ne devez pas conduire pendant cette "
            "période. Une suspension ne retire pas de points par elle-même ; votre solde "
            "reste celui indiqué ci-dessous."))
    if bilan.ecart:
        advice.append(Advice(
            "ECART", "alerte", "Le solde du fichier ne correspond pas aux mouvements enregistrés",
            f"Le fichier national indique {points(record.solde)} au "
            f"{french_date(bilan.date_solde)}, alors que les retraits, stages et restitutions "
            f"qu'il enregistre donnent {points(bilan.solde_recalcule)} à cette date selon les "
            "règles de récupération des points (article L223-6). Le solde du fichier national "
            "reste le solde officiel. S'il vous paraît erroné, demandez sa correction à votre "
            "préfecture en joignant votre relevé d'information intégral, que vous pouvez "
            "télécharger ci-dessous après une connexion avec FranceConnect.",
            "article L223-6 du Code de la route"))
    if bilan.en_attente and not closed:
        gained = sum(r.points for r in bilan.en_attente)
        first = bilan.en_attente[0]
        advice.append(Advice(
            "EN_ATTENTE", "info", "Des points vous sont revenus depuis la dernière mise à jour",
            f"D'après les règles de récupération, {points(gained)} vous "
            f"{'sont revenus' if gained > 1 else 'est revenu'} depuis le "
            f"{french_date(bilan.date_solde)} (le {french_date(first.date)} : "
            f"{first.explication}). Le fichier national ne l'a pas encore enregistré : votre "
            f"solde devrait passer à {points(bilan.solde_au_jour)} lors d'une prochaine mise à "
            "jour.", "article L223-6 du Code de la route"))
    mandatory = bilan.stage_obligatoire
    if mandatory is not None and not closed:
        late = mandatory.date_limite_indicative < o.today
        advice.append(Advice(
            "STAGE_OBLIGATOIRE", "alerte", "Stage obligatoire de sensibilisation",
            f"En période probatoire, vous avez perdu {points(mandatory.points)} pour une "
            f"infraction commise le {french_date(mandatory.date_infraction)}. Vous devez suivre "
            "un stage de sensibilisation à la sécurité routière dans les 4 mois qui suivent la "
            "réception de la lettre recommandée « 48N » : ce délai ne peut pas se terminer "
            f"avant le {french_date(mandatory.date_limite_indicative)}. "
            + ("Vérifiez la date à laquelle vous avez reçu cette lettre : si elle remonte à "
               "plus de 4 mois, le délai est dépassé. " if late else "")
            + "Le stage vous rend jusqu'à 4 points et l'amende forfaitaire vous est remboursée. "
            "Sans stage dans le délai, vous encourez une amende de 4e classe et une suspension "
            "du permis pouvant aller jusqu'à 3 ans.",
            "articles L223-6 et R223-4 du Code de la route"))
    elif (not closed and record.solde <= VOLUNTARY_COURSE_BALANCE
          and record.solde < o.ceiling):
        gain = min(4, o.ceiling - record.solde)
        when = (f" Votre dernier stage a été pris en compte le {french_date(o.last_course)} : "
                f"un nouveau stage ne pourra l'être qu'à partir du "
                f"{french_date(o.next_course_from)}." if o.next_course_from and o.last_course
                else "")
        advice.append(Advice(
            "STAGE_VOLONTAIRE", "avertissement", "Récupérer des points avec un stage",
            f"Votre solde est de {points(record.solde)}. Un stage de sensibilisation à la "
            f"sécurité routière (deux jours) vous rendrait {points(gain)}, sans dépasser "
            f"{o.ceiling} points, dès le lendemain de sa fin. Vous pouvez en suivre un par an "
            f"au plus.{when}", "articles L223-6 (alinéa 4) et R223-8 du Code de la route"))
    # Expired categories first: they forbid driving now.
    for category in sorted(o.categories, key=lambda c: not c.expired):
        if category.expired:
            advice.append(Advice(
                "CATEGORIE_EXPIREE", "alerte", f"Catégorie {category.code} expirée",
                f"Votre catégorie {category.code} ({_lower(category.label)}) n'est plus valable "
                f"depuis le {french_date(category.valid_until or o.today)} : vous ne pouvez "
                "plus conduire ces véhicules tant qu'elle n'est pas renouvelée."))
        elif category.renew_soon:
            extra = (" Elle se renouvelle sur avis d'un médecin agréé ; sa durée de validité "
                     "est de 5 ans jusqu'à 60 ans, 2 ans de 60 à 76 ans, puis 1 an."
                     if category.heavy else "")
            advice.append(Advice(
                "RENOUVELLEMENT", "avertissement", f"Catégorie {category.code} à renouveler",
                f"Votre catégorie {category.code} ({_lower(category.label)}) expire le "
                f"{french_date(category.valid_until or o.today)}. Demandez son renouvellement "
                f"avant cette date pour continuer à conduire ces véhicules.{extra}"))
    return replace(o, advice=tuple(advice))
