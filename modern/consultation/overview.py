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

from flask_babel import gettext as _
from flask_babel import ngettext

from modern.i18n import N_
from modern.licences.record import Categorie, LicenceRecord, Mouvement, Suspension
from modern.points.rules import PARIS, Bilan, Etape, Restitution, add_months
from modern.points.wording import explanation, long_date, points

HISTORY_YEARS = 10  # what Mes Points Permis shows, and what we keep on screen
RENEWAL_NOTICE_MONTHS = 6  # a heavy category expiring sooner than this: time to renew
VOLUNTARY_COURSE_BALANCE = 6  # letter 48M: at 6 points or less a course is suggested
# Categories whose validity is limited and renewed on medical advice: 5 years until 60,
# 2 years from 60 to 76, then 1 year.
HEAVY = frozenset({"C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE"})

# The tables below are marked for the catalogue and translated where an overview is built
# (`build`, in the reader's language).
ETATS = {"VALIDE": N_("Valide"), "SUSPENDU": N_("Suspendu"),
         "INVALIDE": N_("Invalidé (solde nul)"), "ANNULE": N_("Annulé")}
CATEGORIES = {
    "AM": N_("Cyclomoteurs et quadricycles légers"), "A1": N_("Motocyclettes légères"),
    "A2": N_("Motocyclettes de puissance limitée (35 kW)"), "A": N_("Motocyclettes"),
    "B1": N_("Quadricycles lourds"), "B": N_("Voitures (3,5 t et 9 places au plus)"),
    "BE": N_("Voitures avec remorque"), "C1": N_("Poids lourds de 3,5 t à 7,5 t"),
    "C1E": N_("Poids lourds C1 avec remorque"), "C": N_("Poids lourds de plus de 3,5 t"),
    "CE": N_("Poids lourds C avec remorque"), "D1": N_("Minibus (16 passagers au plus)"),
    "D1E": N_("Minibus avec remorque"), "D": N_("Autobus et autocars"),
    "DE": N_("Autobus et autocars avec remorque"),
}
# The harmonised European codes printed in column 12 of the licence (directive 2006/126/CE).
RESTRICTIONS = {
    "01": N_("Correction ou protection de la vue"), "01.01": N_("Lunettes"),
    "01.02": N_("Lentilles de contact"), "01.05": N_("Cache-œil"),
    "01.06": N_("Lunettes ou lentilles de contact"), "01.07": N_("Aide optique spécifique"),
    "02": N_("Prothèse auditive ou aide à la communication"),
    "78": N_("Véhicules à boîte de vitesses automatique uniquement"),
    "95": N_("Conducteur titulaire d'une qualification professionnelle (CAP/FIMO/FCO)"),
    "96": N_("Ensemble voiture et remorque jusqu'à 4 250 kg (B96)"),
}
NATURES = {"RETRAIT": N_("Retrait de points"), "STAGE": N_("Stage de sensibilisation"),
           "RESTITUTION": N_("Restitution de points"),
           "INVALIDATION": N_("Invalidation du permis")}
MOTIFS = {"SIX_MOIS": N_("un point, six mois après le retrait"),
          "DEUX_ANS": N_("deux ans sans infraction"),
          "TROIS_ANS": N_("trois ans sans infraction"),
          "DIX_ANS": N_("dix ans après le retrait"), "PROBATOIRE": N_("période probatoire")}
CLASSES = {"C1": N_("Contravention de 1re classe"), "C2": N_("Contravention de 2e classe"),
           "C3": N_("Contravention de 3e classe"), "C4": N_("Contravention de 4e classe"),
           "C5": N_("Contravention de 5e classe"), "DELIT": N_("Délit")}

Level = Literal["info", "avertissement", "alerte"]


