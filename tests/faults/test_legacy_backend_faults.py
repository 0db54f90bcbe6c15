"""The legacy backend slow beyond the adapter's time limit (3 s), then down, during lazy
migration through the served service (gunicorn, SOAP and the legacy web form).

Either way the request is refused at once, saying the service is unavailable, and nothing is
written: no account, no code, no failure counted (the code may well be right). Even the slow
backend's late "yes" changes nothing. Once the backend is back, the first use migrates the
file, once, whatever the number of concurrent first uses; from then on the file is answered
here, the backend down or not."""

from __future__ import annotations

import concurrent.futures

import pytest
import requests
from sqlalchemy import text

from tests.faults.clients import Browser, consulter_solde
from tests.faults.conftest import LazyService, assert_exactly_migrated

pytestmark = pytest.mark.slow

UNAVAILABLE = "Le service est momentanément indisponible. Réessayez plus tard."


def written(service: LazyService, numero: str) -> tuple[int, int]:
    with service.engine.connect() as connection:
        return tuple(int(connection.scalar(text(  # type: ignore[return-value]
            f"SELECT count(*) FROM {table} WHERE numero = :numero"), {"numero": numero}) or 0)
            for table in ("migrated_account", "confidential_code"))


def test_a_slow_or_absent_legacy_backend_fails_closed(lazy_service: LazyService) -> None:
    service = lazy_service
    service.gunicorn.start()
    url = service.url
    holder, other = service.holders[:2]
    soap = requests.Session()
    form = Browser()
    token = form.form_token(url + "/telepoints")

    def refused_everywhere() -> None:
        answer = consulter_solde(soap, url, holder.numero, holder.code)
        assert (answer.fault, answer.message) == ("SERVICE_INDISPONIBLE", UNAVAILABLE), answer
        page = form.post(url + "/telepoints", data={
            "csrf": token, "numero": holder.numero, "code": holder.code})
        assert page.status_code == 503 and UNAVAILABLE in page.text
        assert written(service, holder.numero) == (0, 0)

    # Slow: the service gives up after its time limit; the backend answers later, in vain.
    service.legacy.delay = 5.0
    refused_everywhere()
    service.legacy.wait_idle(answered=2)  # both late answers were given
    assert written(service, holder.numero) == (0, 0)

    # Down: the port closed.
    service.legacy.delay = 0.0
    service.legacy.down()
    refused_everywhere()
    assert service.lock_counters() == {}  # an unanswered check counts as no failure
    assert service.legacy.failures(holder.numero) == 0

    # Back: twelve concurrent first uses of one file, one account.
    service.legacy.up()
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: consulter_solde(requests.Session(), url,
                                                          holder.numero, holder.code),
                                range(12), timeout=60))
    assert all(answer.right_for(holder) for answer in answers), answers
    # And the web form migrates another file on its first use just as well.
    page = form.post(url + "/telepoints", data={
        "csrf": token, "numero": other.numero, "code": other.code})
    assert page.status_code == 303
    assert written(service, holder.numero) == written(service, other.numero) == (1, 1)

    # Migrated: answered here, the backend down or not.
    service.legacy.down()
    assert consulter_solde(soap, url, holder.numero, holder.code).right_for(holder)
    service.legacy.up()
    assert_exactly_migrated(service, [holder, other])
