"""Brownouts: planned short outages of the legacy interface, announced beforehand."""
