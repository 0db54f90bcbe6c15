"""The load test's clients (Locust users) and how each answer is judged.

Four kinds of client share the service, as in production:

- legacy software (driving schools, course organisers) speaking the SOAP contract, mostly
  SOAP 1.1: consultations with valid codes, a few with wrong codes on files kept for that
  (they lock after `LOCKOUT_THRESHOLD` failures, as they should), mistyped file numbers,
  requests for a new code, the WSDL now and then;
- holders in a browser: sign-in with a local account (one in ten after a mistyped password),
  the dashboard, the JSON API, the attestation PDF, sign-out and sign-in again;
- third parties checking a document: the public JSON verification and the `/verifier` page
  (typed code or PDF upload), sometimes with a code altered in transit;
- one agent following the migration job on the admin API.

Every answer gets an outcome. The expected refusals (wrong code, locked file, refused
sign-in, altered seal, rate limit) are outcomes of their own, not errors; whatever else is
not the answer the request should get is an error, and a 5xx that is not a SOAP 1.1 fault
with a client-side code (the contract answers those with HTTP 500, WS-I BP R1126) is a
server error.
"""

from __future__ import annotations

import random
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from locust import FastHttpUser, User, between, task
from locust.contrib.fasthttp import ResponseContextManager

# -- outcomes ---------------------------------------------------------------------------------

OK = "ok"
WRONG_CODE = "wrong code"
LOCKED = "file locked"
RATE_LIMITED = "rate limited"
SIGN_IN_REFUSED = "sign-in refused"
SEAL_REFUSED = "seal refused"
SERVER_ERROR = "server error"
UNEXPECTED = "unexpected answer"
NO_ANSWER = "no answer"
ERRORS = (SERVER_ERROR, UNEXPECTED, NO_ANSWER)
SOAP_CLIENT_CODES = {"IDENTIFIANTS_INVALIDES": WRONG_CODE, "COMPTE_BLOQUE": LOCKED,
                     "TROP_DE_REQUETES": RATE_LIMITED, "CODE_EXPIRE": WRONG_CODE,
                     "REQUETE_INVALIDE": UNEXPECTED}


