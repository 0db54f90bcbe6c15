"""Lazy migration: a legacy client's first use of a code migrates the file on the spot."""
