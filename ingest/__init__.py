"""Ingest: load sources, parse their structure, chunk with exact locators, index."""
