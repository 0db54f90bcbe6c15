"""How long the fuzzers run.

In CI each property runs a fixed number of examples, chosen so that the whole directory takes
well under a minute per pass, and the examples are derived from the test's name
(`derandomize`): a failure in CI replays identically on any machine. `FUZZ_EXAMPLES=N` runs
every property N times with fresh random examples instead, for long local runs; failures are
then kept in Hypothesis's example database (`.hypothesis/`) and replayed first next time.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_LONG = os.environ.get("FUZZ_EXAMPLES", "").strip()
# Fixtures (an application, its database) are built once per test and shared by its
# examples on purpose: each example checks what it changed itself.
_TOLERATED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
              HealthCheck.data_too_large, HealthCheck.large_base_example]

settings.register_profile("fuzz-ci", deadline=None, derandomize=True, database=None,
                          suppress_health_check=_TOLERATED, print_blob=True)
settings.register_profile("fuzz-long", deadline=None, derandomize=False,
                          suppress_health_check=_TOLERATED, print_blob=True)


def fuzz(ci_examples: int) -> settings:
    """The settings of one property: `ci_examples` examples in CI, FUZZ_EXAMPLES if set."""
    if _LONG:
        return settings(settings.get_profile("fuzz-long"), max_examples=int(_LONG))
    return settings(settings.get_profile("fuzz-ci"), max_examples=ci_examples)
