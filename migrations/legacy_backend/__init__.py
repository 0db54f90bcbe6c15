"""A local legacy Télépoints backend: the legacy SOAP contract served from a database of
legacy accounts of its own (a separate SQLite file), for the demonstration and the tests of
lazy migration. It stands for the system being replaced and behaves as it did: it keeps the
legacy fingerprints as they are, counts failures and locks accounts. Never for production."""
