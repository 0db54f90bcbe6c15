"""What each step of reading a SOAP request costs, in process, and the share of the steps that
make the endpoint lenient (inflating, decoding, normalising) in the whole reading.

    .venv/bin/python bench/soap_pipeline_steps.py [--number 2000] [--repeat 15]

Four requests for the same `ConsulterSolde`: as zeep writes it (UTF-8), as Perl SOAP::Lite
writes it (xsi:type everywhere, unqualified fields), compressed with gzip as PHP's
`compression` option sends it, and in UTF-16. Each step is timed alone with `timeit`, the
minimum of the repeats (the least disturbed by other jobs); the XSD validation, which every
request pays anyway, is shown for scale. `bench/soap_wrk.py` measures the served throughput.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telepoints_compat.soap import decoding, envelope  # noqa: E402
from telepoints_compat.soap.contract import TNS, Contract  # noqa: E402
from telepoints_compat.soap.normalise import normalise  # noqa: E402

S11 = "http://schemas.xmlsoap.org/soap/envelope/"
ZEEP = (f'<?xml version="1.0" encoding="utf-8"?><soap-env:Envelope xmlns:soap-env="{S11}">'
        f'<soap-env:Body><ns0:ConsulterSolde xmlns:ns0="{TNS}"><ns0:numeroDossier>'
        "991091010000</ns0:numeroDossier><ns0:codeConfidentiel>ABCD2345</ns0:codeConfidentiel>"
        "</ns0:ConsulterSolde></soap-env:Body></soap-env:Envelope>")
SOAP_LITE = (
    f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{S11}" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><soap:Body>'
    f'<namesp1:ConsulterSolde xmlns:namesp1="{TNS}"><numeroDossier xsi:type="xsd:string">'
    '991091010000</numeroDossier><codeConfidentiel xsi:type="xsd:string">ABCD2345'
    "</codeConfidentiel></namesp1:ConsulterSolde></soap:Body></soap:Envelope>")


def _best(step: Callable[[], object], number: int, repeat: int) -> float:
    """Microseconds per call, the minimum over the repeats."""
    return min(timeit.repeat(step, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    options = parser.parse_args()
    contract = Contract()
    operation = contract.by_request[f"{{{TNS}}}ConsulterSolde"]
    validator = contract.validator()
    cases = {
        "zeep (UTF-8)": (ZEEP.encode(), None),
        "SOAP::Lite autotype": (SOAP_LITE.encode(), None),
        "PHP, gzip": (gzip.compress(ZEEP.encode()), "gzip"),
        "UTF-16": (ZEEP.replace('encoding="utf-8"', 'encoding="UTF-16"').encode("utf-16"),
                   None),
    }
    print(f"{'request':22s} {'inflate':>8s} {'decode':>8s} {'parse':>8s} {'normalise':>10s}"
          f" {'validate':>9s}  lenient share")
    for name, (body, coding) in cases.items():
        plain = decoding.inflate(body, coding)
        document = decoding.to_utf8(plain, None)
        parsed = envelope.parse(plain, envelope.SOAP11)

        def normalised(payload=parsed.payload) -> None:  # type: ignore[no-untyped-def]
            normalise(copy.copy(payload), operation)

        copied = _best(lambda payload=parsed.payload: copy.copy(payload),  # type: ignore[misc]
                       options.number, options.repeat)
        payload = copy.copy(parsed.payload)
        normalise(payload, operation)
        assert validator.validate(payload), name
        times = {
            "inflate": _best(lambda: decoding.inflate(body, coding), options.number,
                             options.repeat),
            "decode": _best(lambda: decoding.to_utf8(plain, None), options.number,
                            options.repeat),
            # envelope.parse decodes too: its own share is the difference.
            "parse": _best(lambda: envelope.parse(plain, envelope.SOAP11), options.number,
                           options.repeat),
            "normalise": max(_best(normalised, options.number, options.repeat) - copied, 0.0),
            "validate": _best(lambda: validator.validate(payload), options.number,
                              options.repeat),
        }
        times["parse"] = max(times["parse"] - times["decode"], 0.0)
        lenient = times["inflate"] + times["decode"] + times["normalise"]
        whole = lenient + times["parse"] + times["validate"]
        assert document  # decoded once above: the case is readable
        print(f"{name:22s} {times['inflate']:7.2f}µ {times['decode']:7.2f}µ "
              f"{times['parse']:7.2f}µ {times['normalise']:9.2f}µ {times['validate']:8.2f}µ"
              f"  {lenient / whole:6.1%} of {whole:.1f} µs")


if __name__ == "__main__":
    main()
