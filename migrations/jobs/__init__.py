"""Bulk migration jobs: an export split into chunks that any number of workers process."""
