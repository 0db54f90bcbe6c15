"""How fast the SOAP endpoint refuses the attack corpus, and whether timing tells an unknown
file from a wrong code.

    .venv/bin/python bench/soap_attacks.py

1. Every payload of the corpus (tests/compat/attacks.py) is sent `--repeat` times through the
   application (Flask test client, temporary SQLite database); prints the median and worst
   time of each and checks the worst against the 100 ms target.
2. `--samples` requests with a wrong code, each for another existing file (with a code), and
   as many for file numbers that do not exist, interleaved: prints both medians, their
   difference (target: within 10 ms) and the p-value of a Mann-Whitney U test (target: above
   0.01, i.e. no detectable difference).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT.parent / "shared" / "contracts" / "samples" / "registry-extract.jsonl"


def mann_whitney_p(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation, ties averaged)."""
    ranked = sorted([(value, 0) for value in a] + [(value, 1) for value in b])
    ranks = [0.0] * len(ranked)
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    n1, n2 = len(a), len(b)
    rank_sum = sum(rank for rank, (_v, group) in zip(ranks, ranked, strict=True) if group == 0)
    u = rank_sum - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    sd = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    z = (u - mean) / sd
    return math.erfc(abs(z) / math.sqrt(2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--samples", type=int, default=200)
    options = parser.parse_args()

    from modern.db import db
    from modern.licences.importer import import_extract
    from modern.schema import upgrade
    from modern.settings import Settings
    from telepoints_compat.context import compat
    from tests.compat.attacks import corpus
    from wsgi import create_app

    with tempfile.TemporaryDirectory(prefix="soap-attacks-") as folder:
        os.environ["INSTANCE_PATH"] = str(Path(folder) / "instance")
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        from sqlalchemy import create_engine
        engine = create_engine(url)
        upgrade(engine)
        engine.dispose()
        import logging
        app = create_app(Settings(environment="test", database_url=url, secret_key="b" * 40,
                                  rate_limit_per_minute=10_000_000, log_level="WARNING",
                                  lockout_threshold=20))
        logging.getLogger().setLevel(logging.WARNING)
        import io
        import json

        from modern.licences.generator import generate
        records = list(generate(options.samples, seed=11))
        lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        known_files = [record["numeroDossier"] for record in records]
        with app.app_context(), SAMPLE.open("rb") as stream:
            import_extract(db.session(), stream, lambda n, r: None)
            import_extract(db.session(), io.BytesIO(lines.encode()), lambda n, r: None)
            for numero in known_files:
                compat().codes.issue(db.session(), numero, "agent")
            db.session.commit()
        client = app.test_client()
        fifo = Path(folder) / "pipe"
        os.mkfifo(fifo)
        payloads = corpus(f"file://{fifo}", "http://127.0.0.1:9/dtd")

        print(f"Attack corpus: {options.repeat} runs each (target: worst under 100 ms)")
        worst_all = 0.0
        for name, attack in payloads.items():
            times = []
            for _ in range(options.repeat):
                started = time.perf_counter()
                response = client.post("/telepoints/ws", data=attack.body,
                                       headers=attack.all_headers())
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code in (413, 500), (name, response.status_code)
            worst_all = max(worst_all, max(times))
            print(f"  {name:50s} HTTP {response.status_code}  "
                  f"median {statistics.median(times):6.2f}"
                  f" ms  worst {max(times):6.2f} ms")
        print(f"  worst of all: {worst_all:.2f} ms: "
              f"{'met' if worst_all < 100 else 'NOT met'}")

        def request(numero: str) -> float:
            body = (
                '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.'
                'xmlsoap.org/soap/envelope/" xmlns:t="urn:fr:interieur:telepoints:v1"><s:Body>'
                f"<t:ConsulterSolde><t:numeroDossier>{numero}</t:numeroDossier>"
                "<t:codeConfidentiel>WRONG23456</t:codeConfidentiel></t:ConsulterSolde>"
                "</s:Body></s:Envelope>").encode()
            started = time.perf_counter()
            client.post("/telepoints/ws", data=body, headers={"Content-Type": "text/xml"})
            return (time.perf_counter() - started) * 1000

        known: list[float] = []
        unknown: list[float] = []
        # As an enumeration would go: one wrong code per file number, on files that exist
        # (each with a code) and on numbers that do not, interleaved.
        for index, numero in enumerate(known_files):
            if index % 2:  # which goes first alternates: no order effect in the series
                known.append(request(numero))
                unknown.append(request(f"98{index:010d}"))
            else:
                unknown.append(request(f"98{index:010d}"))
                known.append(request(numero))
        difference = statistics.median(known) - statistics.median(unknown)
        p_value = mann_whitney_p(known, unknown)
        print(f"Enumeration timing: {options.samples} samples each")
        print(f"  wrong code, known file   median {statistics.median(known):6.3f} ms")
        print(f"  unknown file             median {statistics.median(unknown):6.3f} ms")
        print(f"  difference of medians    {difference:+6.3f} ms (target within 10 ms: "
              f"{'met' if abs(difference) < 10 else 'NOT met'})")
        print(f"  Mann-Whitney U p-value   {p_value:.3f} (target above 0.01: "
              f"{'met' if p_value > 0.01 else 'NOT met'})")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
