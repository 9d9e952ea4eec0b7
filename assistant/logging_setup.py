"""Logging, configured once at the entry point; modules only call ``logging.getLogger``."""

from __future__ import annotations

import logging
import os


def configure_logging(level: str = "WARNING") -> None:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("chromadb", "httpx", "sentence_transformers", "pypdf", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
