"""How a question names a vendor: by its name ("Acme Scribe"), by a distinctive word of its name
("the scribe vendor"), or by what it does ("the readmission-risk vendor", "the radiology AI
company"), as the opening of its BAA describes it. A vendor named either way gets its BAA boosted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from core.lexical import tokenize
from core.words import word_list

# "the <what it does> vendor": up to three words before a word for a supplier.
_DESCRIBED = re.compile(
    r"\b(?:the|our|its|their)\s+((?:[\w-]+\s+){0,2}[\w-]+)\s+"
    r"(?:vendor|vendors|company|companies|provider|providers|firm|supplier|partner|contractor)\b",
    re.IGNORECASE,
)


def _words(text: str) -> set[str]:
    """Index words (stemmed) of ``text``, leaving out the generic ones."""
    return {
        token
        for raw in re.findall(r"[\w-]+", text.lower())
        if raw not in word_list("vendor_generic")
        for token in tokenize(raw)
        if token not in word_list("vendor_generic")
    }


def name_aliases(vendors: Iterable[str]) -> dict[str, str]:
    """Lower-case name -> vendor, plus each word of a name no other vendor's name shares."""
    names = sorted(set(vendors))
    aliases = {name.lower(): name for name in names}
    owners: dict[str, set[str]] = {}
    for name in names:
        for word in re.findall(r"[a-z][a-z-]{3,}", name.lower()):
            if word not in word_list("vendor_generic"):
                owners.setdefault(word, set()).add(name)
    for word, named in sorted(owners.items()):
        if len(named) == 1:
            aliases.setdefault(word, next(iter(named)))
    return aliases


def descriptors(openings: Mapping[str, str]) -> dict[str, str]:
    """Word (as the lexical index writes it) -> vendor, from each vendor's description of itself
    (its BAA's opening): the words of one vendor's description that no other's contains."""
    words = {vendor: _words(text) for vendor, text in openings.items()}
    out: dict[str, str] = {}
    for vendor, own in sorted(words.items()):
        others = set().union(*(w for v, w in words.items() if v != vendor))
        for word in sorted(own - others):
            if len(word) > 3 and not word[0].isdigit():
                out[word] = vendor
    return out


def described_vendors(question: str, described: Mapping[str, str]) -> list[str]:
    """Vendors the question refers to by what they do ("the readmission-risk vendor")."""
    found: list[str] = []
    for m in _DESCRIBED.finditer(question):
        for word in sorted(_words(m.group(1))):
            vendor = described.get(word)
            if vendor and vendor not in found:
                found.append(vendor)
    return found


def named_outright(question: str, vendor: str) -> bool:
    """Whether the question writes the vendor's name as a name: a distinctive word of it
    capitalised ("Can Kestrel keep our faxes?"), not a common word that happens to be in it
    ("our AI scribe vendor" for Acme Scribe)."""
    for word in re.findall(r"[A-Za-z][\w-]{2,}", vendor):
        if word.lower() in word_list("vendor_generic"):
            continue
        if re.search(rf"\b{re.escape(word[0].upper() + word[1:])}\b", question):
            return True
    return False
