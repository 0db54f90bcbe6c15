"""The retention rules of the modern service, in the order they run."""

from __future__ import annotations

from modern import messaging, tokens
from modern.accounts import retention as accounts
from modern.alerts import retention as alerts
from modern.retention import Rule
from modern.sharing import retention as sharing
from modern.throttling import retention as throttling

RULES: tuple[Rule, ...] = (*accounts.RULES, *tokens.RETENTION_RULES, *throttling.RULES,
                           *alerts.RULES, *messaging.RETENTION_RULES, *sharing.RULES)
