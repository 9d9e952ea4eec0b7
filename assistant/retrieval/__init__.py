"""Retrieval: query analysis (vocabulary bridge, locator lookup) and hybrid ranking."""
