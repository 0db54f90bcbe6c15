"""The published seal keys (/.well-known/cles-cachet.json) and the offline verifier: a real
attestation checked from the key list alone, in a process that has neither the service's code
nor a network; rotation and revocation change the verdicts, online and offline."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet

from modern.documents import offline_verifier
from modern.documents.keys import KeyRing
from modern.documents.pdf import Document, build, printable_code
from modern.documents.seal import ATTESTATION, SealError, seal
from modern.documents.seal import verify as verify_online
from modern.licences.record import decode_record
from modern.points.services import today_in_paris
from tests.conftest import SAMPLES, contract_file, seal_key_in_service_since

OFFLINE = Path(offline_verifier.__file__)
# Run in the child process before the verifier: no module of the service can be imported, and
# no socket can connect anywhere except to the port named in ALLOWED_PORT (0: none).
GUARD = """
import sys, runpy
BLOCKED = {"modern", "wsgi", "adapters", "telepoints_compat", "migrations", "flask"}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ImportError("the offline verifier may not import " + name)
sys.meta_path.insert(0, Block())
allowed = int(sys.argv.pop(1))
def no_network(event, args):
    if event == "socket.connect" and (not isinstance(args[1], tuple) or args[1][1] != allowed):
        raise PermissionError("no network for the offline verifier")
