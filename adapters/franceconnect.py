"""FranceConnect v2 as an OpenID Connect client (the service provider, "FS", side).

What FranceConnect v2 asks of a service provider, and where each rule is kept here:

- Authorization code flow only, with `state` and `nonce` (random, at least 32 characters) and
  `acr_values` (`eidas1` for FranceConnect): `authorization_url`, `new_state`, `new_nonce`.
- Tokens signed with asymmetric keys only, ES256 (recommended) or RS256, published on the
  provider's JWKS; the keys rotate, so an unknown `kid` refetches the JWKS once before the
  token is refused (`_key_for`). `alg=none`, HS256 and anything else are refused before any
  key is looked at.
- ID token: `iss` equal to the discovered issuer, `aud` equal to our client id (with `azp`
  when there are several audiences), `exp` and `iat` present and current, `nonce` equal to the
  one bound to the browser session, `acr` one we accept (`verify_id_token`).
- Userinfo is a signed JWT (`application/jwt`) checked like the ID token, and its `sub` must
  be the ID token's (`fetch_userinfo`).
- Scopes: only the claims the service uses (data minimisation; a service approved for fewer
  scopes than it asks is refused with `invalid_scope`). The `acr` accepted back is the level
  asked in `acr_values` or a higher one (`FranceConnectConfig.accepted_acr`).
- Refusals of the token and userinfo endpoints keep their OAuth error code (`error`), for
  the logs.
- Logout sends the browser to `session/end` with `id_token_hint`, `state` and a registered
  `post_logout_redirect_uri` (`logout_url`).

The OAuth 2 exchanges go through Authlib's client; JOSE through joserfc. This module imports
nothing of the project: the configuration is a plain dataclass the caller fills.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, RSAKey
from joserfc.jws import extract_compact

# FranceConnect v2 signs with ES256 (recommended) or RS256; nothing else is accepted.
ALGORITHMS = ("ES256", "RS256")
_KEY_TYPES: dict[str, type[Key]] = {"ES256": ECKey, "RS256": RSAKey}
# Documents from the provider are small; a larger answer is refused unread.
MAX_RESPONSE_BYTES = 256 * 1024
MIN_RANDOM_LENGTH = 32
# Authentication levels, lowest first: FranceConnect is eidas1, FranceConnect+ eidas2 and 3.
ACR_LEVELS = ("eidas1", "eidas2", "eidas3")
# Data minimisation: the claims the service uses to match a holder to a licence.
MINIMAL_SCOPES = ("openid", "given_name", "family_name", "birthdate")
# The shape of the OAuth error codes (RFC 6749, 5.2): anything else is not kept for the logs.
_ERROR_CODE = re.compile(r"[a-z0-9_.-]{1,64}")
_WWW_AUTHENTICATE_ERROR = re.compile(r'error="([^"]*)"')


class FranceConnectError(Exception):
    """Base of every failure of the FranceConnect exchange. `reason` is a short stable word
    for logs; `error` the OAuth error code the provider answered, if any (`invalid_grant`,
    `invalid_token`…); the message never carries a token."""

    reason = "error"

    def __init__(self, message: str, reason: str | None = None,
                 error: str | None = None) -> None:
        super().__init__(message)
        if reason:
            self.reason = reason
        self.error = error if error and _ERROR_CODE.fullmatch(error) else None


class ProviderUnavailable(FranceConnectError):
    """The provider did not answer, or answered something that is not a valid document."""

    reason = "unavailable"


class ProviderRefused(FranceConnectError):
    """The provider answered the token or userinfo request with an OAuth error."""

    reason = "refused"


class TokenRejected(FranceConnectError):
    """A token failed a check: bad algorithm, signature, issuer, audience, expiry, nonce…"""

    reason = "token_rejected"


@dataclass(frozen=True)
class FranceConnectConfig:
    discovery_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    post_logout_redirect_uri: str
    scopes: tuple[str, ...] = MINIMAL_SCOPES
    acr_values: str = "eidas1"
    timeout: float = 5.0
    metadata_ttl: float = 3600.0
    jwks_ttl: float = 3600.0
    # Minimum spacing of two JWKS refetches caused by an unknown `kid`, so that tokens with
    # made-up key ids cannot make us hammer the provider.
    jwks_refetch_interval: float = 10.0
    leeway: int = 60  # seconds of clock skew tolerated on exp / iat

    def __post_init__(self) -> None:
        if self.acr_values not in ACR_LEVELS:
            raise ValueError(f"acr_values must be one of {', '.join(ACR_LEVELS)}")

    @property
    def accepted_acr(self) -> tuple[str, ...]:
        """Levels accepted in the ID token's `acr`: the one asked, or a higher one."""
        return ACR_LEVELS[ACR_LEVELS.index(self.acr_values):]


