"""End to end once: gunicorn with two workers on a loopback port, a temporary database, and a
zeep client from the shared contract over real HTTP, SOAP 1.1 and 1.2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from zeep.transports import Transport

from tests.conftest import SAMPLES, contract_file

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    if not (SAMPLES / "registry-extract.jsonl").exists():
        pytest.skip("the contracts samples are not beside the project")
    folder = tmp_path_factory.mktemp("gunicorn")
    env = {**os.environ, "INSTANCE_PATH": str(folder / "instance"), "FLASK_APP": "wsgi",
           "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite'}", "ENVIRONMENT": "test",
           "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    flask = [sys.executable, "-m", "flask"]
    for args in (["db", "upgrade"],
                 ["registry", "import", str(SAMPLES / "registry-extract.jsonl")]):
        subprocess.run(flask + args, env=env, cwd=ROOT, check=True, capture_output=True)
    issued = subprocess.run([*flask, "codes", "issue", "991091010000"], env=env, cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    code = issued.split("confidential code ")[1].split()[0]
    port = _free_port()
    errors = (folder / "gunicorn.err").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "wsgi:create_app()"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        if process.poll() is not None:
            errors.seek(0)
            pytest.fail(f"gunicorn did not start: {errors.read()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    try:
        yield base, code
    finally:
        process.terminate()
        process.wait(10)
        errors.close()


@pytest.mark.slow
@pytest.mark.parametrize("port_name", ["TelepointsSoap11Port", "TelepointsSoap12Port"])
def test_zeep_over_gunicorn(server: tuple[str, str], port_name: str) -> None:
    base, code = server
    client = zeep.Client(str(contract_file("telepoints-v1.wsdl")),
                         transport=Transport(cache=None, timeout=10))
    port = client.wsdl.services["TelepointsService"].ports[port_name]
    service = client.create_service(port.binding.name, f"{base}/telepoints/ws")
    solde = service.ConsulterSolde(numeroDossier="991091010000", codeConfidentiel=code)
    assert solde.body.solde == 11
    releve = service.ConsulterReleveRestreint(numeroDossier="991091010000",
                                              codeConfidentiel=code)
    assert releve.body.titulaire.nom == "BERNARD"
    asked = service.DemanderCodeConfidentiel(numeroDossier="991091010000",
                                             dateNaissance="1957-02-18")
    assert asked.body.demandeEnregistree is True
    with pytest.raises(zeep.exceptions.Fault):
        service.ConsulterSolde(numeroDossier="990000000000", codeConfidentiel="WRONG2345")
