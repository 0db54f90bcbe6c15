"""A worker that has just started, whose request threads compile their first XSD validators at
the same moment (`Contract.validator`, on each thread's first SOAP message): every compilation
succeeds. libxml2 sets up its built-in XSD types when it compiles its first schema, and not
safely for threads: the app compiles the contract when it is built (`telepoints_compat.init_app`),
before any request thread exists.

The race only exists in a process that has never compiled a schema, so each attempt is a fresh
process: a parent that has imported the application (and compiled nothing) forks children that
each build the app, then release sixteen threads together, each compiling the contract's schema.
Without the compilation at start-up, 5 to 13 children in 40 failed in each of three runs (the
process then unable to compile any schema: every SOAP call a fault), none with it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CHILDREN = 40
THREADS = 16

SCRIPT = textwrap.dedent('''
    import os, signal, sys, threading
    from lxml import etree
    import wsgi
    from telepoints_compat.soap.contract import NS, WSDL_PATH

    # The contract's schema, as text (read, not compiled).
    SCHEMA = etree.tostring(etree.parse(str(WSDL_PATH)).find("wsdl:types/xs:schema", NS))

    def child():
        signal.alarm(30)  # a child that hangs counts as failed
        wsgi.create_app()
        barrier = threading.Barrier(THREADS)
        compiled = []

        def first_compilation():
            # What a request thread does first (`Contract.validator`): compile the contract's
            # schema for itself. The source is read before the threads are released, so that
            # their compilations overlap as closely as they can.
            tree = etree.ElementTree(etree.fromstring(SCHEMA))
            barrier.wait()
            try:
                etree.XMLSchema(tree)
                compiled.append(True)
            except etree.LxmlError as error:
                print(error, file=sys.stderr)
                compiled.append(False)

        threads = [threading.Thread(target=first_compilation) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        os._exit(0 if compiled == [True] * THREADS else 1)

    failed = 0
    for _ in range(CHILDREN // 2):  # two at a time
        pids = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:
                try:
                    child()
                finally:
                    os._exit(1)  # child() exits itself; this is for an exception
            pids.append(pid)
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            failed += status != 0
    print(f"{failed} of {CHILDREN} fresh workers failed")
    sys.exit(1 if failed else 0)
''')


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_request_threads_of_a_new_worker_all_compile_their_validators(
        database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "ENVIRONMENT": "test",
           "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "k" * 40,
           "LOG_LEVEL": "ERROR"}
    env.pop("REDIS_URL", None)
    script = f"CHILDREN = {CHILDREN}\nTHREADS = {THREADS}\n{SCRIPT}"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
