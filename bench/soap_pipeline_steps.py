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

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telepoints_compat.soap import decoding, envelope
from telepoints_compat.soap.contract import TNS, Contract, Operation
from telepoints_compat.soap.normalise import normalise

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
        times = _steps(body, coding, operation, validator, options.number, options.repeat)
        lenient = times["inflate"] + times["decode"] + times["normalise"]
        whole = lenient + times["parse"] + times["validate"]
        print(f"{name:22s} {times['inflate']:7.2f}µ {times['decode']:7.2f}µ "
              f"{times['parse']:7.2f}µ {times['normalise']:9.2f}µ {times['validate']:8.2f}µ"
              f"  {lenient / whole:6.1%} of {whole:.1f} µs")


def _steps(body: bytes, coding: str | None, operation: Operation, validator: etree.XMLSchema,
           number: int, repeat: int) -> dict[str, float]:
    """Microseconds of each step for one request."""
    plain = decoding.inflate(body, coding)
    parsed = envelope.parse(plain, envelope.SOAP11)
    payload = copy.copy(parsed.payload)
    normalise(payload, operation)
    assert validator.validate(payload)
    copying = _best(lambda: copy.copy(parsed.payload), number, repeat)
    times = {
        "inflate": _best(lambda: decoding.inflate(body, coding), number, repeat),
        "decode": _best(lambda: decoding.to_utf8(plain, None), number, repeat),
        # envelope.parse decodes too: its own share is the difference.
        "parse": _best(lambda: envelope.parse(plain, envelope.SOAP11), number, repeat),
        # normalise rewrites in place: each call gets a fresh copy, whose cost is taken off.
        "normalise": _best(lambda: normalise(copy.copy(parsed.payload), operation), number,
                           repeat) - copying,
        "validate": _best(lambda: validator.validate(payload), number, repeat),
    }
    times["parse"] -= times["decode"]
    return {step: max(value, 0.0) for step, value in times.items()}


if __name__ == "__main__":
    main()