sys.addaudithook(no_network)
script = sys.argv.pop(1)
sys.argv[0] = script
runpy.run_path(script, run_name="__main__")
"""


def _record(line: int = 1) -> Any:
    contract_file("samples/registry-extract.jsonl")
    return decode_record((SAMPLES / "registry-extract.jsonl").read_bytes().splitlines()[line])


def _attestation(app: Flask, day: dt.date | None = None) -> Document:
    return build(_record(), ATTESTATION, app.extensions["seal_keys"], day or today_in_paris())


def _published(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/.well-known/cles-cachet.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data: dict[str, Any] = response.get_json()
    return data


def _offline(tmp_path: Path, document: bytes, keys: str, *, port: int = 0) -> tuple[int, str]:
    """The verifier copied alone into an empty folder and run by a bare Python."""
    folder = tmp_path / "ailleurs"
    folder.mkdir(exist_ok=True)
    script = folder / "verifier.py"
    shutil.copy(OFFLINE, script)
    (folder / "document.pdf").write_bytes(document)
    done = subprocess.run(
        [sys.executable, "-I", "-c", GUARD, str(port), str(script), "document.pdf",
         "--issuer", "http://127.0.0.1:8000", "--keys", keys], cwd=folder,
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin"})
    return done.returncode, done.stdout + done.stderr


def test_the_key_list_is_a_jwks_with_states_and_validity(app: Flask, client: FlaskClient) -> None:
    first = app.extensions["seal_keys"].ensure_active()
    published = _published(client)
    assert published["issuer"] == "http://127.0.0.1:8000"
    [key] = published["keys"]
    assert key["kid"] == first and key["status"] == "active" and key["alg"] == "ES256"
    assert key["usage"] == "cachet-2d" and isinstance(key["nbf"], int) and "exp" not in key
    assert "d" not in key  # never the private part
    # A standard JOSE library reads it as it is.
    assert KeySet.import_key_set(published).get_by_kid(first).key_type == "EC"

    second = app.extensions["seal_keys"].rotate()
    states = {k["kid"]: k for k in _published(client)["keys"]}
    assert states[second]["status"] == "active"
    assert states[first]["status"] == "retired"
    assert states[first]["exp"] > states[first]["retired_at"] >= states[first]["nbf"]

    revoked = app.extensions["seal_keys"].revoke(first)
    published = _published(client)
    # A revoked key leaves `keys`: a generic JOSE consumer cannot find it to trust it.
    assert [k["kid"] for k in published["keys"]] == [second]
    assert published["revoked"] == [{"kid": first,
                                     "revoked_at": int(revoked.revoked.timestamp())}]
    with pytest.raises(InvalidKeyIdError):
        KeySet.import_key_set(published).get_by_kid(first)


def test_a_real_attestation_verifies_from_the_list_alone_in_another_process(
        app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    document = _attestation(app)
    keys = tmp_path / "cles-cachet.json"
    keys.write_text(json.dumps(_published(client)))

    status, output = _offline(tmp_path, document.pdf, str(keys))
    assert status == 0, output
    assert "Verdict : valide" in output and "MÜLLER" in output

    # The same document, its printed code with one letter changed: refused.
    forged = printable_code(document.code).replace("MÜLLER", "MULLER").encode()
    status, output = _offline(tmp_path, forged, str(keys))
    assert status == 1 and "modifié" in output


def _verdict(client: FlaskClient, code: str) -> offline_verifier.Verdict:
    keys = offline_verifier.parse_keys(json.dumps(_published(client)).encode())
    return offline_verifier.verify(code, keys, today_in_paris())


def test_rotation_and_revocation_change_the_verdicts(app: Flask, client: FlaskClient) -> None:
    ring: KeyRing = app.extensions["seal_keys"]
    old_document = _attestation(app)
    old_key = ring.ensure_active()
    list_before = offline_verifier.parse_keys(json.dumps(_published(client)).encode())

    ring.rotate()
    new_document = _attestation(app)
    today = today_in_paris()
    # A verifier holding the list from before the rotation does not know the new key yet.
    refused = offline_verifier.verify(new_document.code, list_before, today)
    assert refused.status == "refusé" and "liste publiée" in refused.reason
    assert _verdict(client, new_document.code).valid
    assert _verdict(client, old_document.code).valid  # retired, still verifying
    # The retired key signing after its retirement (stolen from a backup, say): refused.
    late = seal(ATTESTATION, {"ID": "X", "E9": "01012099"}, old_key, ring.private_key(old_key),
                today + dt.timedelta(days=3))
    assert "retrait" in _verdict(client, late).reason

    ring.revoke(old_key)
    assert _verdict(client, old_document.code).status == "révoqué"
    assert _verdict(client, new_document.code).valid
    page = client.post("/verifier", data={"code": printable_code(old_document.code)})
    assert page.status_code == 422 and "Document révoqué" in page.get_data(as_text=True)
    api = client.post("/api/v1/verifications", json={"code": old_document.code}).get_json()
    assert api["authentique"] is False and "révoqué" in api["motif"]
    assert client.post("/verifier", data={"code": printable_code(new_document.code)}
                       ).status_code == 200


def test_an_expired_document_is_told_apart_offline(app: Flask, client: FlaskClient) -> None:
    old = _attestation(app, today_in_paris() - dt.timedelta(days=200))
    # Signed before the key existed, as far as the header says: the key's start is checked.
    assert _verdict(client, old.code).status == "refusé"
    seal_key_in_service_since(app, 300)
    assert _verdict(client, old.code).status == "expiré"


@pytest.mark.parametrize("change", [
    lambda code: code, lambda code: code.replace("MÜLLER", "MULLER"),
    lambda code: code[:12] + "2000" + code[16:], lambda code: code[:-3],
    lambda code: "DC04MPPF" + code[8:], lambda code: "nonsense"])
def test_the_offline_verifier_agrees_with_the_service(app: Flask, client: FlaskClient,
                                                      change: Any) -> None:
    code = change(_attestation(app).code)
    try:
        verify_online(code, app.extensions["seal_keys"])
        online = True
    except SealError:
        online = False
    assert _verdict(client, code).status in (("valide", "expiré") if online else ("refusé",))


def test_the_flask_command_verifies_a_file(app: Flask, client: FlaskClient,
                                           tmp_path: Path) -> None:
    document = tmp_path / "attestation.pdf"
    document.write_bytes(_attestation(app).pdf)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(_published(client)))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["documents", "verify", str(document), "--keys", str(keys)])
    assert result.exit_code == 0, result.output
    assert "Verdict : valide" in result.output
    assert "émetteur http://127.0.0.1:8000" in result.output
    ring: KeyRing = app.extensions["seal_keys"]
    runner.invoke(args=["documents", "revoke-key", ring.ensure_active()])
    keys.write_text(json.dumps(_published(client)))
    result = runner.invoke(args=["documents", "verify", str(document), "--keys", str(keys)])
    assert result.exit_code == 1 and "révoqué" in result.output
    bad = runner.invoke(args=["documents", "verify", str(document), "--keys",
                              str(tmp_path / "absent.json")])
    assert bad.exit_code != 0 and "illisible" in bad.output
