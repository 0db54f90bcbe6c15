"""Share codes in the JSON API (/api/v1), declared on the consultation package's router.

`GET/POST /partages` and `DELETE /partages/{id}` take the holder's session, like the rest of
the holder's API. They change something, yet ask no CSRF token: their body must be JSON and
the API allows no cross-origin request, so a page of another site can send neither without
a CORS preflight that is refused. `POST /partages/consultation` is the third party's check,
without authentication; every refusal is the same problem document.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _

from modern.consultation.api import UNAVAILABLE, operation
from modern.consultation.holder import Holder
from modern.db import db
from modern.errors import NotFound, TooManyRequests, Unavailable
from modern.sharing import codes, views
from modern.sharing.hashing import hasher
from modern.sharing.models import ShareCode, ShareLook
from modern.sharing.schemas import (
    ConsultationInSchema,
    DroitsSchema,
    PartageCreeSchema,
    PartageInSchema,
    PartagesSchema,
)
from modern.throttling import StoreUnavailable


class ShareRefused(NotFound):
    code = "PARTAGE_REFUSE"


class ShareMissing(NotFound):
    code = "PARTAGE_INTROUVABLE"


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _share(share: ShareCode, seen: list[ShareLook]) -> dict[str, Any]:
    return {"id": share.id, "motif": share.purpose, "cree_le": _aware(share.created_at),
            "expire_le": _aware(share.expires_at), "revoque_le": _aware(share.revoked_at),
            "actif": codes.active(share, codes.now()), "alerte_courriel": share.notify,
            "consultations": [{"le": _aware(look.looked_at), "motif": look.purpose,
                               "reseau": look.network} for look in seen]}


@operation("/partages", summary="Mes codes de partage", tag="Partage", output=PartagesSchema,
           description="Les codes de partage du titulaire, actifs ou non, avec chaque "
                       "consultation (date, motif, réseau de la personne).")
def list_shares(holder: Holder) -> dict[str, Any]:
    return _listing(holder)


def _listing(holder: Holder) -> dict[str, Any]:
    session = db.session()
    shares = codes.of_account(session, holder.account.id)
    seen = codes.looks(session, [s.id for s in shares])
    return {"partages": [_share(s, seen[s.id]) for s in shares]}


@operation("/partages", "POST", summary="Créer un code de partage", tag="Partage",
           output=PartageCreeSchema, body=PartageInSchema, status=201, errors=(409,),
           description="Un code pour un loueur, un employeur, un assureur : il montre l'état "
                       "du permis et les catégories, jamais les points (article L223-7). "
                       f"Valable {codes.MIN_DAYS} à {codes.MAX_DAYS} jours, "
                       f"{codes.MAX_ACTIVE} codes actifs au plus. Le code n'est montré "
                       "qu'une fois.")
def create_share(holder: Holder, body: dict[str, Any]) -> dict[str, Any]:
    made = codes.create(db.session(), hasher(), account_id=holder.account.id,
                        record=holder.record, purpose=body["motif"],
                        days=body["duree_jours"], notify=body["alerte_courriel"])
    db.session.commit()
    return {**_share(made.share, []), "code": codes.formatted(made.code)}


@operation("/partages/<share_id>", "DELETE", summary="Révoquer un code de partage",
           tag="Partage", output=PartagesSchema, errors=(404,),
           description="Le code ne permet plus aucune consultation. Renvoie la liste à jour.",
           path_parameters=({"name": "share_id", "in": "path", "required": True,
                             "schema": {"type": "integer"}},))
def revoke_share(holder: Holder, share_id: str) -> dict[str, Any]:
    # Any path segment reaches the view, so that authentication is answered first. ASCII
    # digits only: "²" is a digit to str.isdigit() but not to int().
    number = (int(share_id) if share_id.isascii() and share_id.isdigit() and len(share_id) < 10
              else 0)
    if codes.revoke(db.session(), holder.account.id, number) is None:
        raise ShareMissing(_("Ce code de partage n'existe pas ou n'est pas le vôtre."))
    db.session.commit()
    return _listing(holder)


@operation("/partages/consultation", "POST", summary="Consulter des droits à conduire avec un "
           "code de partage", tag="Partage", output=DroitsSchema, body=ConsultationInSchema,
           holder=False, errors=(404,),
           description="Pour un tiers : le code donné par le titulaire et son nom de "
                       "naissance. Réponse : état du permis, suspensions, catégories avec "
                       "dates et restrictions, date de mise à jour du fichier national, fin "
                       "de validité du code ; jamais le solde ni l'historique (article L223-7 "
                       "du Code de la route). Un code inconnu, expiré ou révoqué et un nom "
                       "faux reçoivent la même réponse. La consultation est montrée au "
                       "titulaire.")
def consult_share(body: dict[str, Any]) -> Any:
    try:
        found = views.consult(body["code"], body["nom"], "api")
    except codes.Locked as error:
        raise TooManyRequests(_("Trop d'essais en peu de temps : réessayez plus tard."),
                              retry_after=error.retry_after) from None
    except StoreUnavailable:
        db.session.rollback()
        raise Unavailable(UNAVAILABLE) from None
    if found is None:
        raise ShareRefused(_(views.REFUSED))
    return found
