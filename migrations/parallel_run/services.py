"""The parallel run (GitHub's Scientist, Twitter's Diffy): while the legacy backend is still
there, a share (`PARALLEL_RUN_SHARE`) of the consultations answered here is asked of it too,
and the two answers are compared field by field (balance, state, probation, categories,
suspension, dates, identity), before anyone trusts this service alone.

Off the request path: the request only draws its chance and, when drawn, puts the question in
a bounded queue; worker threads ask the legacy backend and record what they find. A full
queue drops the comparison (counted `abandonne`), never the answer, and the answer the client
gets neither waits for the comparison nor changes with it. The code typed by the holder stays
in memory only, as long as the question waits in the queue. Once the cutover switch is `off`,
the legacy backend is asked nothing more, comparisons included.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from adapters.legacy_telepoints import LegacyUnavailable
from migrations.lazy import cutover
from migrations.lazy.models import MODE_OFF
from migrations.parallel_run.models import (
    DROPPED,
    MATCH,
    MISMATCH,
    UNAVAILABLE,
    ParallelRunDay,
    ParallelRunMismatch,
)
from modern.logs import mask_numero

log = logging.getLogger("telepoints.parallel_run")

# Fields that differ by nature: the moment each answer was written.
IGNORED = frozenset({"dateEdition"})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_blank_text=True)


class LegacyConsult(Protocol):
    def consult(self, operation: str, numero: str, code: str) -> bytes: ...


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def fields_of(answer: bytes) -> dict[str, str]:
    """An answer (a response element, or a whole envelope) as `path: text`; a fault as
    `{"faute": its code}`. Repeated elements are numbered in document order."""
    root = etree.fromstring(answer, parser=_PARSER)
    if _local(root) == "Envelope":
        body = next(child for child in root if _local(child) == "Body")
        root = body[0]
    if _local(root) == "Fault":
        return {"faute": "".join(root.xpath(".//*[local-name()='code']/text()")).strip()}
    found: dict[str, str] = {}

    def walk(element: etree._Element, path: str) -> None:
        children = list(element)
        if not children:
            found[path] = (element.text or "").strip()
            return
        names = Counter(_local(child) for child in children)
        seen: Counter[str] = Counter()
        for child in children:
            name = _local(child)
            if names[name] > 1:
                name, seen[name] = f"{name}[{seen[name]}]", seen[name] + 1
            walk(child, f"{path}/{name}" if path else name)

    walk(root, "")
    return {path: value for path, value in found.items()
            if path.rsplit("/", 1)[-1] not in IGNORED}


def differences(here: dict[str, str], legacy: dict[str, str]
                ) -> list[tuple[str, str | None, str | None]]:
    return [(name, here.get(name), legacy.get(name)) for name in sorted(here.keys() | legacy.keys())
            if here.get(name) != legacy.get(name)]


@dataclass(frozen=True)
class _Question:
    operation: str
    numero: str
    code: str
    answer: bytes
    at: dt.datetime


def _upsert_count(connection: Connection, day: dt.date, kind: str, result: str,
                  count: int) -> None:
    table = ParallelRunDay.__table__
    insert = (postgresql.insert(table) if connection.dialect.name == "postgresql"
              else sqlite.insert(table))
    statement = insert.values(day=day, kind=kind, result=result, count=count)
    connection.execute(statement.on_conflict_do_update(
        index_elements=[table.c.day, table.c.kind, table.c.result],
        set_={"count": table.c.count + statement.excluded.count}))


class ParallelRun:
    def __init__(self, legacy: LegacyConsult, engine: Callable[[], Engine], share: float, *,
                 queue_size: int = 1000, threads: int = 2,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 chance: Callable[[], float] = random.random) -> None:
        self.legacy, self.engine, self.share = legacy, engine, share
        self.clock, self.chance = clock, chance
        self.questions: queue.Queue[_Question] = queue.Queue(maxsize=queue_size)
        self.threads = threads
        self._started = False
        self._closed = False
        self._lock = threading.Lock()
        self._dropped: Counter[tuple[dt.date, str]] = Counter()

    def compare(self, operation: str, numero: str, code: str,
                answer: Callable[[], bytes]) -> None:
        """Called on the request path: draws the chance, and queues the question or drops
        it. Never waits, never raises."""
        if self.share <= 0 or self.chance() >= self.share:
            return
        now = self.clock()
        try:
            self.questions.put_nowait(_Question(operation, numero, code, answer(), now))
        except queue.Full:
            with self._lock:
                self._dropped[(now.date(), operation)] += 1
            return
        except Exception:  # a comparison never decides an answer
            log.exception("parallel run: question not queued")
            return
        if not self._started:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        for index in range(self.threads):
            threading.Thread(target=self._work, name=f"parallel-run-{index}",
                             daemon=True).start()

    def close(self) -> None:
        """Questions still queued are dropped, none is asked any more."""
        self._closed = True

    def _work(self) -> None:
        while True:
            question = self.questions.get()
            if self._closed:
                self.questions.task_done()
                continue
            try:
                self._ask(question)
            except Exception:
                log.exception("parallel run: comparison failed")
            finally:
                self.questions.task_done()

    def _ask(self, question: _Question) -> None:
        kind, day = question.operation, question.at.date()
        with self.engine().connect() as connection:
            if cutover.get_mode(connection) == MODE_OFF:  # the legacy backend is not asked
                return
        try:
            legacy = fields_of(self.legacy.consult(kind, question.numero, question.code))
        except (LegacyUnavailable, etree.LxmlError, StopIteration, IndexError):
            found = None
        else:
            found = differences(fields_of(question.answer), legacy)
        with self._lock:
            dropped, self._dropped = self._dropped, Counter()
        with self.engine().begin() as connection:
            for (when, what), count in dropped.items():
                _upsert_count(connection, when, what, DROPPED, count)
            if found is None:
                _upsert_count(connection, day, kind, UNAVAILABLE, 1)
                return
            _upsert_count(connection, day, kind, MISMATCH if found else MATCH, 1)
            masked = mask_numero(question.numero)
            for field, here, there in found:
                connection.execute(ParallelRunMismatch.__table__.insert().values(
                    at=question.at, kind=kind, numero=masked, field=field[:120],
                    here=None if here is None else here[:200],
                    legacy=None if there is None else there[:200]))
        if found:
            log.warning("parallel run: answers differ", extra={
                "event": "parallel_run_mismatch", "numero": masked, "operation": kind,
                "fields": [field for field, _, _ in found]})

    def drain(self) -> None:
        """Waits until every queued question is answered (tests, benchmarks)."""
        self.questions.join()


def report(session: Session, *, days: int = 14, today: dt.date | None = None,
           mismatches: int = 100) -> dict[str, Any]:
    """Counts per day, kind and result over the last `days` days, the mismatch rate, and
    the last mismatches (masked file number, field, both values)."""
    since = (today or dt.datetime.now(dt.UTC).date()) - dt.timedelta(days=days - 1)
    rows = session.execute(
        select(ParallelRunDay.day, ParallelRunDay.kind, ParallelRunDay.result,
               ParallelRunDay.count).where(ParallelRunDay.day >= since)
        .order_by(ParallelRunDay.day, ParallelRunDay.kind, ParallelRunDay.result)).all()
    totals: Counter[str] = Counter()
    for _day, _kind, result, count in rows:
        totals[result] += count
    compared = totals[MATCH] + totals[MISMATCH]
    last = session.execute(
        select(ParallelRunMismatch).where(
            ParallelRunMismatch.at >= dt.datetime.combine(since, dt.time(0), dt.UTC))
        .order_by(ParallelRunMismatch.id.desc()).limit(mismatches)).scalars().all()
    first_day = session.scalar(select(func.min(ParallelRunDay.day)))
    return {
        "days": days, "since": since.isoformat(),
        "first_day": first_day.isoformat() if first_day else None,
        "compared": compared, "matches": totals[MATCH], "mismatches": totals[MISMATCH],
        "unavailable": totals[UNAVAILABLE], "dropped": totals[DROPPED],
        "mismatch_rate": round(totals[MISMATCH] / compared, 6) if compared else None,
        "by_day": [{"day": day.isoformat(), "kind": kind, "result": result, "count": count}
                   for day, kind, result, count in rows],
        "last_mismatches": [{"at": m.at.isoformat(), "kind": m.kind, "numero": m.numero,
                             "field": m.field, "here": m.here, "legacy": m.legacy}
                            for m in last],
    }
