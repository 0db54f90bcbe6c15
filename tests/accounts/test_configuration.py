"""Settings of the accounts and FranceConnect, and the command that runs the local
provider of the demonstration."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from modern.accounts.cli import local_provider_config
from modern.accounts.franceconnect import config_from, local_client_secret
from modern.settings import Settings, SettingsError
from tests.accounts.support import HELENE, LOIC


def test_development_points_to_the_local_provider() -> None:
    settings = Settings.from_env({})
    assert settings.franceconnect_discovery_url == \
        "http://127.0.0.1:9400/api/v2/.well-known/openid-configuration"
    assert settings.franceconnect_callback_uri == \
        "http://127.0.0.1:8000/compte/franceconnect/retour"
    assert settings.franceconnect_logout_return_uri == \
        "http://127.0.0.1:8000/compte/franceconnect/deconnexion"
    config = config_from(settings, "k" * 40)
    assert config is not None and config.client_secret == local_client_secret("k" * 40)
    # Only what the service uses: birth name, first names, birth date (data minimisation).
    assert config.scopes == ("openid", "given_name", "family_name", "birthdate")
    assert config.acr_values == "eidas1"
    assert config.accepted_acr == ("eidas1", "eidas2", "eidas3")


@pytest.mark.parametrize(("asked", "accepted"), [
    ("eidas1", ("eidas1", "eidas2", "eidas3")), ("eidas2", ("eidas2", "eidas3")),
    ("eidas3", ("eidas3",))])
def test_the_level_accepted_back_follows_the_level_asked(asked: str,
                                                         accepted: tuple[str, ...]) -> None:
    config = config_from(Settings.from_env({"FRANCECONNECT_ACR_VALUES": asked}), "k" * 40)
    assert config is not None and config.acr_values == asked
    assert config.accepted_acr == accepted


def test_production_needs_https_and_real_credentials() -> None:
    base = {"ENVIRONMENT": "production", "SECRET_KEY": "k" * 40,
            "CODE_KEYS": "k1:" + "A" * 43, "PUBLIC_URL": "https://points.example.gouv.fr"}
    settings = Settings.from_env(base)
    assert config_from(settings, "k" * 40) is None  # no FranceConnect unless configured
    with pytest.raises(SettingsError) as problems:
        Settings.from_env({**base, "FRANCECONNECT_DISCOVERY_URL":
                           "http://oidc.example/api/v2/.well-known/openid-configuration"})
    text = str(problems.value)
    assert "FRANCECONNECT_CLIENT_ID" in text and "FRANCECONNECT_CLIENT_SECRET" in text
    assert "FRANCECONNECT_DISCOVERY_URL: must be https" in text
    with pytest.raises(SettingsError, match="PUBLIC_URL"):
        Settings.from_env({**base, "PUBLIC_URL": ""})
    full = Settings.from_env({
        **base,
        "FRANCECONNECT_DISCOVERY_URL":
            "https://oidc.franceconnect.gouv.fr/api/v2/.well-known/openid-configuration",
        "FRANCECONNECT_CLIENT_ID": "id", "FRANCECONNECT_CLIENT_SECRET": "s" * 64})
    config = config_from(full, "k" * 40)
    assert config is not None and config.client_secret == "s" * 64
    assert config.redirect_uri == "https://points.example.gouv.fr/compte/franceconnect/retour"


@pytest.mark.parametrize(("name", "value"), [
    ("SESSION_IDLE_MINUTES", "0"), ("SESSION_ABSOLUTE_HOURS", "1000"),
    ("FRANCECONNECT_SCOPES", "given_name family_name"), ("FRANCECONNECT_ACR_VALUES", "x"),
    ("PUBLIC_URL", "ftp://x"),
])
def test_bad_values_are_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_local_provider_offers_identities_of_demo_licences(
        app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["franceconnect", "identities"])
    assert result.exit_code == 0, result.output
    assert f"dossier est {HELENE.numero}" in result.output
    assert f"dossier est {LOIC.numero}" in result.output
    assert "SANSPERMIS" in result.output  # and one identity without a licence


def test_the_local_provider_is_built_from_the_settings(app: Flask, tmp_path: Path) -> None:
    settings = Settings(environment="development", secret_key="k" * 40)
    with app.app_context():
        config = local_provider_config(settings, "k" * 40, tmp_path, 3)
    assert (config.host, config.port) == ("127.0.0.1", 9400)
    assert config.issuer == "http://127.0.0.1:9400/api/v2"
    [client] = config.clients
    assert client.client_secret == local_client_secret("k" * 40)
    assert client.redirect_uris == ("http://127.0.0.1:8000/compte/franceconnect/retour",)
    assert client.scope == "openid given_name family_name birthdate"
    assert len(config.identities) == 4
    assert (tmp_path / "franceconnect-provider-keys.json").stat().st_mode & 0o077 == 0
    with app.app_context():  # the same keys after a restart
        again = local_provider_config(settings, "k" * 40, tmp_path, 3)
    assert [key.kid for key in again.keys] == [key.kid for key in config.keys]
    assert {key.alg for key in config.keys} == {"ES256", "RS256"}


@pytest.mark.parametrize("changes", [
    {"environment": "production", "public_url": "https://x.example"},
    {"franceconnect_discovery_url": "https://oidc.example/api/v2/.well-known/"
                                    "openid-configuration"},
])
def test_the_local_provider_refuses_to_stand_for_the_real_one(
        app: Flask, tmp_path: Path, changes: dict[str, str]) -> None:
    settings = Settings(secret_key="k" * 40, **changes)  # type: ignore[arg-type]
    with app.app_context(), pytest.raises(click.ClickException):
        local_provider_config(settings, "k" * 40, tmp_path, 3)


def test_client_settings_override_cannot_be_read_back() -> None:
    settings = Settings(franceconnect_client_secret="very secret value")
    assert "very secret value" not in repr(settings)
    config = config_from(settings, "k" * 40)
    assert config is not None and "very secret value" not in repr(config)
