"""The texts of alert messages: the confirmation link, and the change with its new figures.

The confirmation answers the holder's request on the preferences page: it is written in the
language of that request. An alert is sent by the registry import, with no request: French.

A message names the file by its last four characters only, never whole. It carries the new
balance: it goes only to an address the holder confirmed as theirs (L223-7: the points are
the holder's to know).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext

from adapters.messaging import Message
from modern.alerts.models import EMAIL
from modern.i18n import N_
from modern.points.rules import PARIS, french_date

if TYPE_CHECKING:
    from modern.alerts.models import AlertChange
    from modern.alerts.services import Links

SUBJECT_PREFIX = N_("Mes points permis : ")
ETATS = {"VALIDE": "valide", "SUSPENDU": "suspendu", "INVALIDE": "invalidé (solde nul)",
         "ANNULE": "annulé"}
_SIGNATURE_LINE = "\n\n-- \n"
_SIGNATURE = N_("Mes points permis, le service de consultation du solde de points du permis de "
                "conduire.\nCe message est envoyé automatiquement : n'y répondez pas.")
_CONFIRM_EMAIL = N_("""Bonjour,

Vous avez demandé à recevoir à cette adresse une alerte quand le solde de points ou l'état de \
votre permis de conduire change dans le fichier national.

Pour confirmer, ouvrez ce lien dans les 24 heures :
{link}

Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : aucune alerte ne sera \
envoyée.""")
_CONFIRM_SMS = N_("Mes points permis : pour recevoir vos alertes par SMS, confirmez dans les "
                  "24 h : {link}")


def _points(value: int) -> str:
    return f"{value} point{'s' if value > 1 else ''}"


def confirmation(channel: str, address: str, link: str) -> Message:
    """In the language of the holder's request (the preferences page)."""
    if channel == EMAIL:
        return Message(
            channel="email", recipient=address,
            subject=gettext(SUBJECT_PREFIX) + gettext(N_("confirmez l'adresse de vos alertes")),
            body=gettext(_CONFIRM_EMAIL).format(link=link) + _SIGNATURE_LINE
            + gettext(_SIGNATURE), purpose="alerte_confirmation", secrets=(link,))
    return Message(channel="sms", recipient=address,
                   body=gettext(_CONFIRM_SMS).format(link=link),
                   purpose="alerte_confirmation", secrets=(link,))


def alert(channel: str, address: str, change: AlertChange, links: Links) -> Message:
    """The change, with the new figures and where to read the rest."""
    day = change.date_mise_a_jour.astimezone(PARIS).date()
    ending = change.numero[-4:]
    facts = []
    if change.solde != change.solde_avant:
        facts.append(f"Solde de points : {_points(change.solde)} (auparavant "
                     f"{_points(change.solde_avant)}).")
    if change.etat != change.etat_avant:
        facts.append(f"État du permis : {ETATS.get(change.etat, change.etat)} (auparavant "
                     f"{ETATS.get(change.etat_avant, change.etat_avant)}).")
    else:
        facts.append(f"État du permis : {ETATS.get(change.etat, change.etat)}.")
    if channel == EMAIL:
        subject = ("l'état de votre permis a changé" if change.etat != change.etat_avant
                   else "votre solde de points a changé")
        return Message(
            channel="email", recipient=address, subject=SUBJECT_PREFIX + subject,
            body=(f"Bonjour,\n\nLe fichier national des permis de conduire a mis à jour votre "
                  f"dossier (numéro se terminant par {ending}) le {french_date(day)}.\n\n"
                  + "\n".join(facts) +
                  "\n\nLe fichier enregistre un retrait quand l'infraction est établie (amende "
                  "payée, condamnation définitive), souvent plusieurs semaines après "
                  "l'infraction.\n\nLe détail, l'historique et les prochaines restitutions de "
                  f"points :\n{links.dashboard}\n\nVous recevez ce message parce que vous avez "
                  "demandé ces alertes. Pour ne plus les recevoir :\n"
                  f"{links.preferences}" + _SIGNATURE_LINE + _SIGNATURE),
            purpose="alerte_changement")
    figures = " ".join(facts)
    return Message(channel="sms", recipient=address,
                   body=(f"Mes points permis, dossier ...{ending}, mis à jour le "
                         f"{day:%d/%m/%Y} : {figures} Détail : {links.dashboard}"),
                   purpose="alerte_changement")
