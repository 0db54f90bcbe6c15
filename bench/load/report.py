"""What the load test prints: per-route figures, outcomes, memory over time, the verdict."""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from locust.stats import RequestStats
from server import Sample
from traffic import ERRORS, OK, SERVER_ERROR, Tally


@dataclass(frozen=True)
class Growth:
    """The lowest total RSS of the first and of the last window. A leak raises the floor;
    an Argon2 hash in progress (46 MiB, given back at its end) only makes peaks."""

    first: float  # MiB
    last: float  # MiB
    first_peak: float
    last_peak: float
    window: float  # seconds

    @property
    def mib(self) -> float:
        return self.last - self.first

    @property
    def percent(self) -> float:
        return 100 * self.mib / self.first if self.first else 0.0


@dataclass(frozen=True)
class Gap:
    """The longest time without any answer, and when it began (seconds into the phase)."""

    seconds: float
    at: float


def longest_gap(answered: list[float], began: float, ended: float) -> Gap:
    """From the moments answers arrived (time.monotonic()), the phase's start and end
    included: a silence at either end counts too."""
    moments = [began, *sorted(t for t in answered if began <= t <= ended), ended]
    width, start = max((after - before, before) for before, after
                       in itertools.pairwise(moments))
    return Gap(width, start - began)


def routes(stats: RequestStats, seconds: float) -> list[str]:
    lines = [f"{'route':<42}{'requests':>9}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}"
             f"{'max':>8}  (ms){'errors':>8}"]
    entries = sorted(stats.entries.values(), key=lambda entry: -entry.num_requests)
    for entry in [*entries, stats.total]:
        name = "all routes" if entry is stats.total else entry.name
        if entry.num_requests == 0:
            continue
        lines.append(
            f"{name:<42}{entry.num_requests:>9}{entry.num_requests / seconds:>8.1f}"
            f"{entry.get_response_time_percentile(0.5):>7.0f}"
            f"{entry.get_response_time_percentile(0.95):>7.0f}"
            f"{entry.get_response_time_percentile(0.99):>7.0f}"
            f"{entry.max_response_time:>8.0f}      {entry.num_failures:>8}")
    return lines


def outcomes(tally: Tally) -> list[str]:
    by_route: dict[str, Counter[str]] = {}
    for (route, outcome), count in tally.outcomes.items():
        by_route.setdefault(route, Counter())[outcome] = count
    lines = []
    for route in sorted(by_route, key=lambda name: -sum(by_route[name].values())):
        counts = by_route[route]
        order = [OK, *sorted(outcome for outcome in counts if outcome != OK)]
        lines.append(f"  {route:<42}" + ", ".join(
            f"{outcome} {counts[outcome]}" for outcome in order if counts[outcome]))
    return lines


def totals(tally: Tally) -> Counter[str]:
    counted: Counter[str] = Counter()
    for (_route, outcome), count in tally.outcomes.items():
        counted[outcome] += count
    return counted


def memory_table(samples: list[Sample]) -> list[str]:
    """Workers by position (first, second…) so that a replaced worker shows as a new pid."""
    width = max((len(sample.workers) for sample in samples), default=0)
    head = f"{'t (s)':>7}{'master':>9}" + "".join(
        f"{f'worker {n + 1}':>11}" for n in range(width)) + f"{'total':>9}  (RSS, MiB)"
    lines = [head]
    for sample in samples:
        cells = [f"{mib:>11.1f}" for mib in sample.workers.values()]
        cells += [f"{'-':>11}"] * (width - len(cells))
        lines.append(f"{sample.seconds:>7.0f}{sample.master:>9.1f}{''.join(cells)}"
                     f"{sample.total:>9.1f}")
    return lines


def growth(samples: list[Sample], seconds: float) -> Growth:
    """The first and the last minute (a third of the run when it is under 3 minutes)."""
    window = 60.0 if seconds >= 180 else seconds / 3
    first = [s.total for s in samples if s.seconds <= window]
    last = [s.total for s in samples if s.seconds >= seconds - window]
    return Growth(min(first), min(last), max(first), max(last), window)


def cpu_percent(samples: list[Sample]) -> float:
    """CPU used by the server's processes over the measured time, in % of one core."""
    if len(samples) < 2 or samples[-1].seconds <= samples[0].seconds:
        return 0.0
    return 100 * (samples[-1].cpu - samples[0].cpu) / (samples[-1].seconds - samples[0].seconds)


def restarted_workers(samples: list[Sample]) -> set[int]:
    """Worker pids that appeared after the first sample (a worker killed and replaced)."""
    if not samples:
        return set()
    first = set(samples[0].workers)
    return {pid for sample in samples for pid in sample.workers} - first


def error_counts(tally: Tally) -> tuple[int, int]:
    """(all errors, server errors)."""
    counted = totals(tally)
    return sum(counted[name] for name in ERRORS), counted[SERVER_ERROR]


def write_csv(folder: Path, stats: RequestStats, tally: Tally, samples: list[Sample],
              seconds: float) -> None:
    """The same figures as CSV files, for a spreadsheet or a later comparison."""
    with (folder / "routes.csv").open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["route", "requests", "per_second", "p50_ms", "p95_ms", "p99_ms",
                      "max_ms", "errors"])
        for entry in [*stats.entries.values(), stats.total]:
            out.writerow([entry.name, entry.num_requests,
                          round(entry.num_requests / seconds, 2),
                          *(entry.get_response_time_percentile(p) for p in (0.5, 0.95, 0.99)),
                          round(entry.max_response_time), entry.num_failures])
    with (folder / "outcomes.csv").open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["route", "outcome", "count"])
        out.writerows([route, outcome, count]
                      for (route, outcome), count in sorted(tally.outcomes.items()))
    with (folder / "memory.csv").open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["seconds", "master_mib", "workers_mib", "total_mib", "cpu_seconds"])
        out.writerows([round(s.seconds), round(s.master, 1),
                       " ".join(f"{pid}:{mib:.1f}" for pid, mib in s.workers.items()),
                       round(s.total, 1), round(s.cpu, 2)] for s in samples)
