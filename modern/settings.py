"""The service's configuration: one frozen object built from environment variables.

Every variable is read and validated here, once, at start-up; a bad value stops the service
with a message naming the variable. With no variable set, the service runs on the embedded
default: SQLite in the instance folder and the local adapters.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from adapters.franceconnect import ACR_LEVELS, MINIMAL_SCOPES
from modern.i18n import N_

ENVIRONMENTS = ("development", "test", "production")
LOCAL_FRANCECONNECT = "http://127.0.0.1:9400/api/v2"
# Only what the service uses (data minimisation): the birth name, first names and birth date
# matched against the licence's holder. A wider set is refused (`invalid_scope`) by a
# FranceConnect that approved the service for these.
FRANCECONNECT_SCOPES = MINIMAL_SCOPES
T = TypeVar("T")


class SettingsError(ValueError):
    """One or more environment variables are wrong; the message names each of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    database_url: str = ""  # empty: SQLite in the instance folder
    redis_url: str | None = None
    # Empty outside production: a key generated once and kept in the instance folder, so that
    # every worker of one installation signs with the same key.
    secret_key: str = ""
    log_level: str = "INFO"
    # Addresses of the reverse proxies allowed to set X-Forwarded-For (count of hops).
    trusted_proxy_hops: int = 0
    # Minimum spacing between two course credits (L223-6 al.4 says "once a year";
    # R223-8 II has read "two years" in some versions: see modern/points/rules.py).
    course_credit_spacing_days: int = 365
    # Folder of the document-seal signing keys; empty: `seal_keys` in the instance folder.
    document_keys_dir: str = ""
    # Redis keys of this installation start with this prefix (several installations, or
    # tests, may share one Redis database).
    redis_key_prefix: str = ""

    # Télépoints compatibility: the notice sent with every legacy answer (AvisMigration
    # header, banner), the `Deprecation` date and the closing date (`Sunset`): the day after
    # it, every legacy operation answers SERVICE_CLOS. Empty URL: this service's home page.
    migration_notice: str = N_("Télépoints est remplacé par le service Mes points permis. "
                               "Activez votre compte dès maintenant.")
    new_service_url: str = ""
    telepoints_deprecation_date: dt.date = dt.date(2026, 9, 1)
    telepoints_sunset_date: dt.date = dt.date(2027, 6, 30)
    # Keys of the keyed hash of confidential codes, newest first: (key id, key bytes). The
    # first one hashes new codes; the others still verify older ones until they are
    # re-hashed. Empty outside production: one key kept in the instance folder.
    code_keys: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)
    # Validity of a newly issued confidential code; 0: no expiry, as Télépoints codes.
    code_validity_days: int = 0
    # Shared brute-force protection (per file number) and rate limit (per client address).
    lockout_threshold: int = 5
    lockout_base_seconds: int = 15 * 60
    lockout_max_seconds: int = 24 * 3600
    rate_limit_per_minute: int = 30
    code_requests_per_day: int = 3

    # The service's public address, for the links sent by e-mail (never taken from the
    # request's Host header, which a client controls). Required in production.
    public_url: str = "http://127.0.0.1:8000"
    # Web sessions, kept server-side: ended after this long without a request (idle) and
    # this long after sign-in whatever happens (absolute). ASVS 5, 7.3.1 and 7.3.2.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    # FranceConnect v2 (OpenID Connect). The defaults point to the local provider on loopback
    # (`flask --app wsgi franceconnect serve-local`, oidc-provider); in production FranceConnect
    # is on only when FRANCECONNECT_DISCOVERY_URL is set. An empty client secret outside
    # production is derived from SECRET_KEY (the local provider registers the same). The
    # `acr` accepted back is FRANCECONNECT_ACR_VALUES or a higher level.
    franceconnect_discovery_url: str = LOCAL_FRANCECONNECT + "/.well-known/openid-configuration"
    franceconnect_client_id: str = "mes-points-permis-local"
    franceconnect_client_secret: str = field(default="", repr=False)
    # Registered return addresses; empty: derived from PUBLIC_URL (see the properties below).
    franceconnect_redirect_uri: str = ""
    franceconnect_post_logout_redirect_uri: str = ""
    franceconnect_scopes: tuple[str, ...] = FRANCECONNECT_SCOPES
    franceconnect_acr_values: str = "eidas1"

    # Legacy account migration. The legacy backend (its SOAP contract) asked about files not
    # migrated yet (lazy migration); empty: no legacy backend, no lazy migration.
    legacy_telepoints_url: str = ""
    # Exports uploaded to the admin API: size limit (413 beyond); server-side exports are
    # read only from this folder (empty: none).
    migration_upload_max_bytes: int = 512 * 1024 * 1024
    migration_files_dir: str = ""
    admin_rate_limit_per_minute: int = 120
    # Migration workers: connections of each worker process (PostgreSQL), the lease a worker
    # renews on its job (past it, the job has no worker left and the next one takes it up),
    # and whether the web processes run the jobs started from the admin API themselves (off:
    # `flask migrations work` processes do).
    migration_worker_threads: int = 2
    migration_lease_seconds: int = 60
    migration_web_worker: bool = True
    # Parallel run: the share (0 to 1) of the legacy requests answered here that are also
    # asked of the legacy backend, off the request path, to compare the two answers.
    parallel_run_share: float = 0.0
    # The readiness to switch the legacy backend off: thresholds that override the defaults
    # of `flask migrations readiness` (name=value, comma-separated; see migrations/README).
    readiness_thresholds: tuple[tuple[str, float], ...] = ()

    # Signing keys retired by a rotation of SECRET_KEY, most recent first: links signed with
    # them still verify until they expire, and seal keys encrypted with them still open
    # (`flask documents rewrap-keys` re-encrypts them under the current key).
    secret_key_fallbacks: tuple[str, ...] = field(default=(), repr=False)
    # Bearer token that may read /metrics from outside loopback; empty: loopback only.
    metrics_token: str = field(default="", repr=False)

    # Retention (RGPD art. 5(1)(e), storage limitation): how long each kind of data is kept
    # once it has served its purpose; `flask purge run` enforces it (modern/retention).
    retention_staging_days: int = 30  # export lines of a finished migration job
    retention_revert_days: int = 90  # a migrated account's copy of its legacy data
    retention_message_days: int = 90  # outbox messages, alert changes told
    retention_log_days: int = 365  # admin audit log, per-day legacy traffic
    retention_pending_account_days: int = 30  # sign-ups whose address was never confirmed
    retention_expired_code_days: int = 30  # confidential codes past their expiry
    retention_after_closing_days: int = 30  # codes and contacts of the closed legacy service

    # Who answers for the service, printed on the legal pages (mentions légales, données
    # personnelles): the controller of the processing (RGPD art. 4(7)), how to reach it and
    # its data protection officer, and who hosts the service.
    legal_controller: str = ("Ministère de l'Intérieur, délégation à la sécurité routière, "
                             "place Beauvau, 75800 Paris Cedex 08")
    legal_contact_email: str = "contact-points@interieur.gouv.fr"
    legal_dpo_email: str = "dpd@interieur.gouv.fr"
    legal_host: str = "Hébergement de l'État, ministère de l'Intérieur"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def franceconnect_callback_uri(self) -> str:
        return self.franceconnect_redirect_uri or (
            self.public_url.rstrip("/") + "/compte/franceconnect/retour")

    @property
    def franceconnect_logout_return_uri(self) -> str:
        return self.franceconnect_post_logout_redirect_uri or (
            self.public_url.rstrip("/") + "/compte/franceconnect/deconnexion")

    def sqlalchemy_url(self, instance_path: str) -> str:
        if self.database_url:
            return self.database_url
        return "sqlite:///" + str(Path(instance_path) / "telepoints.db")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        environment = reader.choice("ENVIRONMENT", ENVIRONMENTS, "development")
        database_url = reader.text("DATABASE_URL", "", check=_check_database_url)
        redis_url = reader.text("REDIS_URL", "", check=_check_redis_url) or None
        secret_key = reader.text("SECRET_KEY", "")
        if secret_key and len(secret_key) < 32:
            reader.problems.append("SECRET_KEY: must be at least 32 characters long")
        if not secret_key and environment == "production":
            reader.problems.append("SECRET_KEY: required when ENVIRONMENT=production")
        settings = cls(
            environment=environment,
            database_url=database_url,
            redis_url=redis_url,
            secret_key=secret_key,
            log_level=reader.choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
            trusted_proxy_hops=reader.integer("TRUSTED_PROXY_HOPS", 0, minimum=0, maximum=5),
            course_credit_spacing_days=reader.integer(
                "COURSE_CREDIT_SPACING_DAYS", 365, minimum=1, maximum=3 * 365
            ),
            document_keys_dir=reader.text("DOCUMENT_KEYS_DIR", ""),
            redis_key_prefix=reader.text("REDIS_KEY_PREFIX", "", check=_check_key_prefix),
            migration_notice=reader.text("TELEPOINTS_MIGRATION_NOTICE", cls.migration_notice),
            new_service_url=reader.text("NEW_SERVICE_URL", "", check=_check_http_url),
            telepoints_deprecation_date=reader.date(
                "TELEPOINTS_DEPRECATION_DATE", cls.telepoints_deprecation_date
            ) or cls.telepoints_deprecation_date,
            telepoints_sunset_date=reader.date(
                "TELEPOINTS_SUNSET_DATE", cls.telepoints_sunset_date
            ) or cls.telepoints_sunset_date,
            code_keys=reader.code_keys("CODE_KEYS"),
            code_validity_days=reader.integer("CODE_VALIDITY_DAYS", 0, minimum=0, maximum=3650),
            lockout_threshold=reader.integer("LOCKOUT_THRESHOLD", 5, minimum=3, maximum=20),
            lockout_base_seconds=reader.integer(
                "LOCKOUT_BASE_SECONDS", 15 * 60, minimum=60, maximum=24 * 3600
            ),
            lockout_max_seconds=reader.integer(
                "LOCKOUT_MAX_SECONDS", 24 * 3600, minimum=60, maximum=30 * 24 * 3600
            ),
            rate_limit_per_minute=reader.integer(
                "RATE_LIMIT_PER_MINUTE", 30, minimum=1, maximum=1_000_000
            ),
            code_requests_per_day=reader.integer("CODE_REQUESTS_PER_DAY", 3, minimum=1,
                                                 maximum=50),
            session_idle_minutes=reader.integer("SESSION_IDLE_MINUTES", 30, minimum=2,
                                                maximum=24 * 60),
            session_absolute_hours=reader.integer("SESSION_ABSOLUTE_HOURS", 12, minimum=1,
                                                  maximum=7 * 24),
            public_url=reader.text("PUBLIC_URL", "" if environment == "production"
                                   else cls.public_url, check=_check_http_url).rstrip("/"),
            legacy_telepoints_url=reader.text("LEGACY_TELEPOINTS_URL", "",
                                              check=_check_http_url),
            migration_upload_max_bytes=reader.integer(
                "MIGRATION_UPLOAD_MAX_MB", 512, minimum=1, maximum=16 * 1024) * 1024 * 1024,
            migration_files_dir=reader.text("MIGRATION_FILES_DIR", ""),
            admin_rate_limit_per_minute=reader.integer(
                "ADMIN_RATE_LIMIT_PER_MINUTE", 120, minimum=1, maximum=100_000),
            migration_worker_threads=reader.integer(
                "MIGRATION_WORKER_THREADS", 2, minimum=1, maximum=16),
            migration_lease_seconds=reader.integer(
                "MIGRATION_LEASE_SECONDS", 60, minimum=5, maximum=3600),
            migration_web_worker=reader.choice("MIGRATION_WEB_WORKER", ("on", "off"),
                                               "on") == "on",
            parallel_run_share=reader.fraction("PARALLEL_RUN_SHARE", 0.0),
            readiness_thresholds=reader.thresholds("READINESS_THRESHOLDS"),
            secret_key_fallbacks=reader.secrets("SECRET_KEY_FALLBACKS"),
            metrics_token=reader.text("METRICS_TOKEN", "", check=_check_metrics_token),
            legal_controller=reader.text("LEGAL_CONTROLLER", cls.legal_controller),
            legal_contact_email=reader.text("LEGAL_CONTACT_EMAIL", cls.legal_contact_email),
            legal_dpo_email=reader.text("LEGAL_DPO_EMAIL", cls.legal_dpo_email),
            legal_host=reader.text("LEGAL_HOST", cls.legal_host),
            **_retention(reader),
            **_franceconnect(reader, environment),
        )
        if environment == "production" and not settings.public_url.startswith("https://"):
            reader.problems.append("PUBLIC_URL: required in production, in https")
        if settings.telepoints_sunset_date <= settings.telepoints_deprecation_date:
            reader.problems.append(
                "TELEPOINTS_SUNSET_DATE: must come after TELEPOINTS_DEPRECATION_DATE")
        if settings.lockout_max_seconds < settings.lockout_base_seconds:
            reader.problems.append("LOCKOUT_MAX_SECONDS: must be at least LOCKOUT_BASE_SECONDS")
        if environment == "production" and not settings.code_keys:
            reader.problems.append("CODE_KEYS: required when ENVIRONMENT=production")
        if reader.problems:
            raise SettingsError(reader.problems)
        return settings


