"""What the deployment guide tells operators to do works: rotating SECRET_KEY with
SECRET_KEY_FALLBACKS (links still verify, seal keys still open, then re-encrypted),
METRICS_TOKEN opening /metrics from outside, and the RETENTION_* settings checked at
start-up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from modern import tokens
from modern.documents.keys import KeyRing
from modern.documents.seal import ATTESTATION, seal, verify
from modern.settings import Settings, SettingsError

OLD, NEW = "o" * 40, "n" * 40
FIELDS = {"4A": "DUPONT"}


def _app(make_app: Any, keys: Path, secret: str, *fallbacks: str) -> Flask:
    app: Flask = make_app(secret_key=secret, secret_key_fallbacks=fallbacks,
                          document_keys_dir=str(keys))
    return app


def test_rotating_the_secret_key_keeps_links_and_seal_keys(make_app: Any,
                                                           tmp_path: Path) -> None:
    keys = tmp_path / "seal_keys"
    before = _app(make_app, keys, OLD)
    with before.app_context():
        link = tokens.issue("password_reset", "42")
        ring: KeyRing = before.extensions["seal_keys"]
        key_id = ring.ensure_active()
        sealed = seal(ATTESTATION, FIELDS, key_id, ring.private_key(key_id), dt.date.today())

    # The new key, the old one as a fallback: the link and the seal key still work.
    during = _app(make_app, keys, NEW, OLD)
    with during.app_context():
        assert tokens.verify("password_reset", link).subject == "42"
        assert verify(sealed, during.extensions["seal_keys"]).fields == FIELDS
    # Without the fallback, nothing signed or encrypted under the old key opens.
    cut_short = _app(make_app, keys, NEW)
    with cut_short.app_context():
        with pytest.raises(tokens.TokenInvalid):
            tokens.verify("password_reset", link)
        with pytest.raises(ValueError, match="SECRET_KEY_FALLBACKS"):
            cut_short.extensions["seal_keys"].private_key(key_id)

    result = during.test_cli_runner().invoke(args=["documents", "rewrap-keys"])
    assert result.exit_code == 0 and key_id in result.output
    again = during.test_cli_runner().invoke(args=["documents", "rewrap-keys"])
    assert "none" in again.output  # nothing left under the old key
    after = _app(make_app, keys, NEW)
    with after.app_context():
        ring = after.extensions["seal_keys"]
        assert verify(sealed, ring).fields == FIELDS
        assert ring.ensure_active() == key_id  # the same key, re-encrypted


def test_metrics_open_to_the_holder_of_metrics_token(make_app: Any) -> None:
    client = make_app(metrics_token="m" * 40).test_client()
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    assert client.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer " + "x" * 40}).status_code == 403
    answer = client.get("/metrics", environ_base=outside,
                        headers={"Authorization": "Bearer " + "m" * 40})
    assert answer.status_code == 200 and b"http_requests_total" in answer.data


def test_operations_settings_from_the_environment() -> None:
    settings = Settings.from_env({
        "SECRET_KEY_FALLBACKS": f"{OLD}, {'p' * 32}", "METRICS_TOKEN": "m" * 32,
        "RETENTION_STAGING_DAYS": "45", "RETENTION_REVERT_DAYS": "180"})
    assert settings.secret_key_fallbacks == (OLD, "p" * 32)
    assert (settings.retention_staging_days, settings.retention_revert_days) == (45, 180)
    assert settings.retention_log_days == 365
    assert OLD not in repr(settings) and "m" * 32 not in repr(settings)


@pytest.mark.parametrize(("variable", "value"), [
    ("RETENTION_STAGING_DAYS", "0"), ("RETENTION_LOG_DAYS", "7"),
    ("RETENTION_REVERT_DAYS", "dix"), ("SECRET_KEY_FALLBACKS", f"{OLD},short"),
    ("METRICS_TOKEN", "short"),
])
def test_a_bad_operations_setting_is_named(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})
