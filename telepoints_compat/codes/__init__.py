"""Confidential codes: issued from a CSPRNG, kept only as keyed hashes, checked in constant
time, replaced on request. See `services.py` for the scheme and why."""
