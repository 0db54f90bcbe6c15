"""Client census: who still calls the legacy interface, from where, and how."""
