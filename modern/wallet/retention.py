"""How long the wallet keeps what it keeps (RGPD art. 5(1)(e)).

- A presentation request holds, once answered, the claims the holder disclosed: they are for
  the verifier's eyes while the request lasts (`REQUEST_MINUTES`), then deleted.
- A credential's row holds its file number and its place in the status list: it is kept
  until the credential expires (a verifier refuses an expired credential whatever its bit),
  then deleted, which frees its index.
"""

from __future__ import annotations

from modern.retention import Purge, Rule
from modern.wallet.models import PresentationRequest, WalletCredential

requests_table = PresentationRequest.__table__
credentials_table = WalletCredential.__table__


def expired_requests(purge: Purge) -> int:
    return purge.delete(requests_table, requests_table.c.expires_at < purge.now)


def expired_credentials(purge: Purge) -> int:
    return purge.delete(credentials_table, credentials_table.c.expires_at < purge.now)


RULES = (Rule("wallet_presentation_request.expired", expired_requests),
         Rule("wallet_credential.expired", expired_credentials))
