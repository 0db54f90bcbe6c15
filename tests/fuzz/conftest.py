"""The fuzzers' fixtures: those of the compatibility tests (an application with a fixed clock
and a generous rate limit, the registry sample, a holder with a mobile number on file, the
contract's XSD), so that fuzzed requests meet the same service as the contract tests; the
holder's code is one the message strategies know."""

from __future__ import annotations

import pytest
from flask import Flask

from telepoints_compat.codes import services as code_services
from tests.compat.conftest import (
    Holder,
    app,
    contract_schema,
    counter_backend,
    holder,
    issue,
    registry,
    settings_overrides,
)
from tests.fuzz.soap_messages import CODE

__all__ = ["app", "contract_schema", "counter_backend", "holder", "known_holder", "registry",
           "settings_overrides"]


@pytest.fixture
def known_holder(app: Flask, holder: Holder, monkeypatch: pytest.MonkeyPatch) -> Holder:
    """The holder, with the code the strategies write in their messages."""
    monkeypatch.setattr(code_services, "generate_code", lambda: CODE)
    return Holder(holder.numero, issue(app, holder.numero), holder.birth)
