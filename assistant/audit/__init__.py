"""The append-only, hash-chained audit trail of questions asked and sources cited."""

from assistant.audit.stores import open_trail
from assistant.audit.trail import (
    AuditError,
    AuditEvent,
    AuditRecord,
    AuditTrail,
    AuditTrailMissingError,
    Trail,
    VerifyResult,
    iso_utc,
    parse_anchor,
)

__all__ = [
    "AuditError",
    "AuditEvent",
    "AuditRecord",
    "AuditTrail",
    "AuditTrailMissingError",
    "Trail",
    "VerifyResult",
    "iso_utc",
    "open_trail",
    "parse_anchor",
]
