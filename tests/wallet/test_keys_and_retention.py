"""The wallet's keys follow the seal keys' rules (rotation keeps older keys published), and
what it keeps goes once it no longer serves."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from modern.db import db
from modern.wallet.keys import WalletKeys, wallet_keys
from modern.wallet.models import PresentationRequest, WalletCredential
from modern.wallet.sdjwt import b64url_decode


def test_rotation_keeps_older_keys_published(app: Flask, client: FlaskClient) -> None:
    first = [k["kid"] for k in client.get("/.well-known/jwt-vc-issuer").json["jwks"]["keys"]]
    rotated = app.test_cli_runner().invoke(args=["wallet", "rotate-key"])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.output.split(":")[-1].strip()
    published = [k["kid"] for k in client.get("/.well-known/jwt-vc-issuer").json["jwks"]["keys"]]
    assert sorted(published) == sorted([*first, new])
    status_kid = json.loads(b64url_decode(
        client.get("/portefeuille/statuts/1").text.split(".")[0]))["kid"]
    assert status_kid == new  # new signatures use the new key
    listed = app.test_cli_runner().invoke(args=["wallet", "keys"]).output
    assert f"{new}  (active)" in listed
    # A ring of its own: the document seals keep their own keys.
    assert new not in app.extensions["seal_keys"].key_ids()


def test_expired_requests_and_credentials_are_purged(app: Flask) -> None:
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        db.session.add_all([
            PresentationRequest(id="a", state="a", nonce="n", claims="etat", created_at=now,
                                expires_at=now - dt.timedelta(minutes=1), disclosed="{}"),
            PresentationRequest(id="b", state="b", nonce="n", claims="etat", created_at=now,
                                expires_at=now + dt.timedelta(minutes=9)),
            WalletCredential(id="old", account_id=1, numero="X1234", status_list=1,
                             status_index=1, status=0, issued_at=now,
                             expires_at=now - dt.timedelta(days=1)),
            WalletCredential(id="new", account_id=1, numero="X1234", status_list=1,
                             status_index=2, status=1, issued_at=now,
                             expires_at=now + dt.timedelta(days=100)),
        ])
        db.session.commit()
    done = app.test_cli_runner().invoke(args=["purge", "run"])
    assert done.exit_code == 0, done.output
    with app.app_context():
        assert set(db.session.scalars(select(PresentationRequest.id))) == {"b"}
        assert set(db.session.scalars(select(WalletCredential.id))) == {"new"}


class _StoreWithStates:
    """A key store that keeps key states, as the seal keys' store may."""

    def __init__(self, ring: Any, revoked: str) -> None:
        self.ring = ring
        self.revoked = revoked

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ring, name)

    def state(self, key_id: str) -> Any:
        return SimpleNamespace(status="revoked" if key_id == self.revoked else "retired")


def test_a_revoked_key_is_neither_published_nor_trusted(app: Flask) -> None:
    with app.app_context():
        ring = wallet_keys().store
        old = ring.ensure_active()
        ring.rotate()
        keys = WalletKeys(_StoreWithStates(ring, old))
        assert old not in keys.published() and len(keys.published()) == 1
        assert keys.verifying(old) is None
        assert old not in [k["kid"] for k in keys.jwks()["keys"]]


def test_wallet_keys_are_rewrapped_after_a_secret_rotation(
        make_settings: Any, tmp_path: Any, monkeypatch: Any) -> None:
    from wsgi import create_app

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    old = create_app(make_settings(secret_key="a" * 40))
    with old.app_context():
        first = wallet_keys().signing()[0]
    new = create_app(make_settings(secret_key="b" * 40, secret_key_fallbacks=("a" * 40,)))
    done = new.test_cli_runner().invoke(args=["wallet", "rewrap-keys"])
    assert f"Wallet keys re-encrypted: {first}" in done.output
    alone = create_app(make_settings(secret_key="b" * 40))
    with alone.app_context():
        assert wallet_keys().verifying(first) is not None  # opens without the old secret


def test_a_key_revoked_in_the_seal_keys_store_is_unpublished(app: Flask) -> None:
    with app.app_context():
        keys = wallet_keys()
        old = keys.signing()[0]
        keys.store.revoke(old)  # type: ignore[attr-defined]
        assert old not in keys.published() and keys.verifying(old) is None
        assert keys.signing()[0] != old  # revoking the active key made a new one active
