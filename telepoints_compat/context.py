"""What the compatibility layer's entry points share: settings, the code service, the clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app

from modern.settings import Settings
from telepoints_compat.codes.proof import CodeHolderProof
from telepoints_compat.codes.services import CodeService
from telepoints_compat.notice import Notice

EXTENSION = "telepoints"


class Clock:
    """Now, in UTC; tests may fix it (`clock.fixed = …`)."""

    def __init__(self) -> None:
        self.fixed: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.fixed or dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Compat:
    settings: Settings
    codes: CodeService
    proof: CodeHolderProof
    clock: Clock
    notice: Notice


def compat() -> Compat:
    bundle: Compat = current_app.extensions[EXTENSION]
    return bundle
