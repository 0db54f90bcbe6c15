"""The words of the points rules, in the reader's language: dates, numbers of points, and why
points come back on a date.

The rules engine (`rules.py`) stays pure and speaks no language; the pages, the API and the
calendar say what it found through these functions, which read the request's language
(French outside a request: commands, jobs, tests of the engine). Documents with legal value
(the PDFs) keep `rules.french_date`: they are French whatever the reader's language.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date, format_time
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from modern.i18n import DEFAULT, N_
from modern.points.rules import Restitution, french_date

# What a withdrawal punished, as the sentences below name it.
_CLASS_TEXT = {"C1": N_("une contravention de 1re classe"),
               "C2": N_("une contravention de 2e classe"),
               "C3": N_("une contravention de 3e classe"),
               "C4": N_("une contravention de 4e classe"),
               "C5": N_("une contravention de 5e classe"), "DELIT": N_("un délit")}


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def long_date(day: dt.date) -> str:
    """`1er mars 2027` in French, `1 March 2027` in English."""
    if _language() == DEFAULT:
        return french_date(day)
    return format_date(day, "d MMMM y", locale=get_locale())


def clock(moment: dt.datetime | dt.time) -> str:
    """`14 h 05` in French, `14:05` in English."""
    if _language() == DEFAULT:
        return f"{moment:%H h %M}"
    return format_time(moment, "HH:mm", locale=get_locale())


def points(value: int) -> str:
    """`1 point`, `0 point` and `3 points` in French; `0 points` in English."""
    count = value if _language() != DEFAULT or abs(value) > 1 else 1
    return ngettext("%(n)s point", "%(n)s points", abs(count), n=value)


def explanation(r: Restitution) -> str:
    """One sentence: why these points come back on this date, citing the article."""
    start = long_date(r.depart)
    if r.motif == "SIX_MOIS":
        return _("Le point retiré le %(date)s revient six mois plus tard, aucune nouvelle "
                 "infraction n'ayant été commise entre-temps (article L223-6, alinéa 3).",
                 date=start)
    if r.motif == "DIX_ANS":
        return _("Les points retirés le %(date)s pour %(nature)s reviennent dix ans après ce "
                 "retrait, quelles que soient les infractions commises depuis (article "
                 "L223-6, dernier alinéa).", date=start,
                 nature=_(_CLASS_TEXT.get(r.cause or "", N_("une contravention"))))
    if r.motif == "DEUX_ANS":
        return _("Aucune nouvelle infraction n'ayant été commise dans les deux ans qui suivent "
                 "le dernier retrait (%(date)s), le solde revient à %(balance)s points "
                 "(article L223-6, alinéa 1).", date=start, balance=r.solde)
    if r.motif == "TROIS_ANS":
        if r.cause == "PROBATOIRE":
            return _("Aucune nouvelle infraction n'ayant été commise dans les trois ans qui "
                     "suivent le dernier retrait (%(date)s), le solde revient à %(balance)s "
                     "points. Le délai est de trois ans car ce retrait a eu lieu pendant la "
                     "période probatoire (articles L223-1 et L223-6).",
                     date=start, balance=r.solde)
        return _("Aucune nouvelle infraction n'ayant été commise dans les trois ans qui "
                 "suivent le dernier retrait (%(date)s), le solde revient à %(balance)s "
                 "points. Le délai est de trois ans car l'une des infractions de la série est "
                 "%(nature)s (article L223-6, alinéa 2).", date=start, balance=r.solde,
                 nature=_(_CLASS_TEXT.get(r.cause or "", N_("une infraction grave"))))
    if r.cause == "FIN":
        return _("Fin de la période probatoire commencée le %(date)s, sans infraction : le "
                 "solde est porté à %(balance)s points (article R223-1).",
                 date=start, balance=r.solde)
    year = max(1, min(3, r.date.year - r.depart.year))
    return (_("Première année de la période probatoire commencée le %(date)s sans "
              "infraction : %(points)s points de plus (article R223-1, II).",
              date=start, points=r.points) if year == 1 else
            _("Deuxième année de la période probatoire commencée le %(date)s sans "
              "infraction : %(points)s points de plus (article R223-1, II).",
              date=start, points=r.points) if year == 2 else
            _("Troisième année de la période probatoire commencée le %(date)s sans "
              "infraction : %(points)s points de plus (article R223-1, II).",
              date=start, points=r.points))