@dataclass
class Tally:
    """Outcomes by route, the raw HTTP 5xx by route, and the first error samples."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    http_5xx: Counter[str] = field(default_factory=Counter)
    soap11_client_faults_500: int = 0
    samples: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.outcomes.clear()
        self.http_5xx.clear()
        self.soap11_client_faults_500 = 0
        self.samples.clear()


TALLY = Tally()


@dataclass
class Fixtures:
    """What the set-up made: see prepare.py."""

    valid: list[list[str]]  # [numero, code, birth date]
    wrong: list[str]
    accounts: list[dict[str, str]]
    documents: list[str]
    pdfs: list[bytes]
    admin_token: str


FIXTURES: Fixtures | None = None


def fixtures() -> Fixtures:
    assert FIXTURES is not None, "configure the fixtures before starting the users"
    return FIXTURES


Judge = Callable[[ResponseContextManager], str]


def call(user: FastHttpUser, method: str, path: str, route: str, judge: Judge,
         expected: frozenset[str] = frozenset({OK}), **kwargs: Any) -> ResponseContextManager:
    """One request, judged: Locust counts it as a failure unless its outcome is expected."""
    with user.client.request(method, path, name=route, catch_response=True,
                             **kwargs) as response:
        status = response.status_code or 0
        outcome = judge(response) if status else NO_ANSWER
        if status >= 500 and outcome != SERVER_ERROR:
            TALLY.soap11_client_faults_500 += 1
        if status >= 500:
            TALLY.http_5xx[route] += 1
        TALLY.outcomes[route, outcome] += 1
        if outcome in expected or outcome == RATE_LIMITED:
            response.success()
        else:
            if len(TALLY.samples) < 20:
                body = (response.text or "")[:300].replace("\n", " ")
                TALLY.samples.append(f"{route}: HTTP {status}, {outcome}: {body}")
            response.failure(f"{outcome} (HTTP {status})")
    return response


def by_status(response: ResponseContextManager, ok: Callable[[ResponseContextManager], bool]
              = lambda _response: True) -> str:
    """Pages and JSON: 200 (and `ok`) is the answer, 429 a rate limit."""
    status = response.status_code
    if status >= 500:
        return SERVER_ERROR
    if status == 429:
        return RATE_LIMITED
    return OK if status == 200 and ok(response) else UNEXPECTED


# -- the legacy SOAP clients ------------------------------------------------------------------

TNS = "urn:fr:interieur:telepoints:v1"
ENVELOPES = {
    "1.1": "http://schemas.xmlsoap.org/soap/envelope/",
    "1.2": "http://www.w3.org/2003/05/soap-envelope",
}
FAULT_CODE = re.compile(rb"ErreurTelepoints>.*?code>([A-Z_]+)<", re.DOTALL)
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def soap_request(version: str, operation: str,
                 fields: dict[str, str]) -> tuple[str, dict[str, str]]:
    """(body, headers) of one call, as a client generated from the WSDL sends it."""
    inner = "".join(f"<tel:{name}>{value}</tel:{name}>" for name, value in fields.items())
    body = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap='
            f'"{ENVELOPES[version]}" xmlns:tel="{TNS}"><soap:Body><tel:{operation}>{inner}'
            f"</tel:{operation}></soap:Body></soap:Envelope>")
    action = f"{TNS}#{operation}"
    if version == "1.1":
        return body, {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    return body, {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}


def judge_soap(operation: str) -> Judge:
    answer = f"{operation}Reponse".encode()

    def judge(response: ResponseContextManager) -> str:
        content = response.content or b""
        if response.status_code == 200 and answer in content:
            return OK
        found = FAULT_CODE.search(content)
        code = found.group(1).decode() if found else ""
        if code in SOAP_CLIENT_CODES and response.status_code in (400, 500):
            return SOAP_CLIENT_CODES[code]
        return SERVER_ERROR if response.status_code >= 500 else UNEXPECTED

    return judge


def wrong_code() -> str:
    return "".join(random.choice(ALPHABET) for _ in range(10))


class LegacyClient(FastHttpUser):
    """Software built on the legacy contract, consulting for its users."""

    weight = 10
    wait_time = between(0.2, 1.0)

    def soap(self, operation: str, fields: dict[str, str], route: str,
             expected: frozenset[str]) -> None:
        version = "1.2" if random.random() < 0.2 else "1.1"
        body, headers = soap_request(version, operation, fields)
        call(self, "POST", "/telepoints/ws", route, judge_soap(operation), expected,
             data=body, headers=headers)

    @task(24)
    def balance(self) -> None:
        numero, code, _birth = random.choice(fixtures().valid)
        self.soap("ConsulterSolde", {"numeroDossier": numero, "codeConfidentiel": code},
                  "SOAP ConsulterSolde", frozenset({OK}))

    @task(8)
    def restricted_record(self) -> None:
        numero, code, _birth = random.choice(fixtures().valid)
        self.soap("ConsulterReleveRestreint", {"numeroDossier": numero,
                                               "codeConfidentiel": code},
                  "SOAP ConsulterReleveRestreint", frozenset({OK}))

    @task(5)
    def balance_wrong_code(self) -> None:
        """Wrong codes on files kept for it: refused, then locked (both expected)."""
        self.soap("ConsulterSolde", {"numeroDossier": random.choice(fixtures().wrong),
                                     "codeConfidentiel": wrong_code()},
                  "SOAP ConsulterSolde, wrong code", frozenset({WRONG_CODE, LOCKED}))

    @task(2)
    def balance_unknown_file(self) -> None:
        """A mistyped file number: the same refusal as a wrong code."""
        numero = "0" + "".join(random.choice("0123456789") for _ in range(11))
        self.soap("ConsulterSolde", {"numeroDossier": numero, "codeConfidentiel": wrong_code()},
                  "SOAP ConsulterSolde, unknown file", frozenset({WRONG_CODE, LOCKED}))

    @task(1)
    def new_code(self) -> None:
        numero, _code, birth = random.choice(fixtures().valid)
        self.soap("DemanderCodeConfidentiel", {"numeroDossier": numero, "dateNaissance": birth},
                  "SOAP DemanderCodeConfidentiel", frozenset({OK}))

    @task(1)
    def wsdl(self) -> None:
        call(self, "GET", "/telepoints/ws?wsdl", "GET /telepoints/ws?wsdl",
             lambda r: by_status(r, lambda page: b"wsdl:definitions" in (page.content or b"")))


# -- holders in a browser ---------------------------------------------------------------------

SESSION_COOKIE = "__Host-session"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Holder(FastHttpUser):
    """A holder with a local account, reading their points in a browser.

    The session cookie is `Secure` (as in production) and the test speaks plain HTTP on
    loopback, where a client's cookie jar would not send it: the cookie is kept by hand."""

    weight = 6
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        self.cookie = ""
        self.csrf = ""
        self.account = random.choice(fixtures().accounts)
        self.page("GET /", "/")
        self.sign_in(mistyped=random.random() < 0.1)

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={self.cookie}"} if self.cookie else {}

    def remember(self, response: ResponseContextManager) -> None:
        for header in response.headers.getlist("set-cookie") if response.headers else []:
            name, _, rest = header.partition("=")
            if name == SESSION_COOKIE:
                value = rest.split(";", 1)[0]
                self.cookie = "" if "Max-Age=0" in rest or not value else value
        found = CSRF.search(response.text or "") if response.status_code == 200 else None
        if found:
            self.csrf = found.group(1)

    def page(self, route: str, path: str, check: bytes = b"") -> None:
        response = call(self, "GET", path, route,
                        lambda r: by_status(r, lambda page: check in (page.content or b"")),
                        headers=self.headers(), allow_redirects=False)
        self.remember(response)

    def api(self, path: str, check: bytes = b"{") -> None:
        self.page(f"GET /api/v1{path}", f"/api/v1{path}", check)

    def sign_in(self, mistyped: bool = False) -> None:
        """The sign-in form, then its POST, after a mistyped password if `mistyped` (one
        holder in ten, at their first sign-in only: a right password does not clear a
        file's failures, only a right code does, so a holder mistyping one sign-in in ten
        would lock their file within a long run, as the lockout means to)."""
        self.page("GET /compte/connexion", "/compte/connexion", b"csrf_token")
        if mistyped:
            self.post_sign_in(self.account["password"] + "x", SIGN_IN_REFUSED)
        self.post_sign_in(self.account["password"], OK)

    def post_sign_in(self, password: str, expected: str) -> None:
        def judge(response: ResponseContextManager) -> str:
            location = response.headers.get("location", "") if response.headers else ""
            if response.status_code == 303 and str(location).endswith("/tableau-de-bord"):
                return OK
            if response.status_code == 200 and b"fr-alert--error" in (response.content or b""):
                return SIGN_IN_REFUSED
            return by_status(response, lambda _response: False)

        form = {"csrf_token": self.csrf, "email": self.account["email"], "password": password}
        response = call(self, "POST", "/compte/connexion", "POST /compte/connexion", judge,
                        frozenset({expected}), data=form,
                        headers={**self.headers(),
                                 "Content-Type": "application/x-www-form-urlencoded"},
                        allow_redirects=False)
        self.remember(response)

    @task(4)
    def dashboard(self) -> None:
        self.page("GET /tableau-de-bord", "/tableau-de-bord", b"csrf_token")

    @task(3)
    def balance(self) -> None:
        self.api("/solde", b'"solde"')

    @task(2)
    def licence(self) -> None:
        self.api("/permis", b'"etat"')

    @task(2)
    def history(self) -> None:
        self.api("/historique")

    @task(2)
    def forecast(self) -> None:
        self.api("/previsions")

    @task(1)
    def documents(self) -> None:
        self.api("/documents")

    @task(1)
    def attestation(self) -> None:
        self.api("/documents/attestation", b"%PDF")

    @task(1)
    def sign_out_and_in(self) -> None:
        """From the dashboard (its sign-out button carries this session's CSRF token)."""
        self.dashboard()

        def judge(response: ResponseContextManager) -> str:
            return OK if response.status_code == 303 else by_status(response, lambda _r: False)

        response = call(self, "POST", "/compte/deconnexion", "POST /compte/deconnexion", judge,
                        data={"csrf_token": self.csrf}, allow_redirects=False,
                        headers={**self.headers(),
                                 "Content-Type": "application/x-www-form-urlencoded"})
        self.remember(response)
        self.sign_in()


