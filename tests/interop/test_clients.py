"""Each client stack, built from the served `?wsdl`, through the whole scenario
(scenario.py) against gunicorn (conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.interop.conftest import Service
from tests.interop.toolchains import (
    CLIENTS,
    PYTHON,
    Builds,
    build,
    has_module,
    missing,
    program,
    run_scenario,
)


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



JAXWS = "default-jdk-headless jaxws"
JAXWS_RUNTIME = Path("/usr/share/java/jaxws-rt.jar")  # Debian's jaxws; its manifest lists the rest
# Short-lived JVMs: the quick compiler only and one GC thread start several times faster on a
# busy machine, and change nothing in what is generated or sent.
JVM_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_jaxws_wsimport(service: Service, builds: Builds, version: str) -> None:
    wsimport, javac, java = (program(name, JAXWS) for name in ("wsimport", "javac", "java"))
    if not JAXWS_RUNTIME.exists():
        missing(f"the JAX-WS runtime {JAXWS_RUNTIME}", "jaxws")

    def make(folder: Path) -> list[str]:
        classes, sources = folder / "classes", folder / "src"
        classes.mkdir()
        sources.mkdir()
        # The SOAP 1.2 port is a wsimport extension: without -extension it is left out.
        build([wsimport, *(["-extension"] if version == "1.2" else []), "-quiet", "-keep",
               "-Xnocompile", "-s", str(sources), "-d", str(classes), "-p", "interop.generated",
               service.wsdl], folder, "wsimport", env={"WSIMPORT_OPTS": " ".join(JVM_OPTIONS)})
        path = f"{classes}:{JAXWS_RUNTIME}"
        build([javac, *(f"-J{option}" for option in JVM_OPTIONS), "-nowarn", "-cp", path,
               "-d", str(classes), *map(str, sources.rglob("*.java")),
               str(CLIENTS / "JaxwsClient.java")], folder, "javac")
        return [java, *JVM_OPTIONS, "-cp", path, "JaxwsClient"]

    run_scenario(builds.get(f"jaxws-{version}", make), service.case(), service.wsdl, version)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_mono_wsdl(service: Service, builds: Builds, version: str) -> None:
    wsdl, mcs, mono = (program(name, "mono-devel") for name in ("wsdl", "mcs", "mono"))

    def make(folder: Path) -> list[str]:
        protocol = ["/protocol:SOAP12"] if version == "1.2" else []
        build([wsdl, "/nologo", *protocol, "/out:Proxy.cs", service.wsdl], folder, "wsdl")
        build([mcs, "-nologo", "-r:System.Web.Services", "-r:System.Xml", "-out:client.exe",
               str(CLIENTS / "MonoClient.cs"), "Proxy.cs"], folder, "mcs")
        return [mono, str(folder / "client.exe")]

    run_scenario(builds.get(f"mono-{version}", make), service.case(), service.wsdl, version)



def test_perl_soap_lite(service: Service) -> None:
    perl = program("perl", "perl")
    has_module([perl, "-MSOAP::Lite", "-MJSON::PP", "-e1"], "libsoap-lite-perl", "SOAP::Lite")
    run_scenario([perl, str(CLIENTS / "soap_lite_client.pl")], service.case(), service.wsdl,
                 "1.1")


def test_perl_soap_wsdl(service: Service, builds: Builds) -> None:
    perl = program("perl", "perl")
    wsdl2perl = program("wsdl2perl", "libsoap-wsdl-perl")
    has_module([perl, "-MSOAP::WSDL", "-MJSON::PP", "-e1"], "libsoap-wsdl-perl", "SOAP::WSDL")

    def make(folder: Path) -> list[str]:
        build([wsdl2perl, "-b", "lib", f"-mi={CLIENTS / 'soap_wsdl_typemap.pl'}", service.wsdl],
              folder, "wsdl2perl")
        return [perl, f"-I{folder / 'lib'}", f"-I{CLIENTS / 'perl'}",
                str(CLIENTS / "soap_wsdl_client.pl")]

    run_scenario(builds.get("soap-wsdl", make), service.case(), service.wsdl, "1.1")
