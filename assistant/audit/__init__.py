"""The append-only, hash-chained audit trail of questions asked and sources cited."""

from assistant.audit.trail import (
    AuditError,
    AuditEvent,
    AuditRecord,
    AuditTrail,
    AuditTrailMissingError,
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
    "VerifyResult",
    "iso_utc",
    "parse_anchor",
]