# RETENTION_* variables: (setting, default, minimum). The staging lines' minimum leaves
# the report of a job at least a day; the log's, the cutover panel's 14 days.
RETENTION = {
    "RETENTION_STAGING_DAYS": ("retention_staging_days", 30, 1),
    "RETENTION_REVERT_DAYS": ("retention_revert_days", 90, 1),
    "RETENTION_MESSAGE_DAYS": ("retention_message_days", 90, 1),
    "RETENTION_LOG_DAYS": ("retention_log_days", 365, 14),
    "RETENTION_PENDING_ACCOUNT_DAYS": ("retention_pending_account_days", 30, 1),
    "RETENTION_EXPIRED_CODE_DAYS": ("retention_expired_code_days", 30, 0),
    "RETENTION_AFTER_CLOSING_DAYS": ("retention_after_closing_days", 30, 0),
}


def _retention(reader: _Reader) -> dict[str, Any]:
    return {name: reader.integer(variable, default, minimum=minimum, maximum=10 * 365)
            for variable, (name, default, minimum) in RETENTION.items()}


def _franceconnect(reader: _Reader, environment: str) -> dict[str, Any]:
    """FRANCECONNECT_*: outside production, defaults for the local provider; in production,
    nothing unless the discovery URL is set, and then every address in https."""
    production = environment == "production"
    default = "" if production else Settings.franceconnect_discovery_url
    discovery = reader.text("FRANCECONNECT_DISCOVERY_URL", default, check=_check_http_url)
    values: dict[str, Any] = {
        "franceconnect_discovery_url": discovery,
        "franceconnect_client_id": reader.text("FRANCECONNECT_CLIENT_ID",
                                               "" if production
                                               else Settings.franceconnect_client_id),
        "franceconnect_client_secret": reader.text("FRANCECONNECT_CLIENT_SECRET", ""),
        "franceconnect_redirect_uri": reader.text("FRANCECONNECT_REDIRECT_URI", "",
                                                  check=_check_http_url),
        "franceconnect_post_logout_redirect_uri": reader.text(
            "FRANCECONNECT_POST_LOGOUT_REDIRECT_URI", "", check=_check_http_url),
        "franceconnect_scopes": tuple(reader.text(
            "FRANCECONNECT_SCOPES", " ".join(FRANCECONNECT_SCOPES)).split()),
        "franceconnect_acr_values": reader.choice(
            "FRANCECONNECT_ACR_VALUES", ACR_LEVELS, "eidas1"),
    }
    if "openid" not in values["franceconnect_scopes"]:
        reader.problems.append("FRANCECONNECT_SCOPES: must include openid")
    if production and discovery:
        for name in ("client_id", "client_secret"):
            if not values[f"franceconnect_{name}"]:
                reader.problems.append(f"FRANCECONNECT_{name.upper()}: required when "
                                       "FRANCECONNECT_DISCOVERY_URL is set in production")
        for name in ("discovery_url", "redirect_uri", "post_logout_redirect_uri"):
            if values[f"franceconnect_{name}"] and \
                    not values[f"franceconnect_{name}"].startswith("https://"):
                reader.problems.append(f"FRANCECONNECT_{name.upper()}: must be https in "
                                       "production")
    return values


