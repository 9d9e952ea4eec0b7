"""What a user who may not read the contracts is told when a question is about them.

The sentence is the same whatever the contracts say, and a vendor's name counts only where a
document the user may read already names it, so the note reveals nothing the user could not
read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.index.reader import Index, Scope

# A question about the contracts in general words, with or without a vendor's name.
CONTRACT_WORDS = re.compile(
    r"\b(?:baas?|business associate agreements?|contracts?|vendors?|suppliers?)\b", re.IGNORECASE
)


def note(contact: str) -> str:
    return (
        "Vendor contracts (business associate agreements) are restricted and were not "
        f"searched; for what a vendor's contract says, ask {contact}."
    )


def reads_contracts(index: Index, scope: Scope) -> bool:
    return any(
        e.document.doc_type == "baa" and scope.allows(e.document) for e in index.entries.values()
    )


def named_vendors(index: Index, scope: Scope) -> list[str]:
    """Vendors with a BAA whose names a document the scope may read also carries."""
    vendors = {e.document.vendor for e in index.entries.values() if e.document.vendor}
    rows = index.allowed_rows(scope)
    texts = [index.chunks[r].text.lower() for r in rows]
    return sorted(v for v in vendors if any(v.lower() in t for t in texts))


def asks_about_contracts(question: str, vendors: Iterable[str]) -> bool:
    if CONTRACT_WORDS.search(question):
        return True
    lowered = question.lower()
    return any(re.search(rf"\b{re.escape(v.lower())}\b", lowered) for v in vendors)
