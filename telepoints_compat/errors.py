"""The answers a legacy client can get instead of data: the contract's `CodeErreur` values,
with the French message each one carries, the same on the SOAP path and on the web pages.
SOAP faults carry them as they are (the contract is French); the web pages show them in the
page's language (marked `N_`, translated where shown).

The message depends on the code only, never on the file or on what went wrong inside: an
unknown file and a wrong code give the very same bytes.
"""

from __future__ import annotations

import datetime as dt

from modern.i18n import N_

MESSAGES = {
    "IDENTIFIANTS_INVALIDES": N_("Numéro de dossier ou code confidentiel incorrect."),
    "COMPTE_BLOQUE": N_("Trop d'essais infructueux : l'accès à ce dossier est suspendu "
                        "temporairement."),
    "CODE_EXPIRE": N_("Ce code confidentiel a expiré. Demandez un nouveau code."),
    "REQUETE_INVALIDE": N_("La requête ne respecte pas le contrat du service Télépoints."),
    "TROP_DE_REQUETES": N_("Trop de requêtes. Réessayez dans quelques instants."),
    "SERVICE_INDISPONIBLE": N_("Le service est momentanément indisponible. Réessayez plus "
                               "tard."),
    "SERVICE_CLOS": N_("Le service Télépoints est fermé. Consultez vos points sur le nouveau "
                       "service."),
}


class TelepointsError(Exception):
    """Refusal of a legacy request, rendered as a SOAP fault or as a web page."""

    def __init__(self, code: str, *, locked_until: dt.datetime | None = None,
                 retry_after: int | None = None, detail: str | None = None) -> None:
        if code not in MESSAGES:
            raise ValueError(f"not a contract error code: {code}")
        super().__init__(code)
        self.code = code
        self.message = MESSAGES[code]
        self.locked_until = locked_until
        self.retry_after = retry_after
        # Only for REQUETE_INVALIDE: which part of the request is at fault (never a value).
        self.detail = detail

    @property
    def client_side(self) -> bool:
        """The client must change something (SOAP 1.1 `Client`, 1.2 `Sender`)."""
        return self.code not in ("SERVICE_INDISPONIBLE", "SERVICE_CLOS")
