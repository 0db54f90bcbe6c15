from __future__ import annotations

from tests.consultation.support import app, as_holder, demo

__all__ = ["app", "as_holder", "demo"]
