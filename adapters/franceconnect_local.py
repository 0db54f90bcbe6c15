"""A local OpenID Connect provider that plays FranceConnect v2 on loopback.

It is the embedded default for the demonstration and the tests: the service talks to it
exactly as to FranceConnect, through configuration only (discovery URL, client id and
secret, registered return addresses). It is a real provider, built on Authlib's
authorization server, and it holds itself to FranceConnect v2's rules, so that a client
that breaks them fails here as it would there:

- endpoints under `/api/v2`: `.well-known/openid-configuration`, `authorize`, `token`,
  `userinfo`, `session/end`, `jwks`;
- authorization code flow only; `state` and `nonce` mandatory, at least 32 letters and
  digits; `acr_values` mandatory (`eidas1`); redirect and logout addresses must be registered;
  token requests authenticated with `client_secret_post`;
- codes live 30 seconds and serve once, access tokens 60 seconds;
- ID token and userinfo signed ES256 with a `kid`; userinfo answered as `application/jwt`;
- logout needs `id_token_hint`, `state` and a registered `post_logout_redirect_uri`, and
  returns `state`.

Identities are given by the caller (the demo reads them from the licence records), each
shown on the provider's page with a button, plus "refuse", which answers `access_denied` as
FranceConnect does when the user aborts. `sub` is derived per client, like FranceConnect's.

State lives in memory: run one process. This module imports nothing of the project.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    TokenMixin,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Flask, Response, abort, jsonify, render_template_string, request
from joserfc import jwt
from joserfc.jwk import ECKey, Key, KeySet
from werkzeug.serving import BaseWSGIServer, make_server

API = "/api/v2"
ALG = "ES256"
ACR = "eidas1"
CODE_SECONDS = 30
ACCESS_TOKEN_SECONDS = 60
ID_TOKEN_SECONDS = 60
# FranceConnect refuses a state or nonce shorter than this, or with other than letters
# and digits.
_RANDOM_VALUE = re.compile(r"[A-Za-z0-9]{32,512}")

# FranceConnect's scopes are claim names, plus a few groups.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": (),
    "given_name": ("given_name",),
    "family_name": ("family_name",),
    "birthdate": ("birthdate",),
    "gender": ("gender",),
    "birthplace": ("birthplace",),
    "birthcountry": ("birthcountry",),
    "email": ("email",),
    "preferred_username": ("preferred_username",),
    "birth": ("birthplace", "birthcountry"),
    "identite_pivot": ("given_name", "family_name", "birthdate", "gender", "birthplace",
                       "birthcountry"),
    "profile": ("given_name", "family_name", "birthdate", "gender", "preferred_username"),
}


@dataclass(frozen=True)
class DemoIdentity:
    """An identity as FranceConnect's identity providers deliver it (the "pivot" identity).
    `given_name` holds every first name, space-separated; `family_name` is the birth name;
    `birthdate` is YYYY-MM-DD; `birthcountry` 99100 is France."""

    given_name: str
    family_name: str
    birthdate: str
    gender: str = "female"
    birthplace: str = "75056"
    birthcountry: str = "99100"
    email: str = ""
    preferred_username: str = ""
    note: str = ""  # shown beside the identity on the provider's page only

    @property
    def key(self) -> str:
        return hashlib.sha256("|".join((
            self.given_name, self.family_name, self.birthdate, self.gender, self.birthplace,
            self.birthcountry)).encode()).hexdigest()[:24]

    def claims(self) -> dict[str, str]:
        return {"given_name": self.given_name, "family_name": self.family_name,
                "birthdate": self.birthdate, "gender": self.gender,
                "birthplace": self.birthplace, "birthcountry": self.birthcountry,
                "email": self.email, "preferred_username": self.preferred_username}


@dataclass(frozen=True)
class RegisteredClient(ClientMixin):
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": list(self.post_logout_redirect_uris),
                "userinfo_signed_response_alg": ALG}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # FranceConnect wants redirect_uri on every request

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPE_CLAIMS)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.client_secret.encode(), (client_secret or "").encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_post"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str
    identity_key: str
    sid: str
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return ACR

    def get_amr(self) -> list[str]:
        return ["pwd"]


@dataclass
class _AccessToken(TokenMixin):
    token: str
    client: RegisteredClient
    scope: str
    identity_key: str
    expires_at: float

    def check_client(self, client: ClientMixin) -> bool:
        return bool(client.get_client_id() == self.client.client_id)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return ACCESS_TOKEN_SECONDS

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> str:
        return self.identity_key

    def get_client(self) -> RegisteredClient:
        return self.client


class SigningKeys:
    """The provider's signing keys: the newest signs, the others stay published so that
    tokens they signed still verify. `rotate` is what a real provider does from time to
    time; `load_or_create` keeps the keys of the demonstration across restarts."""

    def __init__(self, keys: Sequence[ECKey] | None = None) -> None:
        self._lock = threading.Lock()
        self._keys: list[Key] = list(keys) if keys else [self._new()]

    @staticmethod
    def _new() -> ECKey:
        key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": ALG},
                                 auto_kid=True)
        return key

    @property
    def current(self) -> Key:
        with self._lock:
            return self._keys[0]

    def public_set(self) -> KeySet:
        with self._lock:
            return KeySet(list(self._keys))

    def public_jwks(self) -> dict[str, Any]:
        return dict(self.public_set().as_dict(private=False))

    def rotate(self, *, keep_previous: bool = False) -> ECKey:
        new = self._new()
        with self._lock:
            self._keys = [new, *self._keys] if keep_previous else [new]
        return new

    def publish(self, key: Key) -> None:
        """Publishes one more key beside the current one (it does not sign)."""
        with self._lock:
            self._keys = [*self._keys, key]

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKeys:
        if path.exists():
            data = json.loads(path.read_text())
            return cls([ECKey.import_key(item) for item in data["keys"]])
        keys = cls()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(KeySet([keys.current]).as_dict(private=True), handle)
        return keys


class _Store:
    """In-memory state of the provider, guarded by one lock (the server is threaded)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[str, _Code] = {}
        self.tokens: dict[str, _AccessToken] = {}
        self.nonces: dict[str, float] = {}
        self.sessions: set[str] = set()

    def purge(self, now: float) -> None:
        self.codes = {k: v for k, v in self.codes.items() if v.expires_at > now}
        self.tokens = {k: v for k, v in self.tokens.items() if v.expires_at > now}
        self.nonces = {k: v for k, v in self.nonces.items() if v > now}


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def subject(client_id: str, identity: DemoIdentity) -> str:
    """A per-client pseudonymous subject, in FranceConnect's shape (64 hex digits + v1)."""
    return hashlib.sha256(f"{client_id}|{identity.key}".encode()).hexdigest() + "v1"


