"""The document seal: round trip, any tampering detected, unknown key, rotation, expiry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from modern.documents.keys import KeyRing
from modern.documents.seal import ATTESTATION, GS, US, SealError, seal, verify

FIELDS = {"ID": "7Q2K9XW4", "AC": "991091010000", "6G": "BERNARD", "60": "Hélène",
          "69": "18021957", "E5": "VALIDE", "E6": "B A2", "E8": "26112026",
          "E9": "26032027"}
DAY = dt.date(2026, 11, 26)


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return KeyRing(tmp_path / "keys", "s" * 40)


def _sealed(ring: KeyRing) -> str:
    key_id = ring.ensure_active()
    return seal(ATTESTATION, FIELDS, key_id, ring.private_key(key_id), DAY)


def test_a_seal_verifies_and_gives_back_its_fields(ring: KeyRing) -> None:
    code = _sealed(ring)
    verified = verify(code, ring)
    assert verified.fields == FIELDS
    assert verified.key_id == ring.ensure_active()
    assert verified.issued_on == DAY
    assert verified.expires_on == dt.date(2027, 3, 26)
    assert code.startswith("DC04MPPF") and code[20:22] == ATTESTATION


@pytest.mark.parametrize("identifier", sorted(FIELDS))
def test_changing_any_field_is_detected(ring: KeyRing, identifier: str) -> None:
    code = _sealed(ring)
    value = FIELDS[identifier]
    forged_value = value[:-1] + ("X" if value[-1] != "X" else "Y")
    forged = code.replace(f"{identifier}{value}", f"{identifier}{forged_value}", 1)
    assert forged != code
    with pytest.raises(SealError, match="modifié"):
        verify(forged, ring)


def test_changing_the_header_date_is_detected(ring: KeyRing) -> None:
    code = _sealed(ring)
    forged = code[:12] + "2000" + code[16:]
    with pytest.raises(SealError):
        verify(forged, ring)


def test_a_field_added_after_signing_is_detected(ring: KeyRing) -> None:
    message, _, signature = _sealed(ring).partition(US)
    with pytest.raises(SealError):
        verify(message + GS + "E5VALIDE" + US + signature, ring)


def test_a_key_that_is_not_ours_is_refused(ring: KeyRing, tmp_path: Path) -> None:
    other = KeyRing(tmp_path / "other", "s" * 40)
    key_id = other.ensure_active()
    code = seal(ATTESTATION, FIELDS, key_id, other.private_key(key_id), DAY)
    with pytest.raises(SealError, match="inconnue"):
        verify(code, ring)


def test_a_key_id_of_ours_with_a_foreign_signature_is_refused(
        ring: KeyRing, tmp_path: Path) -> None:
    ours = ring.ensure_active()
    impostor = KeyRing(tmp_path / "impostor", "s" * 40)
    impostor.ensure_active()
    foreign = impostor.private_key(impostor.ensure_active())
    with pytest.raises(SealError, match="modifié"):
        verify(seal(ATTESTATION, FIELDS, ours, foreign, DAY), ring)


def test_after_rotation_old_documents_still_verify(ring: KeyRing) -> None:
    old_code = _sealed(ring)
    old_key = ring.ensure_active()
    new_key = ring.rotate()
    assert new_key != old_key and ring.ensure_active() == new_key
    assert verify(old_code, ring).key_id == old_key
    assert verify(_sealed(ring), ring).key_id == new_key


def test_expiry_is_reported(ring: KeyRing) -> None:
    verified = verify(_sealed(ring), ring)
    assert not verified.expired(dt.date(2027, 3, 26))
    assert verified.expired(dt.date(2027, 3, 27))


@pytest.mark.parametrize("garbage", ["", "hello", "DC04MPPF" + US + "AAAA", "DC04" + "x" * 40])
def test_garbage_is_refused_with_a_reason(ring: KeyRing, garbage: str) -> None:
    ring.ensure_active()
    with pytest.raises(SealError):
        verify(garbage, ring)


def test_private_keys_are_not_stored_in_clear(ring: KeyRing) -> None:
    key_id = ring.ensure_active()
    pem = (ring.folder / f"{key_id}.pem").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert oct((ring.folder / f"{key_id}.pem").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(ValueError):
        KeyRing(ring.folder, "another secret key of forty characters!!").private_key(key_id)


def test_documents_carry_their_seal_and_the_attestation_no_points(ring: KeyRing) -> None:
    import io

    from pypdf import PdfReader

    from modern.documents.pdf import build, code_in_pdf, printable_code, typed_code
    from modern.documents.seal import RELEVE_INTEGRAL
    from modern.licences.record import decode_record
    from tests.conftest import SAMPLES, contract_file

    contract_file("samples/registry-extract.jsonl")
    record = decode_record((SAMPLES / "registry-extract.jsonl").read_bytes().splitlines()[0])
    attestation = build(record, ATTESTATION, ring, DAY)
    assert attestation.expires_on == dt.date(2027, 3, 26)
    assert code_in_pdf(attestation.pdf) == attestation.code
    verified = verify(attestation.code, ring)
    assert verified.fields["AC"] == "991091010000" and verified.fields["E6"] == "B A2"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(attestation.pdf)).pages)
    assert "Attestation de droits à conduire" in text and "BERNARD" in text
    assert "Solde" not in text
    assert typed_code(printable_code(attestation.code)) == attestation.code

    releve = build(record, RELEVE_INTEGRAL, ring, DAY)
    releve_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(releve.pdf)).pages)
    assert "11 point(s)" in releve_text
    assert "H1" in verify(releve.code, ring).fields
    assert not any(v == "11" for v in verify(releve.code, ring).fields.values())


def test_the_visible_2d_code_on_the_page_is_the_seal(ring: KeyRing) -> None:
    """What a phone scans: the page's only image is the QR code of exactly the seal string,
    module for module (so a scanner reads the code the verifier checks)."""
    import io

    import segno
    from pypdf import PdfReader

    from modern.documents.pdf import build
    from modern.licences.record import decode_record
    from tests.conftest import SAMPLES, contract_file

    contract_file("samples/registry-extract.jsonl")
    record = decode_record((SAMPLES / "registry-extract.jsonl").read_bytes().splitlines()[0])
    document = build(record, ATTESTATION, ring, DAY)
    [image] = PdfReader(io.BytesIO(document.pdf)).pages[0].images
    assert image.image is not None
    picture = image.image.convert("L")
    expected = segno.make(document.code, error="m", micro=False).matrix
    scale, border = 4, 2  # as the page renders it
    assert picture.size == ((len(expected) + 2 * border) * scale,) * 2

    def dark(x: int, y: int) -> bool:
        centre = scale * (border + x) + scale // 2, scale * (border + y) + scale // 2
        value = picture.getpixel(centre)
        assert isinstance(value, int)  # one grey level per pixel
        return value < 128

    printed = [[dark(x, y) for x in range(len(expected))] for y in range(len(expected))]
    assert printed == [[bool(module) for module in row] for row in expected]
    other = segno.make(document.code.replace("BERNARD", "BERNARX"), error="m", micro=False).matrix
    assert printed != [[bool(module) for module in row] for row in other]