def _lower(label: str) -> str:
    """A label inside a sentence: "Voitures…" reads "voitures…"; a leading code ("C goods
    vehicles") keeps its capital."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


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
        status=record.etat_permis, status_label=_(ETATS[record.etat_permis]),
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
        code=category.code,
        label=_(CATEGORIES[category.code]) if category.code in CATEGORIES else category.code,
        obtained_on=category.date_obtention, valid_until=until,
        restrictions=tuple((code, _(RESTRICTIONS[code]) if code in RESTRICTIONS else "")
                           for code in category.restrictions),
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
            remark = _("Retrait limité à %(points)s : les infractions commises en même temps "
                       "coûtent 8 points au plus (article L223-2).",
                       points=points(-step.variation))
        elif step.note == "STAGE_TROP_RAPPROCHE":
            remark = _("Sans effet sur le solde : moins d'un an après le stage précédent "
                       "(article L223-6).")
        elif step.note == "PERMIS_INVALIDE":
            remark = _("Sans effet sur le solde : le permis était invalidé.")
        elif movement.type == "STAGE" and step.variation < movement.points:
            remark = ngettext("%(points)s crédité : le solde ne peut dépasser %(ceiling)s "
                              "points.",
                              "%(points)s crédités : le solde ne peut dépasser %(ceiling)s "
                              "points.", max(step.variation, 1), points=points(step.variation),
                              ceiling=step.plafond)
    classe = CLASSES.get(movement.classe) if movement.classe else None
    motif = MOTIFS.get(movement.motif) if movement.motif else None
    return HistoryLine(
        id=movement.id, date_valeur=movement.date_valeur, type=movement.type,
        nature=_(NATURES[movement.type]), points=signed,
        date_infraction=movement.date_infraction, classe=_(classe) if classe else None,
        libelle=movement.libelle, lieu=movement.lieu, motif=_(motif) if motif else None,
        remark=remark)


# -- advice ----------------------------------------------------------------------------------


def _with_advice(o: Overview) -> Overview:
    advice: list[Advice] = []
    record, bilan = o.record, o.bilan
    closed = record.etat_permis in ("INVALIDE", "ANNULE") or record.solde == 0
    if record.etat_permis == "ANNULE":
        advice.append(Advice(
            "ANNULATION", "alerte", _("Votre permis est annulé"),
            _("Une décision de justice a annulé votre permis : vous ne pouvez plus conduire. "
              "Un nouveau permis ne peut être demandé qu'à la fin du délai fixé par le juge.")))
    elif closed:
        advice.append(Advice(
            "INVALIDATION", "alerte", _("Votre permis n'est plus valide"),
            _("Votre solde est nul : le permis perd sa validité (article L223-1). Remettez-le "
              "à la préfecture dans les 10 jours qui suivent la réception de la lettre "
              "recommandée « 48SI » (article R223-3). Vous pourrez demander un nouveau permis "
              "6 mois après l'avoir remis, 1 an si une autre invalidation a eu lieu dans les 5 "
              "ans, après un examen médical et psychotechnique (article L223-5). Aucun point "
              "ne revient automatiquement, et un stage ne rend plus de points."),
            _("articles L223-1, L223-5 et R223-3 du Code de la route")))
    if o.current_suspension is not None or record.etat_permis == "SUSPENDU":
        end = o.current_suspension.date_fin if o.current_suspension else None
        start = o.current_suspension.date_debut if o.current_suspension else None
        if start and end:
            text = _("Votre permis est suspendu du %(start)s au %(end)s : vous ne devez pas "
                     "conduire pendant cette période.", start=long_date(start),
                     end=long_date(end))
        elif start:
            text = _("Votre permis est suspendu depuis le %(start)s : vous ne devez pas "
                     "conduire pendant cette période.", start=long_date(start))
        else:
            text = _("Votre permis est suspendu : vous ne devez pas conduire pendant cette "
                     "période.")
        advice.append(Advice(
            "SUSPENSION", "alerte", _("Votre permis est suspendu"),
            text + " " + _("Une suspension ne retire pas de points par elle-même ; votre "
                           "solde reste celui indiqué ci-dessous.")))
    if bilan.ecart:
        advice.append(Advice(
            "ECART", "alerte",
            _("Le solde du fichier ne correspond pas aux mouvements enregistrés"),
            _("Le fichier national indique %(balance)s au %(date)s, alors que les retraits, "
              "stages et restitutions qu'il enregistre donnent %(computed)s à cette date selon "
              "les règles de récupération des points (article L223-6). Le solde du fichier "
              "national reste le solde officiel. S'il vous paraît erroné, demandez sa "
              "correction à votre préfecture en joignant votre relevé d'information intégral, "
              "que vous pouvez télécharger ci-dessous après une connexion avec FranceConnect.",
              balance=points(record.solde), date=long_date(bilan.date_solde),
              computed=points(bilan.solde_recalcule)),
            _("article L223-6 du Code de la route")))
    if bilan.en_attente and not closed:
        gained = sum(r.points for r in bilan.en_attente)
        first = bilan.en_attente[0]
        advice.append(Advice(
            "EN_ATTENTE", "info", _("Des points vous sont revenus depuis la dernière mise à jour"),
            ngettext("D'après les règles de récupération, %(points)s vous est revenu depuis le "
                     "%(since)s (le %(date)s : %(why)s). Le fichier national ne l'a pas encore "
                     "enregistré : votre solde devrait passer à %(balance)s lors d'une "
                     "prochaine mise à jour.",
                     "D'après les règles de récupération, %(points)s vous sont revenus depuis "
                     "le %(since)s (le %(date)s : %(why)s). Le fichier national ne l'a pas "
                     "encore enregistré : votre solde devrait passer à %(balance)s lors d'une "
                     "prochaine mise à jour.", gained, points=points(gained),
                     since=long_date(bilan.date_solde), date=long_date(first.date),
                     why=explanation(first), balance=points(bilan.solde_au_jour)),
            _("article L223-6 du Code de la route")))
    mandatory = bilan.stage_obligatoire
    if mandatory is not None and not closed:
        late = mandatory.date_limite_indicative < o.today
        texts = [
            _("En période probatoire, vous avez perdu %(points)s pour une infraction commise "
              "le %(date)s. Vous devez suivre un stage de sensibilisation à la sécurité "
              "routière dans les 4 mois qui suivent la réception de la lettre recommandée "
              "« 48N » : ce délai ne peut pas se terminer avant le %(earliest)s.",
              points=points(mandatory.points), date=long_date(mandatory.date_infraction),
              earliest=long_date(mandatory.date_limite_indicative))]
        if late:
            texts.append(_("Vérifiez la date à laquelle vous avez reçu cette lettre : si elle "
                           "remonte à plus de 4 mois, le délai est dépassé."))
        texts.append(_("Le stage vous rend jusqu'à 4 points et l'amende forfaitaire vous est "
                       "remboursée. Sans stage dans le délai, vous encourez une amende de 4e "
                       "classe et une suspension du permis pouvant aller jusqu'à 3 ans."))
        advice.append(Advice(
            "STAGE_OBLIGATOIRE", "alerte", _("Stage obligatoire de sensibilisation"),
            " ".join(texts), _("articles L223-6 et R223-4 du Code de la route")))
    elif (not closed and record.solde <= VOLUNTARY_COURSE_BALANCE
          and record.solde < o.ceiling):
        gain = min(4, o.ceiling - record.solde)
        texts = [_("Votre solde est de %(balance)s. Un stage de sensibilisation à la sécurité "
                   "routière (deux jours) vous rendrait %(gain)s, sans dépasser %(ceiling)s "
                   "points, dès le lendemain de sa fin. Vous pouvez en suivre un par an au "
                   "plus.", balance=points(record.solde), gain=points(gain),
                   ceiling=o.ceiling)]
        if o.next_course_from and o.last_course:
            texts.append(_("Votre dernier stage a été pris en compte le %(last)s : un nouveau "
                           "stage ne pourra l'être qu'à partir du %(next)s.",
                           last=long_date(o.last_course), next=long_date(o.next_course_from)))
        advice.append(Advice(
            "STAGE_VOLONTAIRE", "avertissement", _("Récupérer des points avec un stage"),
            " ".join(texts), _("articles L223-6 (alinéa 4) et R223-8 du Code de la route")))
    # Expired categories first: they forbid driving now.
    for category in sorted(o.categories, key=lambda c: not c.expired):
        if category.expired:
            advice.append(Advice(
                "CATEGORIE_EXPIREE", "alerte",
                _("Catégorie %(code)s expirée", code=category.code),
                _("Votre catégorie %(code)s (%(label)s) n'est plus valable depuis le %(date)s : "
                  "vous ne pouvez plus conduire ces véhicules tant qu'elle n'est pas "
                  "renouvelée.", code=category.code, label=_lower(category.label),
                  date=long_date(category.valid_until or o.today))))
        elif category.renew_soon:
            texts = [_("Votre catégorie %(code)s (%(label)s) expire le %(date)s. Demandez son "
                       "renouvellement avant cette date pour continuer à conduire ces "
                       "véhicules.", code=category.code, label=_lower(category.label),
                       date=long_date(category.valid_until or o.today))]
            if category.heavy:
                texts.append(_("Elle se renouvelle sur avis d'un médecin agréé ; sa durée de "
                               "validité est de 5 ans jusqu'à 60 ans, 2 ans de 60 à 76 ans, "
                               "puis 1 an."))
            advice.append(Advice(
                "RENOUVELLEMENT", "avertissement",
                _("Catégorie %(code)s à renouveler", code=category.code), " ".join(texts)))
    return replace(o, advice=tuple(advice))