@dataclass(frozen=True)
class TokenSet:
    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    id_claims: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a successful callback: the raw ID token (kept for the logout's
    `id_token_hint`), its verified claims, and the verified userinfo claims."""

    id_token: str = field(repr=False)
    id_claims: Mapping[str, Any] = field(repr=False)
    userinfo: Mapping[str, Any] = field(repr=False)

    @property
    def sub(self) -> str:
        return str(self.id_claims["sub"])


def new_state() -> str:
    """64 hexadecimal digits from the system CSPRNG (256 bits): FranceConnect wants at least
    32 characters, letters and digits only."""
    return secrets.token_hex(32)


new_nonce = new_state


def same_secret(expected: str | None, received: str | None) -> bool:
    """Constant-time comparison of two random values, False when either is missing."""
    if not expected or not received:
        return False
    return hmac.compare_digest(expected.encode(), received.encode())


def _oauth_error(response: requests.Response) -> str | None:
    """The error code of a refused bearer request: in `WWW-Authenticate` (RFC 6750, 3),
    else in a JSON body."""
    found = _WWW_AUTHENTICATE_ERROR.search(response.headers.get("WWW-Authenticate", ""))
    if found:
        return found.group(1)
    try:
        body = response.json() if len(response.content) <= MAX_RESPONSE_BYTES else None
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


class FranceConnectClient:
    """One client per configuration; thread-safe (the caches are guarded)."""

    def __init__(self, config: FranceConnectConfig, *,
                 http: requests.Session | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.http = http or requests.Session()
        self.clock = clock
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: KeySet | None = None
        self._jwks_at = 0.0
        self._forced_refetch_at = float("-inf")

    # -- provider documents -------------------------------------------------------------

    def _get(self, url: str, accept: str) -> requests.Response:
        try:
            response = self.http.get(url, timeout=self.config.timeout,
                                     headers={"Accept": accept}, allow_redirects=False)
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"GET {url} failed: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ProviderUnavailable(f"GET {url} answered {response.status_code}")
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise ProviderUnavailable(f"GET {url} answered a document too large")
        return response

    def _get_json(self, url: str) -> dict[str, Any]:
        response = self._get(url, "application/json")
        try:
            document = response.json()
        except ValueError:
            raise ProviderUnavailable(f"GET {url} did not answer JSON") from None
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"GET {url} did not answer a JSON object")
        return document

    def metadata(self) -> dict[str, Any]:
        """The discovery document, fetched at most once per `metadata_ttl`."""
        with self._lock:
            if self._metadata is not None and \
                    self.clock() - self._metadata_at < self.config.metadata_ttl:
                return self._metadata
        document = self._get_json(self.config.discovery_url)
        self._check_metadata(document)
        with self._lock:
            self._metadata, self._metadata_at = document, self.clock()
        return document

    def _check_metadata(self, document: dict[str, Any]) -> None:
        required = ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint",
                    "jwks_uri", "end_session_endpoint")
        missing = [name for name in required if not isinstance(document.get(name), str)]
        if missing:
            raise ProviderUnavailable(f"discovery document lacks {', '.join(missing)}")
        # OpenID Connect Discovery 1.0, 4.3: the issuer is the discovery URL's prefix.
        expected = self.config.discovery_url.removesuffix("/.well-known/openid-configuration")
        if document["issuer"].rstrip("/") != expected.rstrip("/"):
            raise ProviderUnavailable("discovery issuer does not match the discovery URL")
        algorithms = document.get("id_token_signing_alg_values_supported") or []
        if not set(algorithms) & set(ALGORITHMS):
            raise ProviderUnavailable("the provider signs with no algorithm we accept")

    @property
    def issuer(self) -> str:
        return str(self.metadata()["issuer"])

    def _fetch_jwks(self) -> KeySet:
        document = self._get_json(str(self.metadata()["jwks_uri"]))
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, KeyError, TypeError, ValueError):
            raise ProviderUnavailable("the provider's JWKS is not a valid key set") from None
        with self._lock:
            self._jwks, self._jwks_at = keys, self.clock()
        return keys

    def jwks(self) -> KeySet:
        with self._lock:
            if self._jwks is not None and self.clock() - self._jwks_at < self.config.jwks_ttl:
                return self._jwks
        return self._fetch_jwks()

    def _key_for(self, header: Mapping[str, Any]) -> Key:
        """The provider's key named by the token's header. An unknown `kid` means the
        provider may have rotated its keys: the JWKS is fetched again, once."""
        alg = header.get("alg")
        kid = header.get("kid")
        key_type = _KEY_TYPES[str(alg)]
        for attempt in (1, 2):
            keys = self.jwks() if attempt == 1 else self._refetch_jwks()
            if keys is None:
                break
            candidates = [key for key in keys if isinstance(key, key_type)
                          and (kid is None or key.kid == kid)
                          and key.get("use", "sig") == "sig"]
            if kid is None and len(candidates) > 1:
                raise TokenRejected("token without kid and several keys", "unknown_key")
            if candidates:
                return candidates[0]
        raise TokenRejected("no provider key for this token", "unknown_key")

    def _refetch_jwks(self) -> KeySet | None:
        with self._lock:
            now = self.clock()
            if now - self._forced_refetch_at < self.config.jwks_refetch_interval:
                return None
            self._forced_refetch_at = now
        return self._fetch_jwks()

    # -- the flow -----------------------------------------------------------------------

    def _oauth(self) -> OAuth2Session:
        session = OAuth2Session(
            client_id=self.config.client_id, client_secret=self.config.client_secret,
            scope=" ".join(self.config.scopes), redirect_uri=self.config.redirect_uri,
            token_endpoint_auth_method="client_secret_post")  # noqa: S106 - a method name
        session.session = self.http
        return session

    def authorization_url(self, state: str, nonce: str) -> str:
        if len(state) < MIN_RANDOM_LENGTH or len(nonce) < MIN_RANDOM_LENGTH:
            raise ValueError("state and nonce must be at least 32 characters long")
        url, _ = self._oauth().create_authorization_url(
            str(self.metadata()["authorization_endpoint"]), state=state, nonce=nonce,
            acr_values=self.config.acr_values)
        return str(url)

    def exchange_code(self, code: str) -> tuple[str, str]:
        """(id_token, access_token) for an authorization code, right away: FranceConnect's
        codes live 30 seconds."""
        oauth = self._oauth()
        try:
            token = oauth.fetch_token(str(self.metadata()["token_endpoint"]), code=code,
                                      grant_type="authorization_code",
                                      timeout=self.config.timeout)
        except OAuthError as exc:
            raise ProviderRefused(f"token request refused: {exc.error}",
                                  error=exc.error) from None
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"token request failed: {type(exc).__name__}") from None
        except ValueError:
            raise ProviderUnavailable("token endpoint did not answer JSON") from None
        id_token, access_token = token.get("id_token"), token.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise ProviderUnavailable("token response without id_token or access_token")
        if str(token.get("token_type", "")).lower() != "bearer":
            raise ProviderUnavailable("token response with a token type other than Bearer")
        return id_token, access_token

    def _verify(self, token: str, what: str) -> dict[str, Any]:
        """Signature and the claims common to ID token and userinfo: iss, aud."""
        try:
            header = extract_compact(token.encode()).headers()
        except (JoseError, ValueError, UnicodeError):
            raise TokenRejected(f"{what}: not a compact JWS", "malformed") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise TokenRejected(f"{what}: algorithm {alg!r} refused", "algorithm")
        key = self._key_for(header)
        try:
            decoded = jwt.decode(token, key, algorithms=[str(alg)])
        except JoseError:
            raise TokenRejected(f"{what}: bad signature", "signature") from None
        claims = dict(decoded.claims)
        if claims.get("iss") != self.issuer:
            raise TokenRejected(f"{what}: unexpected issuer", "issuer")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.config.client_id not in audiences:
            raise TokenRejected(f"{what}: not addressed to us", "audience")
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise TokenRejected(f"{what}: several audiences and not authorised for us",
                                "audience")
        return claims

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        claims = self._verify(id_token, "ID token")
        now = self.clock()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            raise TokenRejected("ID token: exp or iat missing", "expired")
        if exp + self.config.leeway < now:
            raise TokenRejected("ID token: expired", "expired")
        if iat - self.config.leeway > now:
            raise TokenRejected("ID token: issued in the future", "expired")
        if not same_secret(nonce, claims.get("nonce") if isinstance(claims.get("nonce"), str)
                           else None):
            raise TokenRejected("ID token: nonce does not match", "nonce")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise TokenRejected("ID token: no subject", "subject")
        if claims.get("acr") not in self.config.accepted_acr:
            raise TokenRejected("ID token: authentication level not accepted", "acr")
        return claims

    def fetch_userinfo(self, access_token: str, sub: str) -> dict[str, Any]:
        try:
            response = self.http.get(
                str(self.metadata()["userinfo_endpoint"]), timeout=self.config.timeout,
                headers={"Authorization": f"Bearer {access_token}",
                         "Accept": "application/jwt"}, allow_redirects=False)
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"userinfo failed: {type(exc).__name__}") from None
        if response.status_code in (400, 401, 403):
            error = _oauth_error(response)
            raise ProviderRefused(f"userinfo refused: {error}", error=error)
        if response.status_code != 200 or len(response.content) > MAX_RESPONSE_BYTES:
            raise ProviderUnavailable(f"userinfo answered {response.status_code}")
        mimetype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if mimetype != "application/jwt":
            # FranceConnect v2 signs userinfo; a plain JSON answer cannot be trusted.
            raise TokenRejected("userinfo: not a signed JWT", "unsigned_userinfo")
        claims = self._verify(response.text.strip(), "userinfo")
        if not same_secret(sub, claims.get("sub") if isinstance(claims.get("sub"), str)
                           else None):
            raise TokenRejected("userinfo: subject differs from the ID token's", "subject")
        return claims

    def complete(self, code: str, nonce: str) -> SignIn:
        """The whole callback: code exchange, ID token, userinfo."""
        id_token, access_token = self.exchange_code(code)
        id_claims = self.verify_id_token(id_token, nonce)
        userinfo = self.fetch_userinfo(access_token, str(id_claims["sub"]))
        return SignIn(id_token=id_token, id_claims=id_claims, userinfo=userinfo)

    def logout_url(self, id_token_hint: str, state: str) -> str:
        endpoint = str(self.metadata()["end_session_endpoint"])
        separator = "&" if urlsplit(endpoint).query else "?"
        return endpoint + separator + urlencode({
            "id_token_hint": id_token_hint, "state": state,
            "post_logout_redirect_uri": self.config.post_logout_redirect_uri})
