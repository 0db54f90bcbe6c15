from __future__ import annotations

from tests.purge.conftest import make_app

__all__ = ["make_app"]
