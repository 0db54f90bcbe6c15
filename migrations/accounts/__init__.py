"""Migrated accounts: the one record per file number that says it now lives here."""