class LocalFranceConnect:
    """The provider: `app` is its WSGI application; `serve` runs it on loopback."""

    def __init__(self, clients: Iterable[RegisteredClient], identities: Iterable[DemoIdentity],
                 *, keys: SigningKeys | None = None, issuer: str | None = None) -> None:
        self.clients = {client.client_id: client for client in clients}
        self.identities = {identity.key: identity for identity in identities}
        self.keys = keys or SigningKeys()
        self.fixed_issuer = issuer.rstrip("/") if issuer else None
        self.store = _Store()
        self.app = self._build()

    def issuer(self) -> str:
        """The configured issuer, or this server's own address followed by /api/v2."""
        return self.fixed_issuer or request.host_url.rstrip("/") + API

    # -- claims ---------------------------------------------------------------------------

    def claims_for(self, client: RegisteredClient, identity_key: str,
                   scope: str) -> dict[str, Any]:
        identity = self.identities[identity_key]
        values = identity.claims()
        claims: dict[str, Any] = {"sub": subject(client.client_id, identity)}
        for name in scope.split():
            for claim in SCOPE_CLAIMS.get(name, ()):
                if values.get(claim):
                    claims[claim] = values[claim]
        return claims

    def sign(self, claims: dict[str, Any]) -> str:
        key = self.keys.current
        return jwt.encode({"alg": ALG, "kid": key.kid, "typ": "JWT"}, claims, key, [ALG])

    # -- the Flask application -------------------------------------------------------------

    def _build(self) -> Flask:
        provider = self
        app = Flask(__name__)
        app.config.update(OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": ACCESS_TOKEN_SECONDS},
                          OAUTH2_REFRESH_TOKEN_GENERATOR=False,
                          OAUTH2_SCOPES_SUPPORTED=list(SCOPE_CLAIMS))
        store = self.store

        class CodeGrant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post"]  # noqa: RUF012

            def save_authorization_code(self, code: str, req: Any) -> None:
                now = time.time()
                with store.lock:
                    store.purge(now)
                    store.codes[code] = _Code(
                        code=code, client_id=req.client.client_id,
                        redirect_uri=req.payload.redirect_uri, scope=req.payload.scope,
                        nonce=req.payload.data.get("nonce", ""), identity_key=req.user,
                        sid=secrets.token_hex(16), auth_time=int(now),
                        expires_at=now + CODE_SECONDS)
                    store.nonces[req.payload.data.get("nonce", "")] = now + 3600

            def query_authorization_code(self, code: str,
                                         client: RegisteredClient) -> _Code | None:
                with store.lock:
                    found = store.codes.get(code)
                if found and found.client_id == client.client_id \
                        and found.expires_at > time.time():
                    return found
                return None

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                with store.lock:
                    store.codes.pop(authorization_code.code, None)
                    store.sessions.add(authorization_code.sid)

            def authenticate_user(self, authorization_code: _Code) -> str:
                return authorization_code.identity_key

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce: str, req: Any) -> bool:
                with store.lock:
                    return nonce in store.nonces

            def encode_id_token(self, token: dict[str, Any], req: Any) -> str:
                # As FranceConnect: the ID token names the subject and the authentication;
                # the identity itself is in userinfo.
                code: _Code = req.authorization_code
                client: RegisteredClient = req.client
                now = int(time.time())
                return provider.sign({
                    "iss": provider.issuer(), "aud": client.client_id, "iat": now,
                    "exp": now + ID_TOKEN_SECONDS,
                    "sub": subject(client.client_id, provider.identities[code.identity_key]),
                    "nonce": code.nonce, "acr": ACR, "amr": code.get_amr(),
                    "auth_time": code.auth_time, "sid": code.sid})

        class Logout(EndSessionEndpoint):
            def get_server_jwks(self) -> KeySet:
                return provider.keys.public_set()

            def get_algorithms(self) -> list[str]:
                return [ALG]

            def end_session(self, end_session_request: Any) -> None:
                sid = (end_session_request.id_token_claims or {}).get("sid")
                with store.lock:
                    store.sessions.discard(sid)

        class Bearer(BearerTokenValidator):
            def authenticate_token(self, token_string: str) -> _AccessToken | None:
                with store.lock:
                    return store.tokens.get(token_string)

        def query_client(client_id: str) -> RegisteredClient | None:
            return provider.clients.get(client_id)

        def save_token(token: dict[str, Any], req: Any) -> None:
            with store.lock:
                store.tokens[token["access_token"]] = _AccessToken(
                    token=token["access_token"], client=req.client,
                    scope=token.get("scope", ""), identity_key=req.user,
                    expires_at=time.time() + ACCESS_TOKEN_SECONDS)

        server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
        server.register_grant(CodeGrant, [IdToken(require_nonce=True)])
        server.register_endpoint(Logout)
        protector = ResourceProtector()
        protector.register_token_validator(Bearer())

        def refuse(title: str, detail: str, status: int = 400) -> tuple[str, int]:
            return render_template_string(_ERROR_PAGE, title=title, detail=detail), status

        # The identity form posts here and is answered with a redirect to a client: CSP's
        # form-action covers redirects, so it lists the clients' registered origins.
        origins = sorted({_origin(uri) for client in self.clients.values()
                          for uri in client.redirect_uris})
        policy = ("default-src 'none'; style-src 'unsafe-inline'; "
                  f"form-action 'self' {' '.join(origins)}; frame-ancestors 'none'")

        @app.after_request
        def _headers(response: Response) -> Response:
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Content-Security-Policy", policy)
            return response

        @app.get("/")
        def home() -> str:
            return render_template_string(_HOME_PAGE, issuer=provider.issuer())

        @app.get(f"{API}/.well-known/openid-configuration")
        def discovery() -> Response:
            base = provider.issuer()
            return jsonify({
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/userinfo",
                "end_session_endpoint": f"{base}/session/end",
                "jwks_uri": f"{base}/jwks",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "scopes_supported": list(SCOPE_CLAIMS),
                "claims_supported": sorted({c for cs in SCOPE_CLAIMS.values() for c in cs}
                                           | {"sub"}),
                "acr_values_supported": [ACR],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [ALG],
                "userinfo_signing_alg_values_supported": [ALG],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "frontchannel_logout_supported": False,
            })

        @app.get(f"{API}/jwks")
        def jwks() -> Response:
            return jsonify(provider.keys.public_jwks())

        @app.route(f"{API}/authorize", methods=["GET", "POST"])
        def authorize() -> Any:
            values = request.values
            client = provider.clients.get(values.get("client_id", ""))
            if client is None or not client.check_redirect_uri(values.get("redirect_uri", "")):
                return refuse("Fournisseur de service inconnu",
                              "Le client ou son adresse de retour n'est pas enregistré.")
            for name in ("state", "nonce"):
                if not _RANDOM_VALUE.fullmatch(values.get(name, "")):
                    return refuse("Requête invalide", f"Le paramètre « {name} » est absent, "
                                  "trop court (32 caractères au moins) ou mal formé.")
            if values.get("acr_values") != ACR:
                return refuse("Requête invalide", "Le paramètre « acr_values » doit valoir "
                              f"« {ACR} ».")
            if "openid" not in values.get("scope", "").split():
                return refuse("Requête invalide", "Le scope « openid » est obligatoire.")
            try:
                grant = server.get_consent_grant()
            except OAuth2Error as error:
                return refuse("Requête invalide", error.description or error.error)
            if request.method == "GET":
                return render_template_string(
                    _CHOOSER_PAGE, identities=list(provider.identities.values()),
                    client=client)
            if request.form.get("action") == "refuser":
                return server.create_authorization_response(grant_user=None, grant=grant)
            identity_key = request.form.get("identite", "")
            if identity_key not in provider.identities:
                abort(400)
            return server.create_authorization_response(grant_user=identity_key, grant=grant)

        @app.post(f"{API}/token")
        def token() -> Any:
            return server.create_token_response()

        @app.route(f"{API}/userinfo", methods=["GET", "POST"])
        def userinfo() -> Any:
            try:
                access = protector.acquire_token("openid")
            except OAuth2Error as error:
                return jsonify(error=error.error), 401
            claims = provider.claims_for(access.client, access.identity_key, access.scope)
            claims.update(iss=provider.issuer(), aud=access.client.client_id)
            return Response(provider.sign(claims), mimetype="application/jwt")

        @app.get(f"{API}/session/end")
        def session_end() -> Any:
            missing = [name for name in ("id_token_hint", "state", "post_logout_redirect_uri")
                       if not request.args.get(name)]
            if missing:
                return refuse("Déconnexion impossible",
                              f"Paramètre(s) manquant(s) : {', '.join(missing)}.")
            try:
                validated = server.validate_endpoint_request("end_session")
            except OAuth2Error as error:
                return refuse("Déconnexion impossible", error.description or error.error)
            sid = (validated.id_token_claims or {}).get("sid")
            with store.lock:
                active = sid in store.sessions
            if not active:
                return refuse("Déconnexion impossible", "Cette session FranceConnect est "
                              "déjà terminée ou inconnue.")
            if validated.redirect_uri is None:
                return refuse("Déconnexion impossible",
                              "L'adresse de retour après déconnexion n'est pas enregistrée.")
            return server.create_endpoint_response("end_session", validated)

        return app

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
        """A threaded server on `host:port` (port 0: any free port), not yet started."""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the local FranceConnect listens on loopback only")
        return make_server(host, port, self.app, threaded=True)


