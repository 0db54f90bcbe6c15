"""The signing keys of document seals: a folder of P-256 keys, one active, all kept.

Each key is a PKCS#8 file `<id>.pem`, encrypted with a password derived from the service's
secret key (no private key at rest in clear); `active` names the key that signs new documents.
Rotation adds a key and makes it active; older keys stay, so documents they sealed still
verify until they expire. Key ids are 4 characters, as in the 2D-Doc header.

Each key also has a state file `<id>.json` (created, retired, revoked: UTC times): rotation
retires the previous active key, `revoke` revokes one. The states are what the published key
list (`publication.py`) says of each key; a revoked key's documents are refused.

When the secret key itself is rotated, the files still open with the previous secrets
(`SECRET_KEY_FALLBACKS`); `rewrap` re-encrypts them under the current one, after which the
fallbacks can go.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ACTIVE, RETIRED, REVOKED = "active", "retired", "revoked"


@dataclass(frozen=True)
class KeyState:
    key_id: str
    created: dt.datetime
    retired: dt.datetime | None  # when it stopped signing (a newer key became active)
    revoked: dt.datetime | None  # when it stopped being trusted at all

    @property
    def status(self) -> str:
        if self.revoked is not None:
            return REVOKED
        return RETIRED if self.retired is not None else ACTIVE


def _utc(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


class KeyRing:
    def __init__(self, folder: Path, secret: str, fallbacks: Sequence[str] = ()) -> None:
        self.folder = folder
        # A distinct password per purpose, derived from the secret key.
        self._password = _password(secret)
        self._fallbacks = [_password(old) for old in fallbacks]
        self._private: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._public: dict[str, ec.EllipticCurvePublicKey] = {}

    def ensure_active(self) -> str:
        """The active key id, creating a first key when the folder has none."""
        active = self.folder / "active"
        if active.exists():
            return active.read_text().strip()
        return self.rotate()

    def rotate(self, now: dt.datetime | None = None) -> str:
        """A new active key; the previous active one is retired (it keeps verifying)."""
        now = now or dt.datetime.now(dt.UTC)
        self.folder.mkdir(parents=True, exist_ok=True)
        previous = self._active_id()
        key_id = "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(4))
        while (self.folder / f"{key_id}.pem").exists():
            key_id = "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(4))
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(self._password))
        path = self.folder / f"{key_id}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        self._write_state(KeyState(key_id, now, None, None))
        draft = self.folder / f".active.{os.getpid()}"
        draft.write_text(key_id)
        draft.replace(self.folder / "active")  # atomic switch to the new key
        if previous is not None and previous != key_id:
            old = self.state(previous)
            if old.retired is None:
                self._write_state(KeyState(previous, old.created, now, old.revoked))
        return key_id

    def revoke(self, key_id: str, now: dt.datetime | None = None) -> KeyState:
        """Stops trusting a key (compromised, or its documents withdrawn): what it sealed is
        refused from now on. Revoking the active key first makes a new one active."""
        now = now or dt.datetime.now(dt.UTC)
        if key_id not in self.key_ids():
            raise KeyError(key_id)
        if key_id == self._active_id():
            self.rotate(now)
        old = self.state(key_id)
        revoked = KeyState(key_id, old.created, old.retired or now, old.revoked or now)
        self._write_state(revoked)
        return revoked

    def _active_id(self) -> str | None:
        active = self.folder / "active"
        return active.read_text().strip() if active.exists() else None

    def state(self, key_id: str) -> KeyState:
        """A key's state; for a key made before states were kept, its file's time stands for
        its creation, and a key other than the active one counts as retired since then."""
        path = self.folder / f"{key_id}.json"
        if path.exists():
            data = json.loads(path.read_text())
            created = _utc(data["created"])
            assert created is not None
            return KeyState(key_id, created, _utc(data.get("retired")),
                            _utc(data.get("revoked")))
        made = dt.datetime.fromtimestamp((self.folder / f"{key_id}.pem").stat().st_mtime,
                                         dt.UTC)
        return KeyState(key_id, made, None if key_id == self._active_id() else made, None)

    def states(self) -> list[KeyState]:
        return [self.state(key_id) for key_id in self.key_ids()]

    def _write_state(self, state: KeyState) -> None:
        data = {"created": state.created.isoformat(),
                "retired": state.retired.isoformat() if state.retired else None,
                "revoked": state.revoked.isoformat() if state.revoked else None}
        draft = self.folder / f".{state.key_id}.json.{os.getpid()}"
        draft.write_text(json.dumps(data))
        draft.replace(self.folder / f"{state.key_id}.json")

    def private_key(self, key_id: str) -> ec.EllipticCurvePrivateKey:
        if key_id not in self._private:
            self._private[key_id] = self._load(key_id)[0]
        return self._private[key_id]

    def _load(self, key_id: str) -> tuple[ec.EllipticCurvePrivateKey, bool]:
        """The key, and whether it is encrypted under the current secret."""
        data = (self.folder / f"{key_id}.pem").read_bytes()
        for password in (self._password, *self._fallbacks):
            try:
                key = serialization.load_pem_private_key(data, password)
            except ValueError:  # wrong password: try the previous secret
                continue
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"seal key {key_id} is not an elliptic-curve key")
            return key, password == self._password
        raise ValueError(f"seal key {key_id} opens with neither SECRET_KEY nor "
                         "SECRET_KEY_FALLBACKS")

    def rewrap(self) -> list[str]:
        """Re-encrypts under the current secret every key still under a previous one;
        returns their ids. Each file is replaced atomically."""
        done = []
        for key_id in self.key_ids():
            key, current = self._load(key_id)
            if current:
                continue
            pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.BestAvailableEncryption(self._password))
            draft = self.folder / f".{key_id}.{os.getpid()}"
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            draft.replace(self.folder / f"{key_id}.pem")
            done.append(key_id)
        return done

    def digest_key(self, key_id: str) -> bytes:
        """The secret key of the record digests sealed under `key_id`, derived from that
        seal key: it lives, rotates and is re-wrapped with it, and never leaves the service."""
        scalar = self.private_key(key_id).private_numbers().private_value.to_bytes(32, "big")
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=b"document record digest").derive(scalar)

    def public_key(self, key_id: str) -> ec.EllipticCurvePublicKey | None:
        if key_id not in self._public:
            if len(key_id) != 4 or not key_id.isalnum() or not (
                    self.folder / f"{key_id}.pem").exists():
                return None
            self._public[key_id] = self.private_key(key_id).public_key()
        return self._public[key_id]

    def key_ids(self) -> list[str]:
        return sorted(path.stem for path in self.folder.glob("*.pem"))


def _password(secret: str) -> bytes:
    return hashlib.sha256(b"document-seal-keys:" + secret.encode()).digest()