class _Reader:
    """Reads variables and collects every problem, so one start-up reports them all."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def _raw(self, name: str) -> str | None:
        value = self.env.get(name)
        return None if value is None or value.strip() == "" else value.strip()

    def text(self, name: str, default: str,
             check: Callable[[str], str | None] | None = None) -> str:
        value = self._raw(name)
        if value is None:
            return default
        if check is not None and (problem := check(value)):
            self.problems.append(f"{name}: {problem}")
            return default
        return value

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self._raw(name)
        if value is None:
            return default
        if value not in allowed:
            self.problems.append(f"{name}: {value!r} is not one of {', '.join(allowed)}")
            return default
        return value

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        return self._parsed(name, default, int, f"a whole number from {minimum} to {maximum}",
                            lambda v: minimum <= v <= maximum)

    def thresholds(self, name: str) -> tuple[tuple[str, float], ...]:
        """`name=number,…` (names checked by the feature that reads them)."""
        def parse(value: str) -> tuple[tuple[str, float], ...]:
            pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
            if any(len(pair) != 2 or not pair[0].strip() for pair in pairs):
                raise ValueError(value)
            return tuple((key.strip(), float(number)) for key, number in pairs)
        return self._parsed(name, (), parse, "a list of name=number, comma-separated",
                            lambda v: all(number >= 0 for _, number in v))

    def fraction(self, name: str, default: float) -> float:
        return self._parsed(name, default, float, "a number from 0 to 1",
                            lambda v: 0.0 <= v <= 1.0)

    def date(self, name: str, default: dt.date | None) -> dt.date | None:
        return self._parsed(name, default, dt.date.fromisoformat, "a date as YYYY-MM-DD")

    def secrets(self, name: str) -> tuple[str, ...]:
        """Comma-separated secret keys, each at least 32 characters."""
        value = self._raw(name)
        if value is None:
            return ()
        keys = tuple(key.strip() for key in value.split(","))
        if any(len(key) < 32 for key in keys):
            self.problems.append(f"{name}: each key must be at least 32 characters long "
                                 "(comma-separated)")
            return ()
        return keys

    def code_keys(self, name: str) -> tuple[tuple[str, bytes], ...]:
        """`id:key,id:key`, newest first; each key is at least 32 bytes, base64 (url-safe)."""
        value = self._raw(name)
        if value is None:
            return ()
        keys: list[tuple[str, bytes]] = []
        for item in value.split(","):
            key_id, _, encoded = item.strip().partition(":")
            try:
                key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            except (binascii.Error, ValueError):
                key = b""
            if not _KEY_ID.fullmatch(key_id) or len(key) < 32:
                self.problems.append(f"{name}: expected id:key pairs (id of 1 to 16 letters, "
                                     "digits, - or _; key of at least 32 bytes in base64)")
                return ()
            if key_id in dict(keys):
                self.problems.append(f"{name}: the key id {key_id!r} appears twice")
                return ()
            keys.append((key_id, key))
        return tuple(keys)

    def _parsed(self, name: str, default: T, parse: Callable[[str], T], expected: str,
                valid: Callable[[T], bool] = lambda _v: True) -> T:
        value = self._raw(name)
        if value is None:
            return default
        try:
            parsed = parse(value)
        except ValueError:
            parsed = None
        if parsed is None or not valid(parsed):
            self.problems.append(f"{name}: {value!r} is not {expected}")
            return default
        return parsed


def _check_metrics_token(value: str) -> str | None:
    if len(value) < 32:
        return "must be at least 32 characters long"
    return None


def _check_database_url(value: str) -> str | None:
    scheme = urlsplit(value).scheme
    if scheme not in ("sqlite", "postgresql+psycopg"):
        return "must start with sqlite:/// or postgresql+psycopg://"
    return None


_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")


def _check_key_prefix(value: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,32}", value):
        return "up to 32 letters, digits or _ . : -"
    return None


def _check_http_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an absolute http:// or https:// address"
    return None


def _check_redis_url(value: str) -> str | None:
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        return "must start with redis://, rediss:// or unix://"
    return None
