"""The retention rules of the migration package, in the order they run."""

from __future__ import annotations

from migrations.accounts import retention as accounts
from migrations.admin import retention as admin
from migrations.census import retention as census
from migrations.jobs import retention as jobs
from migrations.lazy import retention as lazy
from migrations.parallel_run import retention as parallel_run
from modern.retention import Rule

RULES: tuple[Rule, ...] = (*jobs.RULES, *accounts.RULES, *lazy.RULES, *parallel_run.RULES,
                           *census.RULES, *admin.RULES)
