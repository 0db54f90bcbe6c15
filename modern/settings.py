"""The service's configuration: one frozen object built from environment variables.

Every variable is read and validated here, once, at start-up; a bad value stops the service
with a message naming the variable. With no variable set, the service runs on the embedded
default: SQLite in the instance folder and the local adapters.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "test", "production")
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

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

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
        )
        if reader.problems:
            raise SettingsError(reader.problems)
        return settings


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

    def date(self, name: str, default: dt.date | None) -> dt.date | None:
        return self._parsed(name, default, dt.date.fromisoformat, "a date as YYYY-MM-DD")

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


def _check_database_url(value: str) -> str | None:
    scheme = urlsplit(value).scheme
    if scheme not in ("sqlite", "postgresql+psycopg"):
        return "must start with sqlite:/// or postgresql+psycopg://"
    return None


def _check_redis_url(value: str) -> str | None:
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        return "must start with redis://, rediss:// or unix://"
    return None
