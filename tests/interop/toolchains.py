"""Finding a client stack's toolchain, building its client program once per session, and
running it against the service.

A missing toolchain skips the test, naming the Debian package to install; under CI (the
variable CI set, as `.ci/run` does) it fails instead: there `.ci/run` installs every one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.interop.scenario import Case, differences, read_lines

CLIENTS = Path(__file__).resolve().parent / "clients"
RUN_TIMEOUT = 180  # a whole scenario, JVM and Mono start-up included


def missing(what: str, packages: str) -> None:
    message = f"needs {what} (Debian: apt-get install {packages})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: CI installs it, it must be there")
    pytest.skip(message)


def program(name: str, packages: str) -> str:
    """The path of a command of the toolchain, or a skip (a failure under CI)."""
    found = shutil.which(name)
    if found is None:
        missing(name, packages)
    assert found is not None
    return found


def has_module(command: list[str], packages: str, what: str) -> None:
    """`command` exits 0 when the language has the module (php -m, perl -M…)."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        missing(what, packages)


def build(command: list[str], cwd: Path, what: str,
          env: dict[str, str] | None = None) -> None:
    """One step of a toolchain (wsimport, javac, wsdl, mcs, wsdl2perl); its output when it
    fails."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False,
                            timeout=300, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
                    f"{result.stderr[-3000:]}")


class Builds:
    """Client programs built once per session: `get(key, make)` calls `make` with a new
    folder the first time and gives its result (the command that runs the program) after."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.done: dict[str, list[str]] = {}

    def get(self, key: str, make: Callable[[Path], list[str]]) -> list[str]:
        if key not in self.done:
            folder = self.root / key
            folder.mkdir()
            self.done[key] = make(folder)
        return self.done[key]


def run_scenario(command: list[str], case: Case, wsdl: str, version: str,
                 env: dict[str, str] | None = None) -> None:
    """Runs the client program over the scenario and asserts every step's line."""
    result = subprocess.run([*command, *case.argv(wsdl, version)], capture_output=True,
                            text=True, check=False, timeout=RUN_TIMEOUT,
                            env={**os.environ, **(env or {})})
    output = f"stdout:\n{result.stdout[-6000:]}\nstderr:\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"the client program stopped ({result.returncode})\n{output}"
    problems = differences(case, read_lines(result.stdout))
    assert not problems, "\n".join(problems) + "\n" + output


PYTHON = sys.executable
