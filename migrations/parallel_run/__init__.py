"""Parallel run: legacy answers given here, asked again of the legacy backend and compared."""
