"""The points rules of the Code de la route: balance check and forecast of automatic recoveries.

Pure functions over a licence record: no Flask, no database, no clock (the reference date is
passed in). One simulation replays the law over the whole life of the licence, from the
withdrawals, courses and invalidation the national file recorded, and derives every automatic
restitution itself. The same run gives the balance the law yields at the file's own date
(compared with the file's `solde`), the balance today, the timeline of every change, and the
forecast of the restitutions still to come, assuming no new offence.

The rules (Code de la route, versions in force since the décret 2018-715)
-------------------------------------------------------------------------
- 12 points at most (R223-1 I). A first licence starts with 6 points (L223-1 al.2, R223-1 II).
- Probation: 3 years, +2 points at the end of each year; 2 years and +3 a year after early
  accompanied learning (AAC). With the post-licence training (formation complémentaire) the
  probation is one year shorter (18 months after AAC), +2 (or +3) after the first year, then 12
  points at the end (R223-1 II). While on probation the ceiling is 6 plus the bonuses earned
  (R223-1 III). Any offence committed since the start of probation freezes the bonuses; the
  ceiling becomes 12 at the end of probation and the balance then follows L223-6 (R223-1 IV).
- A withdrawal takes effect on its `dateValeur` (fine paid, titre exécutoire, composition pénale
  carried out, conviction final: the "réalité de l'infraction" of L223-1), never on the date of
  the offence.
- Offences committed at the same time and place cost at most 8 points together (L223-2 III,
  R223-2). The balance never goes below 0; at 0 the licence loses its validity (L223-1).
- A 1-point withdrawal comes back 6 months after its `dateValeur` unless a new offence giving
  rise to a withdrawal was *committed* in between (L223-6 al.3; CE 4 Dec 2017 n° 402423).
- Full restoration 2 years after the `dateValeur` of the last withdrawal if no new offence is
  committed in between (L223-6 al.1); 3 years if any withdrawal of the series since the last full
  restoration (or since the licence was issued) punished a délit or a class 4 or 5 contravention
  (L223-6 al.2; CE 21 Nov 2016 n° 392555, CE 15 Jun 2016 n° 393522).
- Points withdrawn for contraventions of classes 1 to 4 come back 10 years after their
  `dateValeur`, whatever happened since (L223-6 last paragraph).
- A course credits 4 points, never above the current ceiling, at most once a year (L223-6 al.4,
  R223-8); it has no effect once the licence is invalidated (letter 48SI).
- Once invalidated, nothing comes back automatically.
- A probationary driver who loses 3 points or more for one offence must follow a course within
  4 months (L223-6 al.5, R223-4).

Readings where the law leaves room (each one is tested in tests/points/)
-------------------------------------------------------------------------
1. Periods end on the same day number (CE n° 402423: a `dateValeur` of 29 Oct 2013 gives the
   point back on 29 Apr 2014). When the target month has no such day, the period ends on the
   last day of that month (31 Aug + 6 months = 28 or 29 Feb), as the Code de procédure civile
   art. 641 al.2 counts months. The restitution happens on that day, so a window is the
   half-open interval [dateValeur, restitution date): an offence committed on the restitution
   day itself no longer blocks it.
2. "Committed inside the window" is judged on `dateInfraction` (CE n° 402423), with hindsight:
   a withdrawal known at the reference date but made definitive after the end of the window
   still blocks the restitution if its offence was committed inside it. The same test applies
   to full restoration and to probation bonuses ("n'a pas commis").
3. Without a time of day in the registry, "at the same time and place" means the same
   `dateInfraction` and the same `lieu`. The 8-point cap falls on the later withdrawals of the
   group, in `dateValeur` order then file order. It applies to probationary licences too (the
   text makes no exception; some lawyers disagree).
4. The 10-year rule gives back what is still missing of that withdrawal: nothing if its point
   came back after 6 months or if a full restoration came since. A course credit is not tied to
   any withdrawal (L223-6 al.4 is a separate reconstitution), so it does not cancel a later
   10-year restitution; the ceiling bounds the result.
5. L223-1 last paragraph makes L223-6 al.1 (the 2-year restoration) inapplicable during the
   probation period: a 2-year restoration that would fall before the end of probation waits for
   the 3-year delay instead (the practitioners' "trois ans en période probatoire"). One that falls
   after the end of probation applies normally.
6. The post-licence training shortens the probation only if no offence giving rise to a
   withdrawal and no suspension happened during the shortened period (L223-1 al.2, ordonnance
   2018-207); otherwise the normal probation and schedule apply.
7. Course spacing: L223-6 al.4 says once a year; some versions of R223-8 II still read two years.
   The spacing is a parameter (`COURSE_CREDIT_SPACING_DAYS`, default 365): a course is credited
   only if at least that many days have passed since the last credited course. A course refused
   for spacing does not restart the count. The course's `dateValeur` is the day the credit takes
   effect (R223-8 III: the day after the last day of the course, as the file records it). The
   mandatory course of R223-4 is a course like any other here.
8. A balance at 0 stops automatic recoveries (the licence has lost its validity, L223-1), but a
   course recorded before the INVALIDATION movement is still credited: the invalidation takes
   effect when the letter 48SI is notified (R223-3), and until then the course restores points
   and the licence is valid again. After the INVALIDATION movement nothing is credited until a
   new licence. A record whose status is INVALIDE or ANNULE gets no forecast at all.
9. A probation start is the issue of a (new) licence, after an invalidation or an annulment too:
   the balance restarts at 6 (L223-1 al.2, "à la date d'obtention du permis") and earlier
   withdrawals, clocks and series are forgotten.
10. The file's balance is compared with the balance the law gives at the end of the day of its
    `dateMiseAJour` (Paris time), or of the reference date if that is earlier: the file is not real
    time, so a restitution that fell due since its last update is not a discrepancy but an
    expected change (`en_attente`). The RESTITUTION movements of the file are not replayed: the
    engine derives each automatic restitution itself, so a file that forgot one, or gave one back
    too early, shows as a discrepancy.
11. Movements whose `dateValeur` is after the reference date are ignored: they are not yet
    definitive as of that date. So is a probation that starts after it (a licence not yet
    issued on that date).
12. The mandatory course applies when an offence committed during probation cost 3 points or more
    (the movement's points, before any cap) and no course was recorded on or after that
    withdrawal's `dateValeur`. The 4 months run from the receipt of the registered letter 48N,
    which the file does not record: `date_limite_indicative` is 4 months after the `dateValeur`,
    the earliest the real deadline can be.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

from modern.licences.record import (
    MAX_POINTS,
    LicenceRecord,
    MotifRestitution,
    Mouvement,
    Probatoire,
    Suspension,
)

PARIS = ZoneInfo("Europe/Paris")

PROBATION_CAPITAL = MAX_POINTS // 2  # L223-1 al.2, R223-1 II: half the maximum
SIMULTANEOUS_CAP = MAX_POINTS * 2 // 3  # L223-2 III, R223-2: two thirds of the maximum
COURSE_CREDIT = 4  # L223-6 al.4, R223-8 I
MANDATORY_COURSE_LOSS = MAX_POINTS // 4  # R223-4: a quarter of the maximum
MANDATORY_COURSE_MONTHS = 4  # R223-4
DEFAULT_COURSE_SPACING_DAYS = 365  # L223-6 al.4: once a year
SIX_MONTH_POINTS = 1  # L223-6 al.3: offences that cost one point
SEVERE_CLASSES = frozenset({"C4", "C5", "DELIT"})  # L223-6 al.2: the 3-year delay
TEN_YEAR_CLASSES = frozenset({"C1", "C2", "C3", "C4"})  # L223-6 last paragraph

Nature = Literal["PERMIS", "RETRAIT", "STAGE", "RESTITUTION", "INVALIDATION", "FIN_PROBATOIRE"]
# Why a movement did not count in full: the course came too soon after the previous one, the
# licence was invalidated, or the 8-point cap on simultaneous offences applied.
Note = Literal["STAGE_TROP_RAPPROCHE", "PERMIS_INVALIDE", "CUMUL_PLAFONNE"]

_MONTHS = ("", "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre")


def french_date(day: dt.date) -> str:
    """`1er mars 2027`, `16 avril 2026`: dates in French words (the pages and the API say
    them in the reader's language through `wording.long_date`; documents keep French)."""
    return f"{'1er' if day.day == 1 else day.day} {_MONTHS[day.month]} {day.year}"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day number `months` later; the last day of the month when that month is
    shorter (CPC art. 641 al.2). Dates past the calendar's end stay at its last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > dt.MAXYEAR:
        return dt.date.max
    if day.day <= 28:
        return dt.date(year, month, day.day)
    if month == 2:
        last = 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    else:
        last = 30 if month in (4, 6, 9, 11) else 31
    return dt.date(year, month, min(day.day, last))


# Dates repeat across millions of licences: the shifted dates are memoised.
_shift = functools.lru_cache(maxsize=1 << 16)(add_months)
# NamedTuple's generated constructor costs twice the tuple itself; steps are built directly.
_new = tuple.__new__


@functools.lru_cache(maxsize=1 << 12)
def _paris_day(moment: dt.datetime) -> dt.date:
    """The day in Paris of an update time; a whole extract shares a handful of them."""
    return moment.astimezone(PARIS).date()


class Restitution(NamedTuple):
    """Points given back by the law on `date`, and what is needed to say why (in words:
    `wording.explanation`)."""

    date: dt.date
    points: int
    motif: MotifRestitution
    solde: int  # the balance once these points are back
    depart: dt.date  # when the clock started: dateValeur, or the start of probation
    mouvement_id: str | None = None  # the withdrawal concerned, or the last one of the series
    cause: str | None = None  # class of the withdrawal; for TROIS_ANS what set the 3 years


class Etape(NamedTuple):
    """One change of the balance or of its ceiling, in the order the law applies them."""

    date: dt.date
    nature: Nature
    variation: int  # signed change of the balance
    solde: int  # balance after the change
    plafond: int  # ceiling after the change: 12, or the probation ceiling
    mouvement_id: str | None = None
    restitution: Restitution | None = None
    note: Note | None = None


class StageObligatoire(NamedTuple):
    """R223-4: a course to follow within 4 months of the letter 48N."""

    mouvement_id: str
    date_infraction: dt.date
    date_valeur: dt.date
    points: int
    # 4 months after dateValeur: the real deadline runs from the receipt of letter 48N, which
    # comes later and which the file does not record, so it is never earlier than this.
    date_limite_indicative: dt.date


class Simulation(NamedTuple):
    """The law replayed over a licence's life, as known at `date_reference`."""

    date_reference: dt.date
    chronologie: tuple[Etape, ...]
    restitutions: tuple[Restitution, ...]  # every automatic restitution, past and future
    solde: int  # at the end of the reference date
    plafond: int  # at the end of the reference date
    invalide: bool  # nothing can come back: invalidated, annulled, or balance at 0
    date_debut_probatoire: dt.date | None
    date_fin_probatoire: dt.date | None
    stage_obligatoire: StageObligatoire | None
    solde_controle: int  # at the end of date_controle (the reference date if not given)

    def solde_au(self, day: dt.date) -> int:
        """The balance the law gives at the end of `day`."""
        return _step_on(self.chronologie, day)[0]


class Bilan(NamedTuple):
    """What the web UI, the JSON API, the SOAP layer and the CLI show about a licence's points."""

    numero_dossier: str
    date_reference: dt.date
    solde: int  # the national file's balance: authoritative, shown as is
    date_solde: dt.date  # the day the file's balance refers to (its update, Paris time)
    solde_recalcule: int  # what the law gives on date_solde from the recorded movements
    ecart: bool  # solde and solde_recalcule differ: a discrepancy to report
    solde_au_jour: int  # what the law gives at the end of date_reference
    plafond: int  # the current ceiling: 12, or 6 plus the probation bonuses earned
    en_probatoire: bool
    date_fin_probatoire: dt.date | None
    invalide: bool
    stage_obligatoire: StageObligatoire | None
    restitutions: tuple[Restitution, ...]  # after date_reference, by date: the forecast
    en_attente: tuple[Restitution, ...]  # due since date_solde, not yet in the file
    chronologie: tuple[Etape, ...]

    def solde_au(self, day: dt.date) -> int:
        """The balance the law gives at the end of `day`."""
        return _step_on(self.chronologie, day)[0]

    def plafond_au(self, day: dt.date) -> int:
        """The ceiling at the end of `day`."""
        return _step_on(self.chronologie, day)[1]


def _step_on(steps: Sequence[Etape], day: dt.date) -> tuple[int, int]:
    """Balance and ceiling at the end of `day`: those of its last step, 12 before any."""
    index = bisect.bisect_right(steps, day, key=lambda step: step.date)
    return (steps[index - 1].solde, steps[index - 1].plafond) if index else (MAX_POINTS,
                                                                              MAX_POINTS)


def assess(record: LicenceRecord, as_of: dt.date, *,
           course_spacing_days: int = DEFAULT_COURSE_SPACING_DAYS) -> Bilan:
    """The balance check and the forecast of one licence as of `as_of`."""
    file_day = _paris_day(record.date_mise_a_jour)
    date_solde = file_day if file_day < as_of else as_of
    run = simulate(record.mouvements, as_of, probatoire=record.probatoire,
                   suspensions=record.suspensions,
                   closed=record.etat_permis in ("INVALIDE", "ANNULE"),
                   course_spacing_days=course_spacing_days, date_controle=date_solde)
    recomputed = run.solde_controle
    future: list[Restitution] = []
    pending: list[Restitution] = []
    for restitution in run.restitutions:
        if restitution.date > as_of:
            future.append(restitution)
        elif restitution.date > date_solde:
            pending.append(restitution)
    start, end = run.date_debut_probatoire, run.date_fin_probatoire
    # Positional, in the order of the fields (a keyword call costs four times as much).
    return _new(Bilan, (
        record.numero_dossier,  # numero_dossier
        as_of,  # date_reference
        record.solde,  # solde
        date_solde,  # date_solde
        recomputed,  # solde_recalcule
        recomputed != record.solde,  # ecart
        run.solde,  # solde_au_jour
        run.plafond,  # plafond
        start is not None and end is not None and start <= as_of < end,  # en_probatoire
        end,  # date_fin_probatoire
        run.invalide,  # invalide
        run.stage_obligatoire,  # stage_obligatoire
        tuple(future),  # restitutions
        tuple(pending),  # en_attente
        run.chronologie,  # chronologie
    ))


# Order of the events of one day: a new licence, then the probation's ceiling, then what comes
# back (full restoration first, so that the individual clocks it overtakes give nothing), then
# what the file recorded (a course after a withdrawal of the same day, in the holder's favour).
_START, _PROBATION, _FULL, _SIX, _TEN, _WITHDRAWAL, _COURSE, _INVALIDATION = range(8)

class _Withdrawal:
    """A RETRAIT as the simulation tracks it."""

    __slots__ = ("classe", "done", "group", "id", "infraction", "licence", "missing", "points",
                 "valeur")

    def __init__(self, movement: Mouvement) -> None:
        self.id = movement.id
        self.infraction: dt.date = movement.date_infraction or movement.date_valeur
        self.valeur = movement.date_valeur
        self.points = movement.points
        self.classe = movement.classe
        self.group = (self.infraction, movement.lieu)
        self.done = False  # applied to the balance already
        self.licence = -1  # which licence it was applied to (a new licence forgets the rest)
        self.missing = 0  # points withdrawn and not given back yet


def simulate(mouvements: Iterable[Mouvement], as_of: dt.date, *,
             probatoire: Probatoire | None = None, suspensions: Sequence[Suspension] = (),
             closed: bool = False,
             course_spacing_days: int = DEFAULT_COURSE_SPACING_DAYS,
             forecast: bool = True, date_controle: dt.date | None = None) -> Simulation:
    """Replays the law over the recorded movements known at `as_of` (those whose dateValeur is
    not after it) and runs it forward until nothing more can come back. `closed` (status
    INVALIDE or ANNULE) stops everything at `as_of`; so does `forecast=False`, for callers that
    only need the past (the balance and the restitutions until `as_of`). The balance at the end
    of `date_controle` (not after `as_of`) is noted on the way."""
    if date_controle is None or date_controle > as_of:
        date_controle = as_of
    withdrawals: list[_Withdrawal] = []
    # (date, order of the day, sequence, payload): the first three are unique, so sorting
    # never compares payloads.
    events: list[tuple[dt.date, int, int, Any]] = []
    courses: list[dt.date] = []
    for index, movement in enumerate(mouvements):
        valeur = movement.date_valeur
        if valeur > as_of:
            continue  # not yet definitive on that date (L223-1; reading 11)
        nature = movement.type
        if nature == "RETRAIT":
            withdrawal = _Withdrawal(movement)
            withdrawals.append(withdrawal)
            # L223-1: removed on its dateValeur (the réalité de l'infraction), and the
            # L223-6 clocks start from that day too, not from the offence.
            events.append((valeur, _WITHDRAWAL, index, withdrawal))
            if movement.points == SIX_MONTH_POINTS:  # L223-6 al.3: back after 6 months
                events.append((_shift(valeur, 6), _SIX, index, withdrawal))
            if movement.classe in TEN_YEAR_CLASSES:  # L223-6 last paragraph: after 10 years
                events.append((_shift(valeur, 120), _TEN, index, withdrawal))
        elif nature == "STAGE":
            courses.append(valeur)
            events.append((valeur, _COURSE, index, movement.id))
        elif nature == "INVALIDATION":
            events.append((valeur, _INVALIDATION, index, movement.id))
        # RESTITUTION movements are the file's account of what the law gave back: the law is
        # replayed here instead, and a difference shows in the balance check.

    start = end = None
    first_offence: dt.date | None = None
    if probatoire is not None and probatoire.date_debut <= as_of:
        start = probatoire.date_debut
        for w in withdrawals:
            if w.infraction >= start and (first_offence is None or w.infraction < first_offence):
                first_offence = w.infraction
        end, plan = _probation_plan(probatoire, first_offence, suspensions)
        events.append((start, _START, 0, None))
        for number, (day, bonus) in enumerate(plan):
            events.append((day, _PROBATION, number, bonus))
    elif not events:  # nothing ever happened to this licence
        return _new(Simulation, (as_of, (), (), MAX_POINTS, MAX_POINTS, closed, None, None, None,
                                 MAX_POINTS))
    events.sort()

    balance = ceiling = MAX_POINTS
    invalidated = False
    licence = 0
    last: _Withdrawal | None = None  # last withdrawal of the current series
    severe: str | None = None  # first class of the series that sets the 3-year delay
    never = dt.date.max
    full_at = never  # date of the pending full restoration; `never`: none
    full_motif: MotifRestitution = "DEUX_ANS"
    full_cause: str | None = None
    last_course: dt.date | None = None
    groups: dict[tuple[dt.date, str | None], int] = {}
    missing: list[_Withdrawal] = []  # withdrawals with points still to come back
    steps: list[Etape] = []
    gains: list[Restitution] = []
    today: tuple[int, int, bool] | None = None  # balance, ceiling, invalid at as_of
    checked: int | None = None  # balance at date_controle
    mark = date_controle  # the next date whose end of day is noted
    new = _new

    position, count = 0, len(events)
    while True:
        if position < count:
            event = events[position]
            day = event[0]
            if full_at < day or (full_at == day and event[1] > _FULL):
                day, kind = full_at, _FULL
            else:
                kind, payload = event[1], event[3]
                position += 1
        elif full_at != never:
            day, kind = full_at, _FULL
        else:
            break
        if day > mark:
            if checked is None:
                checked, mark = balance, as_of
            if day > as_of:
                today, mark = (balance, ceiling, invalidated or balance == 0 or closed), never
                if closed or not forecast:
                    break

        if kind == _WITHDRAWAL:
            w = payload
            w.done, w.licence = True, licence
            if invalidated:
                steps.append(new(Etape, (day, "RETRAIT", 0, 0, ceiling, w.id, None,
                                         "PERMIS_INVALIDE")))
                continue
            # L223-2 III: simultaneous offences cost at most 8 points together.
            group = w.group
            already = groups.get(group, 0)
            points = w.points
            if already + points > SIMULTANEOUS_CAP:
                points = SIMULTANEOUS_CAP - already
            groups[group] = already + points
            taken = points if points < balance else balance
            balance -= taken
            w.missing = taken
            if taken:
                missing.append(w)
            # L223-6 al.1-2: the full-restoration clock restarts from this dateValeur.
            last = w
            if severe is None and w.classe in SEVERE_CLASSES:
                severe = w.classe
            if severe is not None:
                full_at, full_motif, full_cause = _shift(day, 36), "TROIS_ANS", severe
            else:
                full_at, full_motif, full_cause = _shift(day, 24), "DEUX_ANS", None
                if end is not None and licence == 1 and full_at < end:
                    # L223-1 last paragraph: no 2-year restoration during probation.
                    full_at, full_motif, full_cause = _shift(day, 36), "TROIS_ANS", "PROBATOIRE"
            steps.append(new(Etape, (day, "RETRAIT", -taken, balance, ceiling, w.id, None,
                                     "CUMUL_PLAFONNE" if points < w.points else None)))

        elif kind in (_SIX, _TEN):
            w = payload
            # L223-1: an invalid licence (balance 0, letter 48SI) gets nothing back.
            if invalidated or not balance or w.licence != licence or not w.missing:
                continue
            if kind == _SIX:
                since = w.valeur
                group = w.group
                if any(since <= o.infraction < day and o is not w and o.group != group
                       for o in withdrawals):
                    continue  # L223-6 al.3: a new offence committed inside the 6 months
            room = ceiling - balance
            gain = w.missing if w.missing < room else room
            w.missing = 0
            missing.remove(w)
            if gain:
                balance += gain
                restitution = new(Restitution, (day, gain, "SIX_MOIS" if kind == _SIX
                                                else "DIX_ANS", balance, w.valeur, w.id,
                                                w.classe))
                gains.append(restitution)
                steps.append(new(Etape, (day, "RESTITUTION", gain, balance, ceiling, w.id,
                                         restitution, None)))

        elif kind == _FULL:
            full_at = never
            assert last is not None
            since = last.valeur
            # L223-6 al.1: no new offence committed since the last withdrawal's dateValeur.
            if invalidated or not balance or any(
                    since <= o.infraction < day and not o.done for o in withdrawals):
                continue
            gain = ceiling - balance
            balance = ceiling
            for w in missing:
                w.missing = 0
            missing.clear()
            last_id = last.id
            last, severe = None, None
            if gain:
                restitution = new(Restitution, (day, gain, full_motif, balance, since, last_id,
                                                full_cause))
                gains.append(restitution)
                steps.append(new(Etape, (day, "RESTITUTION", gain, balance, ceiling, last_id,
                                         restitution, None)))

        elif kind == _COURSE:
            # L223-6 al.4, R223-8: +4 points within the ceiling, once per spacing period;
            # nothing after the letter 48SI (reading 8).
            if invalidated:
                steps.append(new(Etape, (day, "STAGE", 0, balance, ceiling, payload, None,
                                         "PERMIS_INVALIDE")))
            elif last_course is not None and (day - last_course).days < course_spacing_days:
                steps.append(new(Etape, (day, "STAGE", 0, balance, ceiling, payload, None,
                                         "STAGE_TROP_RAPPROCHE")))
            else:
                gain = min(COURSE_CREDIT, ceiling - balance)
                balance += gain
                last_course = day
                steps.append(new(Etape, (day, "STAGE", gain, balance, ceiling, payload, None,
                                         None)))

        elif kind == _INVALIDATION:
            # L223-1, R223-3 III: the letter 48SI; nothing comes back until a new licence.
            steps.append(new(Etape, (day, "INVALIDATION", -balance, 0, ceiling, payload, None,
                                     None)))
            balance, invalidated, full_at = 0, True, never

        elif kind == _START:
            # L223-1 al.2: a (new) licence starts with half the maximum, its past forgotten.
            licence += 1
            previous = balance
            balance = ceiling = PROBATION_CAPITAL
            invalidated, last, severe, full_at = False, None, None, never
            for w in missing:
                w.missing = 0
            missing.clear()
            groups.clear()
            steps.append(new(Etape, (day, "PERMIS", balance - previous, balance, ceiling, None,
                                     None, None)))

        else:  # _PROBATION: a yearly bonus, or the end of probation (payload None)
            assert start is not None
            frozen = first_offence is not None and first_offence < day
            valid = not invalidated and balance > 0
            if payload is None:
                raise_by = MAX_POINTS - ceiling if not frozen and valid else 0
                ceiling = MAX_POINTS
            elif frozen or not valid:
                continue  # R223-1 II: an offence since the start of probation stops the bonuses
            else:
                raise_by = payload
                ceiling = min(ceiling + payload, MAX_POINTS)
            gain = min(raise_by, ceiling - balance)
            if gain > 0:
                balance += gain
                restitution = new(Restitution, (day, gain, "PROBATOIRE", balance, start, None,
                                                "FIN" if payload is None else "ANNEE"))
                gains.append(restitution)
                steps.append(new(Etape, (day, "RESTITUTION", gain, balance, ceiling, None,
                                         restitution, None)))
            else:
                steps.append(new(Etape, (day, "FIN_PROBATOIRE", 0, balance, ceiling, None, None,
                                         None)))

    if today is None:
        today = (balance, ceiling, invalidated or balance == 0 or closed)
    if checked is None:
        checked = balance
    mandatory = None
    if start is not None and end is not None and not today[2]:
        mandatory = _mandatory_course(withdrawals, courses, start, end, licence)
    return _new(Simulation, (as_of, tuple(steps), tuple(gains), today[0], today[1], today[2],
                             start, end, mandatory, checked))


def _probation_plan(probatoire: Probatoire, first_offence: dt.date | None,
                    suspensions: Sequence[Suspension]) -> tuple[dt.date, list[tuple[dt.date,
                                                                                   int | None]]]:
    """The end of probation and its bonus dates (R223-1 II); None marks the end, where the
    balance is raised to the maximum if no offence was committed."""
    start = probatoire.date_debut
    yearly = 3 if probatoire.aac else 2
    normal_end = _shift(start, 24 if probatoire.aac else 36)
    if probatoire.formation_complementaire:
        short_end = _shift(start, 18 if probatoire.aac else 24)
        # L223-1 al.2: the shortening holds only without offence or suspension meanwhile.
        kept = (first_offence is None or first_offence >= short_end) and not any(
            start <= s.date_debut < short_end for s in suspensions)
        if kept:
            return short_end, [(_shift(start, 12), yearly), (short_end, None)]
    years = 2 if probatoire.aac else 3
    plan: list[tuple[dt.date, int | None]] = [
        (_shift(start, 12 * year), yearly) for year in range(1, years)]
    plan.append((normal_end, None))
    return normal_end, plan


def _mandatory_course(withdrawals: list[_Withdrawal], courses: list[dt.date], start: dt.date,
                      end: dt.date, licence: int) -> StageObligatoire | None:
    """R223-4: the latest offence of the probation that cost 3 points or more, if no course
    was recorded since."""
    trigger: _Withdrawal | None = None
    for w in withdrawals:
        if (w.licence == licence and w.points >= MANDATORY_COURSE_LOSS
                and start <= w.infraction < end
                and (trigger is None or w.valeur >= trigger.valeur)):
            trigger = w
    if trigger is None or any(day >= trigger.valeur for day in courses):
        return None
    return StageObligatoire(trigger.id, trigger.infraction, trigger.valeur, trigger.points,
                            _shift(trigger.valeur, MANDATORY_COURSE_MONTHS))
