"""Whoever holds a key list can forge seals: the offline verifier and `flask documents
verify` trust only the expected service's list, fetched over https from its own origin, and
say which list and issuer their verdict rests on."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from flask.testing import FlaskClient

from modern.documents import offline_verifier, publication
from modern.documents.seal import ATTESTATION, seal
from modern.points.services import today_in_paris

ISSUER = "http://127.0.0.1:8000"  # PUBLIC_URL of the test settings


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@contextmanager
def _server(folder: Path, tls: tuple[Path, Path] | None,
            redirect_to: str = "") -> Iterator[str]:
    """A file server on loopback (https when `tls` is given) serving `folder`, or answering
    every request with a redirect to `redirect_to`; yields its origin."""
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if redirect_to:
                self.send_response(302)
                self.send_header("Location", redirect_to)
                self.end_headers()
            else:
                super().do_GET()

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: Handler(*a, directory=str(folder)))
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A certificate the verifier trusts, as a real service's would be."""
    cert = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    return cert


def _forged(tmp_path: Path, issuer: str) -> tuple[Path, dict[str, Any]]:
    """A seal signed with an attacker's key, and a key list (naming `issuer`) that holds it."""
    key = ec.generate_private_key(ec.SECP256R1())
    today = today_in_paris()
    code = seal(ATTESTATION, {"ID": "FAKE", "6G": "DUPONT", "E5": "VALIDE",
                              "E8": today.strftime("%d%m%Y")}, "EVIL", key, today)
    numbers = key.public_key().public_numbers()
    entry = {"kty": "EC", "crv": "P-256", "x": publication._b64(numbers.x),
             "y": publication._b64(numbers.y), "kid": "EVIL", "use": "sig", "alg": "ES256",
             "usage": "cachet-2d", "status": "active", "nbf": 946684800}
    document = tmp_path / "code.txt"
    document.write_text(code)
    return document, {"issuer": issuer, "keys": [entry]}


def test_a_forged_list_on_a_plain_http_address_is_refused(
        app: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    served = tmp_path / "site"
    served.mkdir()
    with _server(served, None) as origin:
        document, forged = _forged(tmp_path, origin)
        (served / "cles-cachet.json").write_text(json.dumps(forged))
        url = origin + "/cles-cachet.json"
        assert offline_verifier.main([str(document), "--issuer", origin, "--keys", url]) == 2
        assert "https" in capsys.readouterr().err
        result = app.test_cli_runner().invoke(
            args=["documents", "verify", str(document), "--issuer", origin, "--keys", url])
        assert result.exit_code != 0 and "Verdict" not in result.output
        assert "https" in result.output


def test_a_list_of_another_origin_or_issuer_is_refused(
        tmp_path: Path, tls: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    genuine, evil = tmp_path / "genuine", tmp_path / "evil"
    genuine.mkdir()
    evil.mkdir()
    with _server(genuine, tls) as service, _server(evil, tls) as attacker:
        document, forged = _forged(tmp_path, attacker)
        (evil / "cles-cachet.json").write_text(json.dumps(forged))
        # The attacker's list at its own address: not the service's origin.
        assert offline_verifier.main([str(document), "--issuer", service, "--keys",
                                      attacker + "/cles-cachet.json"]) == 2
        assert "seule l'adresse https" in capsys.readouterr().err
        # The attacker's list, copied to a file: it names another issuer.
        copy = tmp_path / "copie.json"
        copy.write_text(json.dumps(forged))
        assert offline_verifier.main([str(document), "--issuer", service, "--keys",
                                      str(copy)]) == 2
        assert "n'est pas celle de" in capsys.readouterr().err
        # The same list claiming to be the service's, served where the service's list is
        # expected... but the service redirects elsewhere: the redirect is not followed.
        (evil / "cles-cachet.json").write_text(json.dumps({**forged, "issuer": service}))
        with _server(genuine, tls, redirect_to=attacker + "/cles-cachet.json") as moved:
            assert offline_verifier.main([str(document), "--issuer", moved]) == 2
            assert "autre origine" in capsys.readouterr().err
        # Without an issuer to trust, nothing is checked.
        assert offline_verifier.main([str(document), "--keys", str(copy)]) == 2
        assert "--issuer" in capsys.readouterr().err


def test_the_service_list_is_fetched_from_its_https_address_by_default(
        app: Flask, client: FlaskClient, tmp_path: Path, tls: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    from modern.documents.pdf import build
    from tests.documents.test_published_keys import _record

    document = tmp_path / "attestation.pdf"
    document.write_bytes(build(_record(), ATTESTATION, app.extensions["seal_keys"],
                               today_in_paris()).pdf)
    site = tmp_path / "site" / ".well-known"
    site.mkdir(parents=True)
    with _server(site.parent, tls) as service:
        published = client.get("/.well-known/cles-cachet.json").get_json()
        (site / "cles-cachet.json").write_text(json.dumps({**published, "issuer": service}))
        assert offline_verifier.main([str(document), "--issuer", service]) == 0
        out = capsys.readouterr().out
        assert "Verdict : valide" in out
        assert f"Liste de clés : {service}/.well-known/cles-cachet.json (émetteur {service})" \
            in out


def test_flask_verify_trusts_its_own_service_and_says_so(
        app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    from modern.documents.pdf import build
    from tests.documents.test_published_keys import _record

    document = tmp_path / "attestation.pdf"
    document.write_bytes(build(_record(), ATTESTATION, app.extensions["seal_keys"],
                               today_in_paris()).pdf)
    keys = tmp_path / "keys.json"
    keys.write_text(client.get("/.well-known/cles-cachet.json").get_data(as_text=True))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["documents", "verify", str(document), "--keys", str(keys)])
    assert result.exit_code == 0, result.output
    assert f"Liste de clés : {keys} (émetteur {ISSUER})" in result.output
    # By default it fetches PUBLIC_URL's list, which here is plain http: refused.
    result = runner.invoke(args=["documents", "verify", str(document)])
    assert result.exit_code != 0 and "seule l'adresse https" in result.output
    # Another issuer pinned explicitly: this list is not its list.
    result = runner.invoke(args=["documents", "verify", str(document), "--keys", str(keys),
                                 "--issuer", "https://autre.example"])
    assert result.exit_code != 0 and "n'est pas celle de https://autre.example" in result.output


def test_a_copy_pinned_to_the_service_needs_no_issuer(
        app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    import subprocess
    import sys

    from modern.documents.pdf import build
    from tests.documents.test_published_keys import _record

    script = tmp_path / "verifier.py"
    result = app.test_cli_runner().invoke(args=["documents", "verifier-script", str(script)])
    assert result.exit_code == 0, result.output
    (tmp_path / "document.pdf").write_bytes(build(
        _record(), ATTESTATION, app.extensions["seal_keys"], today_in_paris()).pdf)
    (tmp_path / "keys.json").write_text(
        client.get("/.well-known/cles-cachet.json").get_data(as_text=True))
    done = subprocess.run([sys.executable, "-I", str(script), "document.pdf", "--keys",
                           "keys.json"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"(émetteur {ISSUER})" in done.stdout
