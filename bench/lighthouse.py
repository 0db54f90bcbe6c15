"""Lighthouse scores of the pages people open first, on the service as `bin/demo` serves it.

    .venv/bin/python bench/lighthouse.py [--runs 3] [--pages / /telepoints /verifier]

Prerequisites: Node.js with npm (Lighthouse 12.2.3, the last major that runs on Node 20, is
installed into bench/lighthouse/ on first use) and Chromium at /usr/bin/chromium (or
CHROME_PATH). A temporary instance gets the demo data and is served by gunicorn on a free
loopback port; the dashboard is opened by a demo holder whose account was opened with the
Télépoints code an agent issued (the cookie is handed to Lighthouse). Each page is audited
`--runs` times with Lighthouse's mobile profile and simulated throttling (its default); the
median score of each category is printed with the page's transferred bytes. Targets: performance,
accessibility and best practices at 0.95 or more, the home page under 300 KB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "bench" / "lighthouse"
LIGHTHOUSE = TOOL / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")
DASHBOARD = "/tableau-de-bord"


def _install() -> None:
    if not LIGHTHOUSE.exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts",
                        "--silent"], cwd=TOOL, check=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(instance: Path) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn on the demo data of a fresh instance; returns it and its address."""
    env = {**os.environ, "INSTANCE_PATH": str(instance), "FLASK_APP": "wsgi",
           "LOG_LEVEL": "WARNING"}
    flask = str(ROOT / ".venv" / "bin" / "flask")
    subprocess.run([flask, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    subprocess.run([flask, "demo", "seed"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env["PUBLIC_URL"] = base
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "wsgi:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                return server, base
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("the service did not start")


def _holder_cookie(instance: Path, base: str) -> str | None:
    """A signed-in session of a demo holder whose account proved possession of the file (a
    sign-up with the Télépoints code an agent issued), as the browser's Cookie header: the
    dashboard then shows the points, history and forecast."""
    env = {**os.environ, "INSTANCE_PATH": str(instance), "FLASK_APP": "wsgi"}
    flask = str(ROOT / ".venv" / "bin" / "flask")
    numero = "750100000041"
    issued = subprocess.run([flask, "codes", "issue", numero], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=True)
    code = issued.stdout.split("confidential code ")[1].split()[0]
    email, password = "lighthouse@example.org", "Un mot de passe assez long 2026"
    browser = requests.Session()

    def post(path: str, **fields: str) -> requests.Response:
        page = browser.get(f"{base}{path}").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        return browser.post(f"{base}{path}", data={
            "csrf_token": token.group(1) if token else "", **fields})

    post("/compte/creer", numero=numero, preuve="code", code=code, email=email,
         password=password, cgu="y")
    outbox = subprocess.run([flask, "messages", "list", "--reveal"], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    link = re.search(r"/compte/confirmation/[\w.\-]+", outbox)
    if link is None:
        return None
    post(link.group(0))
    post("/compte/connexion", email=email, password=password)
    if browser.get(f"{base}{DASHBOARD}", allow_redirects=False).status_code != 200:
        return None
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def _audit(url: str, cookie: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as folder:
        output = Path(folder) / "report.json"
        command = [str(LIGHTHOUSE), url, "--quiet", "--output=json",
                   f"--output-path={output}",
                   f"--only-categories={','.join(CATEGORIES)}",
                   "--chrome-flags=--headless=new --no-sandbox --disable-gpu "
                   "--disable-background-networking --disable-component-update"]
        if cookie:
            command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
        env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
        subprocess.run(command, env=env, check=True, capture_output=True)
        report: dict[str, Any] = json.loads(output.read_text())
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", nargs="*",
                        default=["/", DASHBOARD, "/telepoints", "/verifier"])
    options = parser.parse_args()
    if not shutil.which("npm"):
        raise SystemExit("npm is missing: install Node.js with npm")
    _install()
    with tempfile.TemporaryDirectory(prefix="lighthouse-instance-") as folder:
        server, base = _serve(Path(folder))
        try:
            cookie = _holder_cookie(Path(folder), base) if DASHBOARD in options.pages \
                else None
            print(f"{'page':20s} " + " ".join(f"{name:>14s}" for name in CATEGORIES)
                  + "   transferred")
            for page in options.pages:
                if page == DASHBOARD and cookie is None:
                    print(f"{page:20s} (no signed-in session could be opened)")
                    continue
                reports = [_audit(base + page, cookie if page == DASHBOARD else None)
                           for _ in range(options.runs)]
                scores = [statistics.median(report["categories"][name]["score"]
                                            for report in reports) for name in CATEGORIES]
                weight = statistics.median(
                    report["audits"]["total-byte-weight"]["numericValue"] for report in reports)
                met = all(score >= 0.95 for score in scores) and (
                    page != "/" or weight < 300_000)
                print(f"{page:20s} " + " ".join(f"{score:14.2f}" for score in scores)
                      + f"   {weight / 1024:7.0f} KB  {'met' if met else 'NOT met'}")
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
