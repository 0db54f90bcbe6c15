"""The load test's installation: its own PostgreSQL database and Redis key prefix, the
generated registry extract and legacy export (kept in bench/out/ between runs), and the
project's commands that bring the database to the state the traffic expects."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # measure.py, shared with the other benchmarks

# Every client of the test comes from 127.0.0.1, so the per-address limits are raised for
# the test only (the counters still count every request): a real client population spreads
# over many addresses.
RATE_LIMITS = {"RATE_LIMIT_PER_MINUTE": "1000000", "ADMIN_RATE_LIMIT_PER_MINUTE": "100000"}


@dataclass(frozen=True)
class Installation:
    """Where the service under test keeps its state."""

    database: str  # database name
    admin_url: str  # libpq URL of a database to run CREATE/DROP DATABASE from
    redis_url: str
    redis_prefix: str
    work: Path  # instance folder, fixtures, logs

    @property
    def database_url(self) -> str:
        server = self.admin_url.rsplit("/", 1)[0]
        return f"{server.replace('postgresql://', 'postgresql+psycopg://')}/{self.database}"

    def environment(self, port: int) -> dict[str, str]:
        """The service's settings, as an operator would set them."""
        return {**os.environ, "ENVIRONMENT": "test", "LOG_LEVEL": "INFO",
                "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                "REDIS_KEY_PREFIX": self.redis_prefix,
                "INSTANCE_PATH": str(self.work / "instance"),
                "SECRET_KEY": _secret(self.work), "PUBLIC_URL": f"http://127.0.0.1:{port}",
                # Jobs run in the migration command's process, never in a web worker.
                "MIGRATION_WEB_WORKER": "off", **RATE_LIMITS}


def _secret(work: Path) -> str:
    path = work / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text()


def psql(admin_url: str, *statements: str) -> None:
    command = ["psql", admin_url, "-q", "-v", "ON_ERROR_STOP=1"]
    for statement in statements:
        command += ["-c", statement]
    subprocess.run(command, check=True, capture_output=True)


def create_database(place: Installation) -> None:
    psql(place.admin_url, f"DROP DATABASE IF EXISTS {place.database} WITH (FORCE)",
         f"CREATE DATABASE {place.database}")


def drop_database(place: Installation) -> None:
    psql(place.admin_url, f"DROP DATABASE IF EXISTS {place.database} WITH (FORCE)")


def forget_redis_keys(place: Installation) -> int:
    """Deletes this run's keys (its prefix only: the Redis database may be shared)."""
    client = redis.Redis.from_url(place.redis_url)
    keys = list(client.scan_iter(match=f"{place.redis_prefix}*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start:start + 1000])
    client.close()
    return len(keys)


def flask(args: list[str], env: dict[str, str]) -> str:
    """One of the project's commands; its stdout, or the run stops with its stderr."""
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], env=env,
                            cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def registry_extract(count: int, as_of: dt.date) -> Path:
    """The demo generator's licences, as the national file delivers them (JSON Lines)."""
    from modern.licences.generator import generate

    path = OUT / f"load-registry-{count}-{as_of.isoformat()}.jsonl"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        draft = path.with_suffix(".part")
        with draft.open("w", encoding="utf-8") as handle:
            for record in generate(count, seed=11, as_of=as_of):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        draft.rename(path)
    return path


def prepare(place: Installation, env: dict[str, str], extract: Path,
            sizes: dict[str, int]) -> dict[str, Any]:
    """Codes, accounts and documents made by `prepare.py` in the service's environment."""
    arguments = [f"--{name}={value}" for name, value in sizes.items()]
    result = subprocess.run([sys.executable, str(Path(__file__).with_name("prepare.py")),
                             str(extract), str(place.work), *arguments], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"preparing the data failed:\n{result.stderr[-3000:]}")
    fixtures: dict[str, Any] = json.loads((place.work / "fixtures.json").read_text())
    return fixtures


def admin_token(env: dict[str, str]) -> str:
    """A read-only token of the admin API, for the agent who follows the migration."""
    output = flask(["admin", "create-token", "suivi-charge", "--scope", "migrations:read",
                    "--expires-days", "1"], env)
    return output.splitlines()[0].strip()