# -- third parties checking a document --------------------------------------------------------


def altered(code: str) -> str:
    """The code with one character of its message changed, as a forger would."""
    position = len(code) // 3
    replacement = "A" if code[position] != "A" else "B"
    return code[:position] + replacement + code[position + 1:]


def judge_verification(response: ResponseContextManager) -> str:
    if response.status_code != 200:
        return by_status(response)
    answer = response.json()
    if answer.get("authentique") and answer.get("valide"):
        return OK
    return SEAL_REFUSED if answer.get("authentique") is False else UNEXPECTED


def judge_verifier_page(response: ResponseContextManager) -> str:
    if response.status_code == 422:
        return SEAL_REFUSED
    return by_status(response, lambda page: "authentique" in (page.text or ""))


def multipart(name: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n").encode() \
        + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class ThirdParty(FastHttpUser):
    """An insurer, an employer or a car rental checking a driver's attestation."""

    weight = 3
    wait_time = between(1.0, 3.0)

    @task(5)
    def verify_json(self) -> None:
        call(self, "POST", "/api/v1/verifications", "POST /api/v1/verifications",
             judge_verification, json={"code": random.choice(fixtures().documents)})

    @task(1)
    def verify_json_altered(self) -> None:
        call(self, "POST", "/api/v1/verifications", "POST /api/v1/verifications, altered",
             judge_verification, frozenset({SEAL_REFUSED}),
             json={"code": altered(random.choice(fixtures().documents))})

    @task(2)
    def verify_page(self) -> None:
        call(self, "POST", "/verifier", "POST /verifier (code)", judge_verifier_page,
             data={"code": random.choice(fixtures().documents)},
             headers={"Content-Type": "application/x-www-form-urlencoded"})

    @task(1)
    def verify_upload(self) -> None:
        body, content_type = multipart("document", "attestation.pdf",
                                       random.choice(fixtures().pdfs))
        call(self, "POST", "/verifier", "POST /verifier (PDF)", judge_verifier_page,
             data=body, headers={"Content-Type": content_type})

    @task(1)
    def verifier_form(self) -> None:
        call(self, "GET", "/verifier", "GET /verifier", by_status)


# -- the agent following the migration --------------------------------------------------------


class Agent(FastHttpUser):
    """One agent on /admin/migrations: the page polls the job list every few seconds."""

    fixed_count = 1
    wait_time = between(4.0, 6.0)

    @task
    def jobs(self) -> None:
        token = fixtures().admin_token
        call(self, "GET", "/admin/api/jobs", "GET /admin/api/jobs",
             lambda r: by_status(r, lambda page: b'"items"' in (page.content or b"")),
             headers={"Authorization": f"Bearer {token}"})


USERS: list[type[User]] = [LegacyClient, Holder, ThirdParty, Agent]


def configure(data: dict[str, Any], admin_token: str) -> None:
    """The set-up's data, before the users start."""
    global FIXTURES
    FIXTURES = Fixtures(valid=data["valid"], wrong=data["wrong"], accounts=data["accounts"],
                        documents=data["documents"],
                        pdfs=[_read(path) for path in data["pdfs"]], admin_token=admin_token)


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()

