"""What a question names: regulation locators, our document ids and clauses, vendors."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

_CFR = re.compile(
    r"(?:45\s*C\.?\s*F\.?\s*R\.?\s*(?:Part\s*)?)?(?:§§?\s*)?\b(16[024]\.\d{3,4})((?:\s?\([a-zA-Z0-9]{1,4}\))*)"
)
_RUN = re.compile(r"[\w-]+")
_CLAUSE = re.compile(r"^\s*(?:§|section|sec\.?|clause)?\s*(\d{1,2}(?:\.\d{1,2}){0,3})\b", re.I)


@dataclass
class QueryPlan:
    question: str
    locators: list[str] = field(default_factory=list)  # "45 CFR 164.312(b)", "AI-301 §3.2"
    doc_ids: list[str] = field(default_factory=list)  # documents named outright
    vendors: list[str] = field(default_factory=list)  # vendors named (their BAAs get a boost)
    expansion: list[str] = field(default_factory=list)
    related_locators: list[str] = field(default_factory=list)  # rule paragraphs the bridge names
    bridged_words: set[str] = field(default_factory=set)  # question words the bridge understood

    @property
    def lexical_query(self) -> str:
        return " ".join([self.question, *self.expansion])


def find_cfr_locators(text: str) -> list[str]:
    out = []
    for m in _CFR.finditer(text):
        paras = re.sub(r"\s+", "", m.group(2) or "")
        loc = f"45 CFR {m.group(1)}{paras}"
        if loc not in out:
            out.append(loc)
    return out


def analyze(
    question: str,
    *,
    doc_prefixes: dict[str, str],
    vendors: dict[str, str],
    expansion: list[str],
    bridged_words: set[str] | None = None,
) -> QueryPlan:
    """``doc_prefixes``: document id (upper-case) -> its locator prefix (``AI-301`` -> ``AI-301``,
    ``BAA-ACME-SCRIBE`` -> ``Acme Scribe BAA``); ``vendors``: lower-case name or alias -> vendor."""
    related = [loc for term in expansion for loc in find_cfr_locators(term)]
    plan = QueryPlan(
        question=question,
        expansion=[t for t in expansion if not find_cfr_locators(t)],
        related_locators=list(dict.fromkeys(related)),
        bridged_words=bridged_words or set(),
    )
    plan.locators.extend(find_cfr_locators(question))
    for doc_id, section in _ids_named(question, {d: d for d in doc_prefixes}):
        if doc_id not in plan.doc_ids:
            plan.doc_ids.append(doc_id)
        if section:
            plan.locators.append(f"{doc_prefixes[doc_id]} §{section}")
    lower = question.lower()
    for alias, vendor in vendors.items():
        if (
            re.search(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", lower)
            and vendor not in plan.vendors
        ):
            plan.vendors.append(vendor)
            named = re.search(rf"{re.escape(alias)}(?:'s)?\s+(?:baa|agreement|contract)\s*", lower)
            if named:
                clause = _CLAUSE.match(question[named.end() :])
                if clause:
                    plan.locators.append(f"{vendor} BAA §{clause.group(1)}")
    return plan


def short_ids(doc_ids: Iterable[str]) -> dict[str, str]:
    """Document ids as staff shorten them, without the organisation's prefix: "VM-02" for
    "SHP-VM-02" when two or more ids start with "SHP-" (upper-case short id -> id). A short id
    that would be a bare number ("301" of "AI-301") or that two ids share is not one."""
    ids = [d.upper() for d in doc_ids]
    heads = Counter(d.split("-", 1)[0] for d in ids if d.count("-") >= 2)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for doc_id in ids:
        head, _, rest = doc_id.partition("-")
        if heads.get(head, 0) < 2 or "-" not in rest or rest in ids:
            continue
        if rest in out:
            taken.add(rest)
        out[rest] = doc_id
    return {short: doc_id for short, doc_id in out.items() if short not in taken}


def short_ids_named(question: str, shorts: dict[str, str]) -> list[tuple[str, str | None]]:
    """The documents ``question`` names by a short id, in its order, each with the clause named
    after it ("VM-02 §5.1" -> ("SHP-VM-02", "5.1"))."""
    return _ids_named(question, shorts)


def _ids_named(question: str, ids: dict[str, str]) -> list[tuple[str, str | None]]:
    """The documents named in ``question`` (``ids``: upper-case name -> document id), each with
    the clause named after it. A document is named when a whole word-or-hyphen run is its name:
    one dictionary lookup per run, however many documents there are."""
    out: list[tuple[str, str | None]] = []
    for m in _RUN.finditer(question):
        doc_id = ids.get(m.group(0).upper())
        if doc_id:
            clause = _CLAUSE.match(question[m.end() :])
            out.append((doc_id, clause.group(1) if clause else None))
    return out
