"""The holder's wallet: the attestation of driving rights as an SD-JWT VC.

- `issuer.py`: OpenID4VCI 1.0 issuance (pre-authorised code, transaction code, key proof).
- `status.py`: the Token Status List of the credentials, and the registry import hook.
- `verifier.py`: OpenID4VP 1.0 verification with DCQL (`/verifier/permis-numerique`).
- `sdjwt.py`: SD-JWT issuance and checks; `keys.py`: the signing keys; `views.py`: HTTP.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from modern.accounts import account_data
from modern.licences.importer import IMPORT_HOOKS
from modern.wallet import cli, status, views
from modern.wallet.keys import EXTENSION, WalletKeys, ring_for
from modern.wallet.personal_data import WalletData


def init_app(app: Flask, seal_keys_folder: Path) -> None:
    app.extensions[EXTENSION] = WalletKeys(ring_for(
        seal_keys_folder, app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"]))
    app.register_blueprint(views.protocol)
    app.register_blueprint(views.pages)
    app.jinja_env.globals["portefeuille"] = views.portefeuille
    app.extensions.setdefault(IMPORT_HOOKS, []).append(status.StatusHooks())
    account_data.register(app, WalletData())
    app.cli.add_command(cli.group)
