"""Each client stack, built from the served `?wsdl`, through the whole scenario
(scenario.py) against gunicorn (conftest.py)."""

from __future__ import annotations

import pytest

from tests.interop.conftest import Service
from tests.interop.toolchains import CLIENTS, PYTHON, has_module, program, run_scenario


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_zeep(service: Service, version: str) -> None:
    run_scenario([PYTHON, str(CLIENTS / "zeep_client.py")], service.case(), service.wsdl,
                 version)


def test_suds(service: Service) -> None:
    run_scenario([PYTHON, str(CLIENTS / "suds_client.py")], service.case(), service.wsdl, "1.1")


@pytest.mark.parametrize("compression", [None, "accept", "gzip", "deflate"])
@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_php_soapclient(service: Service, version: str, compression: str | None) -> None:
    php = program("php", "php-cli php-soap")
    has_module([php, "-r", "exit(class_exists('SoapClient') ? 0 : 1);"], "php-soap",
               "PHP's SOAP extension")
    option = [f"--compression={compression}"] if compression else []
    run_scenario([php, str(CLIENTS / "php_client.php"), *option], service.case(), service.wsdl,
                 version)