_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#161616;background:#f6f6f6}
header{background:#000091;color:#fff;padding:1rem 2rem}
main{max-width:44rem;margin:2rem auto;padding:0 1rem}
.id{background:#fff;border:1px solid #ddd;padding:1rem;margin:0 0 1rem}
button{font:inherit;padding:.5rem 1rem;background:#000091;color:#fff;border:0;cursor:pointer}
button.secondary{background:#fff;color:#000091;border:1px solid #000091}
button:hover{background:#1212ff}button.secondary:hover{background:#f0f0ff}
.note{color:#3a3a3a;font-size:.9rem}
"""

_HOME_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>FranceConnect de démonstration</title><style>""" + _STYLE + """</style></head><body>
<header><p>FranceConnect de démonstration</p></header><main>
<h1>Fournisseur d'identité local</h1>
<p>Ce serveur joue le rôle de FranceConnect v2 pour la démonstration et les tests.</p>
<p>Document de découverte : <code>{{ issuer }}/.well-known/openid-configuration</code></p>
</main></body></html>"""

_CHOOSER_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Choisir une identité - FranceConnect de démonstration</title>
<style>""" + _STYLE + """</style></head><body>
<header><p>FranceConnect de démonstration</p></header><main>
<h1>Choisissez l'identité avec laquelle vous connecter</h1>
<p>Service demandeur : <strong>{{ client.client_id }}</strong>. Ces identités sont fictives.</p>
<form method="post">
{% for identity in identities %}
<div class="id">
<p><strong>{{ identity.given_name }} {{ identity.family_name }}</strong>,
née ou né le {{ identity.birthdate }}</p>
{% if identity.note %}<p class="note">{{ identity.note }}</p>{% endif %}
<button type="submit" name="identite" value="{{ identity.key }}">Continuer avec
{{ identity.given_name }} {{ identity.family_name }}</button>
</div>
{% else %}
<p>Aucune identité de démonstration n'est configurée.</p>
{% endfor %}
<p><button type="submit" class="secondary" name="action" value="refuser">Refuser et revenir
au service</button></p>
</form></main></body></html>"""

_ERROR_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>{{ title }} - FranceConnect de démonstration</title>
<style>""" + _STYLE + """</style></head><body>
<header><p>FranceConnect de démonstration</p></header><main>
<h1>{{ title }}</h1><p>{{ detail }}</p></main></body></html>"""
