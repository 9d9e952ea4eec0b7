"""The foundations both ``ingest`` and ``assistant`` stand on: settings, errors, documents and
their locators, the embedder, the database, and the index's storage. It imports neither."""
