"""Wiring, in one place: ``stores`` opens the vector store and the index, ``build`` makes the
answer chain and what it ranks with (the question index, the query adapter, the trained question
encoder) from one ``Settings``. Surfaces, the service and the eval get their parts here."""
