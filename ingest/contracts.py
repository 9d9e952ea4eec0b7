"""What a document without metadata says about itself: that it is a business associate
agreement, and who it is with.

- The kind: a title or opening that calls itself a "Business Associate Agreement" (or Addendum,
  or Contract) is a BAA wherever it was saved.
- The vendor: the party the agreement binds as the business associate, read from the title
  ("Business Associate Agreement - Parley Voice Systems LLC", "... (Quarry Analytics Corp.)",
  "... between Saguaro Community Health Plan and Ledgerline Health AI, Inc.") or the parties
  clause ("by and between A ("Covered Entity") and B ("Business Associate")"), or the definition
  that binds its role to a name ("Provider" means Juniper Outreach LLC), with its legal form
  dropped ("Parley Voice Systems").

Metadata (front matter, document properties, a sidecar) always wins over what is read here."""

from __future__ import annotations

import re

_BAA = re.compile(r"\bbusiness\s+associate\s+(?:agreement|addendum|contract)\b", re.I)
_LEGAL_FORM = re.compile(
    r"[,\s]+(?:inc|llc|l\.l\.c|corp|corporation|co|company|ltd|limited|lp|llp|plc|gmbh|pc)\.?$",
    re.I,
)
_NAME = r"([A-Z][\w&.,'’-]*(?:\s+(?:[A-Z][\w&.,'’-]*|of|and|&|the))*)"
# "Business Associate Agreement - Parley Voice Systems LLC" / "(Quarry Analytics Corp.)"
_TITLE_PARTY = re.compile(
    rf"business\s+associate\s+(?:agreement|addendum|contract)\s*(?:[-\u2013\u2014:]|with)\s*{_NAME}\s*$"
    rf"|business\s+associate\s+(?:agreement|addendum|contract)\s*\(\s*{_NAME}\s*\)",
    re.I,
)
# "between A and B" (title or first paragraph); the parenthesised roles say which is which
_BETWEEN = re.compile(
    rf"\bbetween\s+{_NAME}\s*(\([^)]*\))?,?\s+(?:an?\s+[^,]*,\s*)?and\s+{_NAME}\s*(\([^)]*\))?",
)
_VENDOR_ROLE = re.compile(
    r"business associate|vendor|provider|contractor|supplier|subcontractor|processor", re.I
)
# '"Provider" means Juniper Outreach LLC, a Nevada limited liability company'
_DEFINED = re.compile(
    r"[\"“]\s*(?i:(?:the\s+)?(?:business\s+associate|provider|vendor|contractor|supplier"
    r"|processor|service\s+provider|company))\s*[\"”]\s+(?i:means|shall\s+mean|refers\s+to)\s+"
    + _NAME
)
_ENTITY_ROLE = re.compile(r"covered entity|plan|hospital|health system|customer|client", re.I)


def looks_like_baa(text: str) -> bool:
    return bool(_BAA.search(text))


def clean_party(name: str) -> str:
    name = re.sub(r"\s+", " ", name).strip(" ,.;:'\"“”")
    name = re.sub(r"^the\s+", "", name, flags=re.I)
    while True:
        shorter = _LEGAL_FORM.sub("", name).strip(" ,")
        if shorter == name:
            return name
        name = shorter


def vendor_of(title: str, opening: str) -> str:
    """The business associate's name, from the title or the opening text ("" when unclear): a
    parties clause in the title or first 2,000 characters, else a definition of its role."""
    m = _TITLE_PARTY.search(title.strip())
    if m:
        return clean_party(m.group(1) or m.group(2) or "")
    for text in (title, opening[:2000]):
        for m in _BETWEEN.finditer(text):
            first, first_role, second, second_role = m.groups()
            if (
                first_role
                and _VENDOR_ROLE.search(first_role)
                and not _ENTITY_ROLE.search(first_role)
            ):
                return clean_party(first)
            if second_role is None or _VENDOR_ROLE.search(second_role):
                return clean_party(second)
    m = _DEFINED.search(opening)
    return clean_party(m.group(1)) if m else ""
