"""What the SOAP benchmarks share: the holder they consult and the request they send."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "contracts" / "samples" / "registry-extract.jsonl"
NUMERO = "991091010000"
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:tel="urn:fr:interieur:telepoints:v1"><soapenv:Body><tel:ConsulterSolde>'
    "<tel:numeroDossier>{numero}</tel:numeroDossier>"
    "<tel:codeConfidentiel>{code}</tel:codeConfidentiel>"
    "</tel:ConsulterSolde></soapenv:Body></soapenv:Envelope>")


def flask(args: list[str], env: dict[str, str]) -> str:
    """Runs one `flask` command of the project; exits the benchmark if it fails."""
    result = subprocess.run([sys.executable, "-m", "flask", *args], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout
