"""The keys of the codes' keyed hash.

`CODE_KEYS` (required in production) lists them newest first; the newest hashes every new code
and re-hashes an older one when its holder next uses it, so an old key can be dropped once
`flask codes keys` shows that no code uses it any more. Outside production, with no
`CODE_KEYS`, one key is generated per installation and kept in the instance folder, readable
by its owner only (as the secret key is).
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

LOCAL_KEY_ID = "local"


class KeyRing:
    def __init__(self, keys: tuple[tuple[str, bytes], ...]) -> None:
        if not keys:
            raise ValueError("at least one code key is needed")
        self.current_id = keys[0][0]
        self._keys = dict(keys)

    @property
    def current(self) -> bytes:
        return self._keys[self.current_id]

    def get(self, key_id: str) -> bytes | None:
        return self._keys.get(key_id)

    @property
    def ids(self) -> list[str]:
        return list(self._keys)


def instance_keys(instance: Path) -> tuple[tuple[str, bytes], ...]:
    path = instance / "code_key"
    if not path.exists():
        # Written aside then linked into place: two workers starting together agree on one key.
        draft = instance / f".code_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return ((LOCAL_KEY_ID, base64.urlsafe_b64decode(path.read_text().strip())),)
