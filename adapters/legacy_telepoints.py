"""The legacy Télépoints backend, asked over its own SOAP contract with zeep.

One question matters to the migration: does this code open this file there? It is asked with
`ConsulterSolde`, whose success proves the code and whose faults carry the contract's error
codes. The call has a hard time limit (3 s by default: a legacy request must not hang a
worker), enforced twice: the socket timeouts of the HTTP transport, and a deadline on the call
itself, run in a small bounded pool so that a backend dripping bytes cannot hold the caller.
Anything but a clear answer (timeout, connection error, SOAP or HTTP error, unexpected fault)
raises `LegacyUnavailable`: the caller refuses the request (fails closed).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import enum
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

TNS = "urn:fr:interieur:telepoints:v1"
BINDING = f"{{{TNS}}}TelepointsSoap11"
DEFAULT_TIMEOUT = 3.0


class LegacyAnswer(enum.Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # IDENTIFIANTS_INVALIDES: unknown file or wrong code
    LOCKED = "locked"  # COMPTE_BLOQUE
    EXPIRED = "expired"  # CODE_EXPIRE


@dataclass(frozen=True)
class LegacyCheck:
    answer: LegacyAnswer
    locked_until: dt.datetime | None = None


class LegacyUnavailable(RuntimeError):
    """No usable answer from the legacy backend."""


class LegacyTelepoints(Protocol):
    def check_code(self, numero: str, code: str) -> LegacyCheck:
        """Raises LegacyUnavailable when the backend cannot say."""


class ZeepLegacyTelepoints:
    """The legacy backend at `address`, described by the contract's WSDL (a local file: the
    WSDL is never fetched from the network)."""

    def __init__(self, wsdl: Path, address: str, *, timeout: float = DEFAULT_TIMEOUT,
                 max_concurrent: int = 32) -> None:
        self.timeout = timeout
        session = requests.Session()
        session.trust_env = False  # no proxy from the environment between us and the backend
        transport = Transport(session=session, timeout=timeout, operation_timeout=timeout)
        settings = zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True,
                                 forbid_entities=True, forbid_external=True)
        self._client = zeep.Client(str(wsdl), transport=transport, settings=settings)
        self._service = self._client.create_service(BINDING, address)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_concurrent, thread_name_prefix="legacy-telepoints")
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def check_code(self, numero: str, code: str) -> LegacyCheck:
        if not self._slots.acquire(blocking=False):
            raise LegacyUnavailable("too many legacy calls in flight")
        try:
            future = self._pool.submit(self._ask, numero, code)
        except RuntimeError as exc:  # pool shut down
            self._slots.release()
            raise LegacyUnavailable("legacy client closed") from exc
        future.add_done_callback(lambda _f: self._slots.release())
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError as exc:
            raise LegacyUnavailable(f"no answer within {self.timeout:g} s") from exc

    def _ask(self, numero: str, code: str) -> LegacyCheck:
        try:
            self._service.ConsulterSolde(numeroDossier=numero, codeConfidentiel=code)
        except zeep.exceptions.Fault as fault:
            return _from_fault(fault)
        except (requests.RequestException, zeep.exceptions.Error, etree.LxmlError,
                OSError) as exc:
            raise LegacyUnavailable(type(exc).__name__) from exc
        return LegacyCheck(LegacyAnswer.ACCEPTED)

    def consult(self, operation: str, numero: str, code: str) -> bytes:
        """The legacy backend's whole answer (its SOAP envelope, a fault's too) to a
        consultation (`ConsulterSolde`, `ConsulterReleveRestreint`), for the parallel run.
        Off the request path, so no deadline but the transport's; raises LegacyUnavailable.
        (zeep's raw mode is a setting of the client: use an instance for this alone.)"""
        try:
            with self._client.settings(raw_response=True):
                response = self._service[operation](numeroDossier=numero, codeConfidentiel=code)
        except (requests.RequestException, zeep.exceptions.Error, OSError) as exc:
            raise LegacyUnavailable(type(exc).__name__) from exc
        if response.status_code not in (200, 500) or not response.content:
            raise LegacyUnavailable(f"HTTP {response.status_code}")
        return bytes(response.content)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


_ANSWERS = {"IDENTIFIANTS_INVALIDES": LegacyAnswer.REFUSED,
            "COMPTE_BLOQUE": LegacyAnswer.LOCKED,
            "CODE_EXPIRE": LegacyAnswer.EXPIRED}


def _from_fault(fault: zeep.exceptions.Fault) -> LegacyCheck:
    detail = fault.detail
    code = until = None
    if detail is not None:
        code = detail.findtext(f".//{{{TNS}}}code")
        until = detail.findtext(f".//{{{TNS}}}dateDeblocage")
    answer = _ANSWERS.get((code or "").strip())
    if answer is None:  # SERVICE_INDISPONIBLE, TROP_DE_REQUETES, anything unexpected
        raise LegacyUnavailable(f"legacy fault {code or 'without detail'}")
    locked_until = None
    if answer is LegacyAnswer.LOCKED and until:
        try:
            locked_until = dt.datetime.fromisoformat(until.strip().replace("Z", "+00:00"))
        except ValueError:
            locked_until = None
        if locked_until is not None and locked_until.tzinfo is None:
            locked_until = locked_until.replace(tzinfo=dt.UTC)
    return LegacyCheck(answer, locked_until)
