"""The signing keys of document seals: a folder of P-256 keys, one active, all kept.

Each key is a PKCS#8 file `<id>.pem`, encrypted with a password derived from the service's
secret key (no private key at rest in clear); `active` names the key that signs new documents.
Rotation adds a key and makes it active; older keys stay, so documents they sealed still
verify until they expire. Key ids are 4 characters, as in the 2D-Doc header.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class KeyRing:
    def __init__(self, folder: Path, secret: str) -> None:
        self.folder = folder
        # A distinct password per purpose, derived from the secret key.
        self._password = hashlib.sha256(b"document-seal-keys:" + secret.encode()).digest()
        self._private: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._public: dict[str, ec.EllipticCurvePublicKey] = {}

    def ensure_active(self) -> str:
        """The active key id, creating a first key when the folder has none."""
        active = self.folder / "active"
        if active.exists():
            return active.read_text().strip()
        return self.rotate()

    def rotate(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        key_id = "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(4))
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(self._password))
        path = self.folder / f"{key_id}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        draft = self.folder / f".active.{os.getpid()}"
        draft.write_text(key_id)
        draft.replace(self.folder / "active")  # atomic switch to the new key
        return key_id

    def private_key(self, key_id: str) -> ec.EllipticCurvePrivateKey:
        if key_id not in self._private:
            data = (self.folder / f"{key_id}.pem").read_bytes()
            key = serialization.load_pem_private_key(data, self._password)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"seal key {key_id} is not an elliptic-curve key")
            self._private[key_id] = key
        return self._private[key_id]

    def public_key(self, key_id: str) -> ec.EllipticCurvePublicKey | None:
        if key_id not in self._public:
            if len(key_id) != 4 or not key_id.isalnum() or not (
                    self.folder / f"{key_id}.pem").exists():
                return None
            self._public[key_id] = self.private_key(key_id).public_key()
        return self._public[key_id]

    def key_ids(self) -> list[str]:
        return sorted(path.stem for path in self.folder.glob("*.pem"))
