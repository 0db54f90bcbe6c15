"""Mobile numbers as the legacy export and agents type them."""

from __future__ import annotations

import pytest

from telepoints_compat.contacts.services import normalise_mobile


@pytest.mark.parametrize(("typed", "e164"), [
    ("0668997182", "+33668997182"),
    ("06 87 54 39 38", "+33687543938"),
    ("0033651953520", "+33651953520"),
    ("+33 7 81 23 45 67", "+33781234567"),
    ("06.12.34.56.78", "+33612345678"),
])
def test_mobile_numbers_in_e164(typed: str, e164: str) -> None:
    assert normalise_mobile(typed) == e164


@pytest.mark.parametrize("typed", ["01 23 45 67 89", "", "n/a", "06 12"])
def test_what_cannot_receive_an_sms(typed: str) -> None:
    assert normalise_mobile(typed) is None
