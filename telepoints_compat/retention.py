"""The retention rules of the compatibility layer, in the order they run."""

from __future__ import annotations

from modern.retention import Rule
from telepoints_compat.codes import retention as codes
from telepoints_compat.contacts import retention as contacts

RULES: tuple[Rule, ...] = (*codes.RULES, *contacts.RULES)
