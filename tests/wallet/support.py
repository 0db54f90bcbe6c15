"""What the wallet tests share: the application served on a loopback port (its public URL set to
that address, which is the credential issuer identifier), a holder signed in with FranceConnect,
and the Node wallet of tests/interop/wallet/ driven through JSON on stdin/stdout."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from tests.consultation.support import open_account, sign_in

ROOT = Path(__file__).resolve().parents[2]
WALLET = ROOT / "tests" / "interop" / "wallet" / "wallet.mjs"


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The application on a free loopback port, knowing its own address as its public URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], public_url=base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(5)


def node_wallet(command: str, payload: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "@sd-jwt" / "sd-jwt-vc").exists():
        reason = "the wallet tests need Node.js and `bin/setup` (npm packages)"
        if os.environ.get("CI"):  # where they must run, a missing wallet is a failure
            pytest.fail(reason)
        pytest.skip(reason)
    done = subprocess.run([node, str(WALLET), command], input=json.dumps(payload),
                          capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    try:
        return dict(json.loads(done.stdout))
    except ValueError:
        raise AssertionError(f"wallet {command}: {done.stdout}\n{done.stderr}") from None


def holder_client(app: Flask, record: dict[str, Any], email: str) -> FlaskClient:
    """A client signed in with FranceConnect as the holder of `record` (e-mail confirmed)."""
    client = app.test_client()
    account = open_account(app, record["numeroDossier"], email)
    sign_in(client, account, franceconnect=True)
    return client


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def offer_link(client: FlaskClient) -> str:
    page = client.get("/portefeuille/ajouter")
    assert page.status_code == 200
    made = client.post("/portefeuille/ajouter", data={"csrf_token": csrf(page.text)})
    assert made.status_code == 200, made.text
    match = re.search(r'id="lien-offre" href="([^"]+)"|href="([^"]+)"[^>]*id="lien-offre"',
                      made.text)
    assert match, made.text
    return (match.group(1) or match.group(2)).replace("&amp;", "&")


def tx_code(app: Flask, email: str) -> str:
    with app.app_context():
        [message] = app.extensions["outbox"].entries(recipient=email, limit=1, reveal=True)
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found, message.body
    return found.group(1)


def request_link(base_client: FlaskClient, choices: list[str]) -> tuple[str, str]:
    """(the page of the request, the openid4vp:// link it shows)."""
    made = base_client.post("/verifier/permis-numerique", data={"information": choices})
    assert made.status_code == 303, made.text
    page_url = made.headers["Location"]
    page = base_client.get(page_url)
    match = re.search(r'href="(openid4vp://[^"]+)"', page.text)
    assert match, page.text
    return page_url, match.group(1).replace("&amp;", "&")
