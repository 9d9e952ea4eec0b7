"""Which store keeps the audit trail: PostgreSQL when ``database.url`` is set, else the SQLite
file (``audit.path``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.audit.postgres import PostgresAuditTrail
from assistant.audit.trail import AuditTrail, Trail

if TYPE_CHECKING:
    from core.settings import Settings


def open_trail(settings: Settings) -> Trail:
    """The configured audit trail (nothing is opened until it is first used)."""
    if settings.database.url is not None:
        return PostgresAuditTrail.from_settings(settings)
    return AuditTrail.from_settings(settings)
