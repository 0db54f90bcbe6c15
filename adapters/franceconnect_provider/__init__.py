"""FranceConnect v2 as it runs, on loopback, for the demonstration and the tests.

`server.mjs` beside this file runs `oidc-provider` (npm), the engine FranceConnect itself runs
on, configured as FranceConnect v2 publishes its configuration: discovery under
`/api/v2/.well-known/openid-configuration`, ES256 and RS256 ID tokens, userinfo signed as a
JWT, `eidas1`, a pairwise `sub` per service, codes living 30 seconds and access tokens 60,
RP-initiated logout at `session/end`, and FranceConnect's own rules on the authorization
request (`state` and `nonce` of 32 letters and digits at least, `acr_values` mandatory).

This module writes the provider's configuration (registered services, demonstration
identities, signing keys) and runs the Node program: `ProviderProcess.start` waits for its
port, `reload` applies a changed configuration (a key rotation, a new registration) without a
restart, `stop` ends it. It imports nothing of the project.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from joserfc.jwk import ECKey, Key, KeySet, RSAKey

API = "/api/v2"
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
SERVER = Path(__file__).with_name("server.mjs")
STARTUP_SECONDS = 15.0


class ProviderError(RuntimeError):
    """The provider could not be started or reconfigured; the message says why."""


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
        """The provider's account id for this identity (never sent to a service: the `sub`
        a service sees is derived from it per service)."""
        return hashlib.sha256("|".join((
            self.given_name, self.family_name, self.birthdate, self.gender, self.birthplace,
            self.birthcountry)).encode()).hexdigest()[:24]

    def as_config(self) -> dict[str, str]:
        return {"id": self.key, "given_name": self.given_name,
                "family_name": self.family_name, "birthdate": self.birthdate,
                "gender": self.gender, "birthplace": self.birthplace,
                "birthcountry": self.birthcountry, "email": self.email,
                "preferred_username": self.preferred_username, "note": self.note}


@dataclass(frozen=True)
class Registration:
    """A service registered with the provider, as FranceConnect registers one: its return
    addresses, the algorithm of its ID tokens and userinfo (None: userinfo as plain JSON,
    which FranceConnect v2 never does), and the scopes it was approved for (None: all)."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    id_token_alg: str = "ES256"  # noqa: S105 - an algorithm name
    userinfo_alg: str | None = "ES256"
    scope: str | None = None
    # A provider misbehaving for this service: ID tokens without `acr`.
    omit_acr: bool = False

    def as_config(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "client_id": self.client_id, "client_secret": self.client_secret,
            "redirect_uris": list(self.redirect_uris),
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris),
            "id_token_signed_response_alg": self.id_token_alg,
            "userinfo_signed_response_alg": self.userinfo_alg}
        if self.scope is not None:
            values["scope"] = self.scope
        if self.omit_acr:
            values["x_omit_acr"] = True
        return values


def new_signing_keys() -> KeySet:
    """One ES256 key (FranceConnect's recommendation) and one RS256 key, each with a kid."""
    return KeySet([
        ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, auto_kid=True),
        RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)])


def load_or_create_keys(path: Path) -> KeySet:
    """The demonstration's keys, kept across restarts in a file only its owner reads."""
    if path.exists():
        return KeySet.import_key_set(json.loads(path.read_text()))
    keys = new_signing_keys()
    _write_private(path, keys.as_dict(private=True))
    return keys


def _write_private(path: Path, document: Any) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)


@dataclass(frozen=True)
class ProviderConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    issuer: str | None = None  # None: http://host:port/api/v2
    keys: KeySet = field(default_factory=new_signing_keys, repr=False)
    clients: tuple[Registration, ...] = ()
    identities: tuple[DemoIdentity, ...] = ()
    pairwise_salt: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)

    def as_config(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "issuer": self.issuer,
                "keys": self.keys.as_dict(private=True), "pairwise_salt": self.pairwise_salt,
                "clients": [client.as_config() for client in self.clients],
                "identities": [identity.as_config() for identity in self.identities]}

    def signing_key(self, alg: str) -> Key:
        """The key that signs with `alg` (the first of its kind, as the provider picks)."""
        for key in self.keys:
            if key.alg == alg:
                return key
        raise LookupError(alg)


class ProviderProcess:
    """The Node program with its configuration file in `folder` (created, private). Its
    stderr goes to `log` (default: `folder/provider.log`); None leaves it on ours."""

    def __init__(self, folder: Path, config: ProviderConfig, *,
                 log: Path | bool | None = True) -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder = folder
        self.config = config
        self.config_path = folder / "config.json"
        self.log_path = folder / "provider.log" if log is True else (log or None)
        self._process: subprocess.Popen[str] | None = None
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.issuer = ""
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def discovery_url(self) -> str:
        return self.issuer + DISCOVERY_SUFFIX

    def start(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise ProviderError("Node.js (node) is needed to run the local FranceConnect")
        if not (SERVER.parent.parent.parent / "node_modules" / "oidc-provider").exists():
            raise ProviderError("oidc-provider is not installed: run bin/setup (npm install)")
        _write_private(self.config_path, self.config.as_config())
        stderr: IO[str] | None = None
        if isinstance(self.log_path, Path):
            stderr = self.log_path.open("a")
        self._process = subprocess.Popen(  # noqa: S603 - our own program, no shell
            [node, str(SERVER), str(self.config_path)], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=stderr, text=True)
        if stderr is not None:
            stderr.close()
        threading.Thread(target=self._read_events, daemon=True).start()
        listening = self._wait_for("listening")
        self.issuer, self.port = str(listening["issuer"]), int(listening["port"])

    def _read_events(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            try:
                self._events.put(json.loads(line))
            except ValueError:
                continue
        self._events.put({"event": "exited"})

    def _wait_for(self, name: str) -> dict[str, Any]:
        while True:
            try:
                event = self._events.get(timeout=STARTUP_SECONDS)
            except queue.Empty:
                raise ProviderError(f"the local FranceConnect did not report {name!r} in time"
                                    f"{self._log_tail()}") from None
            if event.get("event") == name:
                return event
            if event.get("event") in ("exited", "reload_failed"):
                raise ProviderError(f"the local FranceConnect failed: "
                                    f"{event.get('message', 'exited')}{self._log_tail()}")

    def _log_tail(self) -> str:
        if isinstance(self.log_path, Path) and self.log_path.exists():
            return "\n" + "\n".join(self.log_path.read_text().splitlines()[-20:])
        return ""

    def reload(self, config: ProviderConfig) -> None:
        """Applies `config` (same host and port) without a restart: sessions survive."""
        if self._process is None:
            raise ProviderError("the local FranceConnect is not running")
        self.config = config
        _write_private(self.config_path, config.as_config())
        self._process.send_signal(signal.SIGHUP)
        self._wait_for("reloaded")

    def rotate_keys(self) -> KeySet:
        """What a provider does from time to time: new keys sign, the old ones are
        withdrawn from the JWKS."""
        keys = new_signing_keys()
        self.reload(replace(self.config, keys=keys))
        return keys

    def wait(self) -> int:
        assert self._process is not None
        return self._process.wait()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
