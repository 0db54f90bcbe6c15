"""Coverage-guided fuzzing (libFuzzer, through atheris) of the same three readers, for long
runs; not part of the test suite (the Hypothesis properties beside it run in CI).

    .venv/bin/pip install -e '.[fuzz]'
    .venv/bin/python tests/fuzz/atheris_harness.py TARGET [CORPUS_DIR] [-max_total_time=600]

TARGET is `soap`, `export` or `registry`.

Each target starts from seeds taken from the contract's samples (written into CORPUS_DIR, a
new temporary folder by default) and checks the same properties as the Hypothesis tests: an
uncaught exception or a failed check stops the run and libFuzzer writes the input that caused
it (`crash-…`) into the current folder; replay it with the same command and that file.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

# Coverage of the project's own code (the SOAP pipeline's too); libraries are left alone.
with atheris.instrument_imports(include=["adapters", "modern", "telepoints_compat",
                                         "migrations", "wsgi"]):
    import wsgi  # noqa: F401
    from migrations.export import generator
    from migrations.export.reader import ExportFormatError, read_chunks
    from migrations.jobs.worker import stage_rows
    from modern.licences.importer import parse_lines

from tests.conftest import SAMPLES  # noqa: E402


def export_target() -> tuple[Callable[[bytes], None], list[bytes]]:
    from migrations.jobs.models import ENTRY_COLUMNS
    from tests.fuzz.test_export_reader import HEADER, KEY, _data_lines, _storable

    def check(data: bytes) -> None:
        try:
            chunks = list(read_chunks(io.BytesIO(HEADER + data), lines_per_chunk=3))
        except ExportFormatError:
            return
        rows = [row for chunk in chunks
                for row in stage_rows(1, chunk.first_line, chunk.payload, "k1", KEY)]
        assert [row[1] for row in rows] == list(range(2, len(_data_lines(data)) + 2))
        for row in rows:
            entry = dict(zip(ENTRY_COLUMNS, row, strict=True))
            assert entry["outcome"] != "REJETE" or entry["motif"]
            _storable(entry)

    seeds = [b"".join(generator.lines(20, duplicate_every=5, rejected_every=7))]
    sample = SAMPLES / "legacy-export.csv"
    if sample.exists():
        seeds.append(sample.read_bytes().split(b"\r\n", 1)[1])
    return check, seeds


def registry_target() -> tuple[Callable[[bytes], None], list[bytes]]:
    from tests.fuzz.test_registry_reader import SEEDS, _line, _servable

    def check(data: bytes) -> None:
        rejected: list[tuple[int, str]] = []
        for record in parse_lines(io.BytesIO(data), lambda n, r: rejected.append((n, r))):
            _servable(record)
        assert all(reason and "\n" not in reason for _, reason in rejected)

    return check, [_line(seed) for seed in SEEDS]


def soap_target() -> tuple[Callable[[bytes], None], list[bytes]]:
    """POSTs the input as a SOAP 1.1 body (first byte odd: as SOAP 1.2) to an application on
    a temporary SQLite database holding the registry sample and the holder's code."""
    import datetime as dt

    from lxml import etree
    from sqlalchemy import create_engine

    from modern.db import db
    from modern.licences.importer import import_extract
    from modern.schema import upgrade
    from modern.settings import Settings
    from telepoints_compat.codes import services as code_services
    from telepoints_compat.context import compat
    from tests.fuzz.soap_messages import CODE, MEDIA_TYPES, NUMERO, Request, plain
    from tests.fuzz.test_soap_pipeline import _judge
    from wsgi import create_app

    folder = tempfile.mkdtemp(prefix="fuzz-soap-")
    os.environ["INSTANCE_PATH"] = folder
    url = f"sqlite:///{folder}/fuzz.db"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(Settings(environment="test", database_url=url, secret_key="k" * 40,
                              rate_limit_per_minute=10**9))
    with app.app_context():
        compat().clock.fixed = dt.datetime(2026, 11, 26, 10, 30, tzinfo=dt.UTC)
        with (SAMPLES / "registry-extract.jsonl").open("rb") as stream:
            import_extract(db.session, stream, lambda n, r: None)
        code_services.generate_code = lambda: CODE
        compat().codes.issue(db.session, NUMERO, "agent")
        db.session.commit()
    root = etree.parse(str(ROOT / "telepoints_compat/soap/contract/telepoints-v1.wsdl"))
    schema = etree.XMLSchema(etree.ElementTree(root.find(
        "{http://schemas.xmlsoap.org/wsdl/}types/{http://www.w3.org/2001/XMLSchema}schema")))
    client = app.test_client()

    def check(data: bytes) -> None:
        version = "1.2" if data[:1] and data[0] % 2 else "1.1"
        request = Request(data[1:], {"Content-Type": MEDIA_TYPES[version]}, version, "")
        response = client.post("/telepoints/ws", data=request.body, headers=request.headers)
        assert _judge(response, request, schema) != "SERVICE_INDISPONIBLE"

    seeds = [b"\x00" + plain(operation, numeroDossier=NUMERO, codeConfidentiel=CODE).body
             for operation in ("ConsulterSolde", "ConsulterReleveRestreint")]
    seeds.append(b"\x01" + plain("DemanderCodeConfidentiel", "1.2", numeroDossier=NUMERO,
                                 dateNaissance="1957-02-18").body)
    return check, seeds


TARGETS = {"export": export_target, "registry": registry_target, "soap": soap_target}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(TARGETS)} [CORPUS_DIR] [libFuzzer options]")
    name = sys.argv[1]
    check, seeds = TARGETS[name]()
    options = [arg for arg in sys.argv[2:] if arg.startswith("-")]
    paths = [arg for arg in sys.argv[2:] if not arg.startswith("-")]
    if paths and Path(paths[0]).is_file():  # replay a crash
        atheris.Setup([sys.argv[0], *options, *paths], check)
        atheris.Fuzz()
        return
    corpus = Path(paths[0]) if paths else Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    corpus.mkdir(parents=True, exist_ok=True)
    for index, seed in enumerate(seeds):
        (corpus / f"seed-{index}").write_bytes(seed)
    print(f"corpus: {corpus}", file=sys.stderr)
    atheris.Setup([sys.argv[0], *options, str(corpus)], check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
