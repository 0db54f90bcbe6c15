"""Redis (a private redis-server, tests/faults/servers.py) frozen, then stopped, under the
served service (gunicorn, REDIS_URL set: the rate limits, the lockout and the web sessions
live in Redis).

While it does not answer, every attempt to prove a secret is refused, saying the service is
unavailable: SOAP with a wrong code and with the right one, the legacy web form, the
e-mail and password sign-in. Nothing falls back to empty counters (which would unlock every
locked file) and no code or password is checked uncounted. Once Redis is back, with its data,
the counts are exactly those of the attempts that were judged: the lockout reached during
the outage's aftermath is the one the attempts before it prepared."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from tests.faults.clients import Answer, Browser, consulter_solde
from tests.faults.conftest import PASSWORD, LazyService
from tests.faults.servers import PrivateRedis, wait_until

pytestmark = pytest.mark.slow

EMAIL = "titulaire@exemple.fr"
WRONG_CODE = "AAAAAAAA"
WRONG_PASSWORD = "pas le bon mot de passe du tout"


def test_redis_down_refuses_every_attempt_and_loses_no_count(
        make_lazy_service: Callable[..., LazyService], redis_server: PrivateRedis) -> None:
    service = make_lazy_service(redis=redis_server)
    soap_holder, web_holder, witness = service.holders[:3]
    service.add_account(web_holder.numero, EMAIL)
    service.gunicorn.start()
    url = service.url
    soap = requests.Session()

    def solde(code: str, holder: object = soap_holder) -> Answer:
        return consulter_solde(soap, url, holder.numero, code)  # type: ignore[attr-defined]

    def sign_in(browser: Browser, token: str, password: str) -> requests.Response:
        return browser.post(url + "/compte/connexion", data={
            "csrf_token": token, "email": EMAIL, "password": password})

    def legacy_form(browser: Browser, token: str, code: str) -> requests.Response:
        return browser.post(url + "/telepoints", data={
            "csrf": token, "numero": soap_holder.numero, "code": code})

    # Redis up: the file is migrated on first use, then two wrong codes and one wrong
    # password are judged and counted.
    assert solde(soap_holder.code).ok
    assert [solde(WRONG_CODE).fault for _ in range(2)] == ["IDENTIFIANTS_INVALIDES"] * 2
    person = Browser()
    token = person.form_token(url + "/compte/connexion")
    refused = sign_in(person, token, WRONG_PASSWORD)
    assert refused.status_code == 200 and "incorrect" in refused.text
    fail_soap, fail_web = (f"lock:fail:{soap_holder.numero}", f"lock:fail:{web_holder.numero}")
    counts = {fail_soap: 2, fail_web: 1}
    assert service.lock_counters() == counts
    legacy_user = Browser()
    legacy_token = legacy_user.form_token(url + "/telepoints")

    def everything_refused() -> None:
        for code in (WRONG_CODE, soap_holder.code):
            answer = solde(code)
            assert (answer.fault, answer.message) == (
                "SERVICE_INDISPONIBLE",
                "Le service est momentanément indisponible. Réessayez plus tard."), answer
        for password in (WRONG_PASSWORD, PASSWORD):
            page = sign_in(person, token, password)
            assert page.status_code == 503 and "indisponible" in page.text, page.status_code
        for code in (WRONG_CODE, soap_holder.code):
            page = legacy_form(legacy_user, legacy_token, code)
            assert page.status_code == 503 and "indisponible" in page.text, page.status_code

    # Frozen (the process stopped, its connections open: every call times out), then stopped.
    redis_server.freeze()
    try:
        everything_refused()
    finally:
        redis_server.thaw()
    assert service.lock_counters() == counts
    redis_server.stop()
    everything_refused()
    redis_server.start()
    assert service.lock_counters() == counts  # nothing counted while down, nothing lost

    # Back: the service answers again (the workers' connections to Redis renew themselves),
    # and three more wrong codes make five: the file is locked, the right code included.
    wait_until(lambda: solde(witness.code, witness).ok, 30, "an answer once Redis is back")
    answers = [solde(WRONG_CODE).fault for _ in range(3)] + [solde(soap_holder.code).fault]
    assert answers == ["IDENTIFIANTS_INVALIDES"] * 2 + ["COMPTE_BLOQUE"] * 2
    counters = service.lock_counters()
    assert counters[fail_soap] == 5 and f"lock:until:{soap_holder.numero}" in counters
    # The right password, at last, signs in; its file's count stays (only a right
    # confidential code clears it).
    assert sign_in(person, token, PASSWORD).status_code == 303
    assert service.lock_counters()[fail_web] == 1
