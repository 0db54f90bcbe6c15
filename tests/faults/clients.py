"""The clients of the fault tests, over real HTTP: one SOAP ConsulterSolde and what it
brought back, a load of them from several threads, and a browser-like session for the web
pages and the holder API."""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from lxml import etree

from tests.compat.conftest import envelope, fault_code, solde_request
from tests.faults.population import Holder

TNS = "urn:fr:interieur:telepoints:v1"
BALANCE = "11"  # every licence served is the registry sample's first one


@dataclass(frozen=True)
class Answer:
    """What one ConsulterSolde brought back: a balance, a fault's code, or no answer."""

    status: int | None  # None: no answer (connection refused, reset, cut off)
    numero: str | None = None
    solde: str | None = None
    fault: str | None = None
    message: str | None = None  # the fault's French message
    error: str | None = None
    at: float = 0.0  # when it was sent (time.monotonic)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.solde is not None

    def right_for(self, holder: Holder) -> bool:
        return self.ok and self.numero == holder.numero and self.solde == BALANCE


def consulter_solde(session: requests.Session, base: str, numero: str, code: str,
                    timeout: float = 15) -> Answer:
    at = time.monotonic()
    try:
        response = session.post(base + "/telepoints/ws",
                                data=envelope(solde_request(numero, code)),
                                headers={"Content-Type": "text/xml; charset=utf-8"},
                                timeout=timeout)
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        # Refused, reset, or cut off in the middle of the answer: no answer at all.
        return Answer(None, error=type(exc).__name__, at=at)
    try:
        root = etree.fromstring(response.content)
    except etree.XMLSyntaxError:
        return Answer(response.status_code, error=response.text[:300], at=at)
    return Answer(response.status_code, numero=root.findtext(f".//{{{TNS}}}numeroDossier"),
                  solde=root.findtext(f".//{{{TNS}}}solde"), fault=fault_code(response.content),
                  message=root.findtext(f".//{{{TNS}}}ErreurTelepoints/{{{TNS}}}message"),
                  at=at)


class Load:
    """`clients` threads sending ConsulterSolde with valid codes until stopped. About a third
    of the requests are first uses of the next fresh file of `population` (a lazy migration:
    the legacy backend asked, the account and its code written), the others read files
    answered before (the second success of a migrated code re-hashes it: a write too)."""

    def __init__(self, base: str, population: list[Holder], clients: int = 4) -> None:
        self.base = base
        self.fresh = iter(population)
        self.lock = threading.Lock()
        self.first_uses: list[Holder] = []
        self.migrated: list[Holder] = []
        self.answers: list[tuple[Holder, Answer]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(seed,), daemon=True)
                        for seed in range(clients)]

    def _next(self, rng: random.Random) -> Holder:
        with self.lock:
            if not self.migrated or rng.random() < 0.35:
                holder = next(self.fresh, None)
                if holder is not None:
                    self.first_uses.append(holder)
                    return holder
            return rng.choice(self.migrated)

    def _client(self, seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        while not self.stop.is_set():
            holder = self._next(rng)
            answer = consulter_solde(session, self.base, holder.numero, holder.code)
            with self.lock:
                self.answers.append((holder, answer))
                if answer.ok and holder not in self.migrated:
                    self.migrated.append(holder)
            if answer.status is None:
                session = requests.Session()
            elif not answer.ok:
                time.sleep(0.02)  # refused: a client that does not hammer

    def successes_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for _, answer in self.answers if answer.ok and answer.at > moment)

    def answers_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for _, answer in self.answers if answer.at > moment)

    def in_doubt(self) -> set[Holder]:
        """First uses never answered with a balance: migrated or not, nobody was told."""
        with self.lock:
            answered = {holder for holder, answer in self.answers if answer.ok}
            return {holder for holder in self.first_uses if holder not in answered}

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


_CSRF = re.compile(r'name="(?:csrf_token|csrf)"[^>]*value="([^"]+)"'
                   r'|value="([^"]+)"[^>]*name="(?:csrf_token|csrf)"')


class Browser(requests.Session):
    """A person's browser: keeps the session cookie (which outside development is `Secure`:
    kept here over the loopback's plain HTTP all the same), follows no redirect by itself."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any,  # type: ignore[override]
                **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 15)
        response = super().request(method, url, *args, **kwargs)
        for cookie in response.cookies:
            if cookie.value:
                self.cookies.set(cookie.name, cookie.value)
        return response

    def form_token(self, url: str) -> str:
        page = self.get(url)
        assert page.status_code == 200, (url, page.status_code)
        found = _CSRF.search(page.text)
        assert found, f"no CSRF token on {url}"
        return found.group(1) or found.group(2)


def heading(response: requests.Response) -> str:
    """The page's title as a person reads it (its h1) and its lead paragraph."""
    found = re.findall(r"<h1[^>]*>(.*?)</h1>|<p class=\"fr-text--lead\">(.*?)</p>"
                       r"|<div class=\"fr-alert[^\"]*\"[^>]*>\s*<p>(.*?)</p>", response.text,
                       re.S)
    return " / ".join(" ".join(part.split()) for match in found for part in match if part)
