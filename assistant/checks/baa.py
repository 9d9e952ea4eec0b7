"""Each BAA checked against each requirement: a status, the clause that settles it, quoted.

Statuses: ``present``; ``missing`` (no clause addresses it); ``weaker`` (a clause falls short and
no approved exception covers it, with the figures); ``exception`` (it falls short within an
approved exception, cited); ``contradicts`` (the contract permits what the requirement forbids);
``needs review`` (the checker cannot read the answer from the text, with the reason: never a
guess). Deterministic: regular expressions from the catalogs and the figures in the clauses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.checks.catalog import ApprovedException, Requirement
from assistant.checks.clauses import Sentence
from assistant.checks.figures import (
    DEADLINE_CUE,
    NOTICE_CUE,
    Duration,
    amounts,
    countries,
    cued,
    durations,
)

Status = Literal["present", "missing", "weaker", "exception", "contradicts", "needs review"]
STATUSES: tuple[Status, ...] = (
    "present", "missing", "weaker", "exception", "contradicts", "needs review",
)  # fmt: skip

_CITE = re.compile(r"\b16[04]\s*\.\s*\d{3}(?:\s*\([A-Za-z0-9]{1,5}\))*")
_OBLIGATION = re.compile(r"\b(?:shall|must|will|agrees?|undertakes?|is required)\b", re.IGNORECASE)
_NEGATION = re.compile(
    r"\b(?:shall|will|may|must|does|do|can|could|would)\s+not\b(?!\s+(?:need|have to|be required))"
    r"|\b(?:won't|can't)\b|\bcannot\b|\bnever\b"
    r"|\bprohibit\w*|\bnot (?:be )?(?:permitted|allowed|authori[sz]ed)\b"
    r"|\bno (?:right|licen[cs]e)\b|\bnor\b|\brefrain\w*",
    re.IGNORECASE,
)
# A permission to do something with data: "may" (or "is permitted to") before a verb of handling
# data; "may contain", "may be affected" say what is possible, not what is allowed.
_DATA_VERBS = (
    r"(?:use|uses|disclose|share|sell|license|train|fine-tune|tune|improve|develop|build|create"
    r"|de-identify|deidentify|anonymi[sz]e|aggregate|combine|retain|keep|store|process|host"
    r"|transfer|access|analy[sz]e|benchmark|evaluate|validate|commerciali[sz]e|derive|employ"
    r"|engage|perform|provide|make)"
)
_PERMISSION = re.compile(
    rf"\bmay\s+(?:also\s+|freely\s+|thereafter\s+)?{_DATA_VERBS}\b"
    r"|\bmay be (?:used|disclosed|shared|sold|processed|stored|accessed|retained|transferred"
    r"|de-identified|aggregated|combined)\b"
    rf"|\b(?:is|are) (?:permitted|allowed|entitled|authori[sz]ed) to\b"
    r"|\bhas the right to\b|\bgrants?\b.{0,60}\b(?:right|licen[cs]e)\b"
    r"|\b(?:authori[sz]es?|permits?|allows?)\s+(?:[A-Z][\w-]*\s+){1,3}to\b",
    re.IGNORECASE,
)
# A permission confined to a purpose: "may de-identify PHI only to prepare reports for the Plan".
_LIMITED = re.compile(
    rf"\bmay\s+(?:\w+\s+){{0,2}}?{_DATA_VERBS}\b.{{0,120}}?\b(?:only|solely|exclusively)\b"
    rf"|\bmay\s+only\s+{_DATA_VERBS}\b",
    re.IGNORECASE,
)
_RESTRICTS = re.compile(
    r"\b(?:only|solely|exclusively|within|inside)\b"
    r"|\b(?:not|never|no|block\w*|prevent\w*|prohibit\w*)\b.{0,80}\boutside\b",
    re.IGNORECASE,
)
# Words that keep PHI in, whatever else the sentence names ("block access from outside").
_BARRED = re.compile(
    r"\b(?:not|no|never|prohibit\w*|block\w*|prevent\w*|restrict\w*|bar\w*|forbid\w*)\b",
    re.IGNORECASE,
)
_OFFSHORE = re.compile(
    r"\boffshore\b|\boutside (?:of )?the (?:united states|u\.s\.)", re.IGNORECASE
)
_VAGUE_TIME = re.compile(
    r"\b(?:promptly|without (?:unreasonable )?delay|as soon as (?:reasonably )?practicable"
    r"|immediately|reasonable (?:time|period))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Contract:
    """One BAA as the checker reads it."""

    doc_id: str
    vendor: str
    title: str
    sentences: tuple[Sentence, ...]
    covered_entity: tuple[str, ...] = ()  # what the contract calls the organisation ("Lakemont")


@dataclass(frozen=True)
class Row:
    """One requirement checked in one contract."""

    vendor: str
    doc_id: str
    requirement: Requirement
    status: Status
    locators: tuple[str, ...] = ()
    quote: str = ""
    page: int | None = None
    figure: str = ""
    note: str = ""
    exception: str = ""  # the register entry's citation, for ``exception``
    chunk_ids: tuple[str, ...] = ()  # the passages quoted

    def to_json(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "document": self.doc_id,
            "requirement": {
                "id": self.requirement.id,
                "citation": self.requirement.citation,
                "text": self.requirement.text,
            },
            "status": self.status,
            "locators": list(self.locators),
            "page": self.page,
            "quote": self.quote,
            "figure": self.figure,
            "note": self.note,
            "exception": self.exception,
            "chunk_ids": list(self.chunk_ids),
        }


@dataclass
class _Finding:
    status: Status
    evidence: list[Sentence] = field(default_factory=list)
    figure: str = ""
    note: str = ""
    exception: str = ""


def _cited(sentence: Sentence, cites: Sequence[str]) -> bool:
    if not cites:
        return False
    found = {re.sub(r"\s+", "", m.group(0)) for m in _CITE.finditer(sentence.text)}
    return any(f == c or f.startswith(c + "(") for f in found for c in cites)


def _own_score(req: Requirement, s: Sentence) -> int:
    """How many of the topic's patterns the sentence matches by itself (without its title)."""
    return sum(1 for p in req.topic if p.search(s.text))


def _on_topic(req: Requirement, s: Sentence) -> bool:
    if req.not_topic is not None and req.not_topic.search(s.text):
        return False
    if not req.topic or _own_score(req, s) == 0:
        return False
    return all(p.search(s.context) for p in req.topic)


def _in_topic_clause(req: Requirement, s: Sentence) -> bool:
    """Whether the clause's title is about the requirement ("4.03 Security Incidents")."""
    title = s.text if s.is_title else s.title
    return bool(req.topic) and bool(title) and bool(req.topic[0].search(title))


def _ranked(req: Requirement, hits: Iterable[Sentence]) -> list[Sentence]:
    """Best evidence first: a sentence matching the topic by itself, in a clause titled for it,
    an obligation, not a title."""
    return sorted(
        hits,
        key=lambda s: (
            -_own_score(req, s),
            not _in_topic_clause(req, s),
            s.is_title,
            not _OBLIGATION.search(s.text),
            s.order,
        ),
    )


def _waiver(
    waivers: Sequence[ApprovedException], req: Requirement, vendor: str
) -> ApprovedException | None:
    return next((w for w in waivers if w.term == req.id and w.covers(vendor)), None)


def _short_of(
    req: Requirement, vendor: str, waivers: Sequence[ApprovedException], finding: _Finding,
    within: bool, what: str,
) -> _Finding:  # fmt: skip
    """``finding`` as ``weaker``, or ``exception`` when an approved exception covers it."""
    waiver = _waiver(waivers, req, vendor)
    if waiver is not None and within:
        finding.status = "exception"
        finding.exception = waiver.citation
        finding.note = f"{what}; approved exception ({waiver.citation}): {waiver.text}".rstrip(": ")
    else:
        finding.status = "weaker"
        beyond = f"; beyond the approved exception ({waiver.citation})" if waiver else ""
        finding.note = f"{what}{beyond}"
    return finding


def _lacks(req: Requirement, sents: Sequence[Sentence], evidence: Sentence) -> str:
    """What the term also asks of the clause that ``evidence`` is in, and the clause does not
    give ('' when nothing is asked or it is given)."""
    if req.also is None:
        return ""
    clause = [s for s in sents if s.locator == evidence.locator or s is evidence]
    if any(req.also.search(s.context) for s in clause):
        return ""
    return f"the clause does not give {req.also_says}"


def _presence(req: Requirement, sents: Sequence[Sentence]) -> _Finding:
    cited = [s for s in sents if _cited(s, req.cites)]
    on_topic = _ranked(req, (s for s in sents if _on_topic(req, s)))
    if cited:
        return _Finding("present", [cited[0]], note=f"cites {req.citation}")
    if on_topic:
        lacking = _lacks(req, sents, on_topic[0])
        return _Finding("weaker" if lacking else "present", [on_topic[0]], note=lacking)
    partial = req.partial
    if partial is not None:
        near = [s for s in sents if partial.search(s.text)]
        if near:
            return _Finding("weaker", near[:1], note=f"offers only {req.partial_says}")
    return _Finding("missing", note="no clause addresses it")


def _time_limit(
    req: Requirement, sents: Sequence[Sentence], vendor: str, waivers: Sequence[ApprovedException]
) -> _Finding:
    assert req.limit is not None
    hits = _ranked(req, (s for s in sents if _on_topic(req, s)))
    if not hits:
        return _Finding("missing", note="no clause addresses it")
    cue = NOTICE_CUE if req.check == "notice" else DEADLINE_CUE
    with_figure = [(s, cued(durations(s.text), s.text, cue)) for s in hits]
    # in a clause titled for the requirement first, then figures that words mark as a limit
    with_figure.sort(
        key=lambda pair: (not _in_topic_clause(req, pair[0]), not (pair[1] and pair[1][0][2]))
    )
    best = next(((s, found[0][0]) for s, found in with_figure if found), None)
    if best is None:
        # the figure may be in the next sentence of the same clause ("... without prior written
        # approval. Tessellate shall request approval at least 30 days before ...")
        for hit in hits:
            mates = [s for s in sents if s.locator == hit.locator and s.order > hit.order]
            found = next(
                ((s, f[0][0]) for s in mates if (f := cued(durations(s.text), s.text, cue))),
                None,
            )
            if found:
                best = found
                break
    if best is None:
        vague = next((s for s in hits if _VAGUE_TIME.search(s.text)), hits[0])
        words = _VAGUE_TIME.search(vague.text)
        said = f" (it says '{words.group(0)}')" if words else ""
        note = f"the clause sets no time limit the checker can read{said}"
        return _Finding("needs review", [vague], note=note)
    sentence, figure = best
    limit = req.limit
    if req.check == "deadline":
        ok = figure.within(limit)
        what = f"{figure} vs {limit} required"
    else:
        ok = figure.at_least(limit)
        what = f"{figure} of notice vs at least {limit} required"
    finding = _Finding("present", [sentence], figure=str(figure))
    lacking = _lacks(req, sents, sentence) if ok else ""
    if ok and not lacking:
        finding.note = what
        return finding
    if lacking:
        what = f"{what}, but {lacking}"
        return _short_of(
            req, vendor, waivers, finding, _waiver(waivers, req, vendor) is not None, what
        )
    waiver = _waiver(waivers, req, vendor)
    allowed: Duration | None = waiver.allows_duration if waiver else None
    if allowed is None:
        covered = waiver is not None
    elif req.check == "deadline":
        covered = figure.within(allowed)
    else:
        covered = figure.at_least(allowed)
    return _short_of(req, vendor, waivers, finding, covered, what)


def _granted_to_organisation(sentence: Sentence, names: Sequence[str]) -> bool:
    """Whether the permission in ``sentence`` is the organisation's own ("Lakemont may share
    de-identified examples"), not the vendor's."""
    m = _PERMISSION.search(sentence.text)
    if m is None or not names or re.match(r"(?:authori|permit|allow)", m.group(0), re.I):
        return False
    subject = re.split(r"[;:,]|\b(?:that|which|who)\b", sentence.text[: m.start()])[-1]
    return any(re.search(rf"\b{re.escape(n)}\b", subject, re.IGNORECASE) for n in names)


def _prohibition(
    req: Requirement, sents: Sequence[Sentence], contract: Contract,
    waivers: Sequence[ApprovedException],
) -> _Finding:  # fmt: skip
    vendor = contract.vendor
    hits = _ranked(req, (s for s in sents if _on_topic(req, s)))
    if not hits:
        return _Finding("missing", note="no clause addresses it")
    condition = req.allowed_if
    forbids = [s for s in hits if _NEGATION.search(s.reading)]
    conditioned = [
        s
        for s in hits
        if (condition is not None and condition.search(s.reading)) or _LIMITED.search(s.text)
    ]
    permits = [
        s
        for s in hits
        if _PERMISSION.search(s.text)
        and s not in forbids
        and s not in conditioned
        and not s.is_title
        and not _granted_to_organisation(s, contract.covered_entity)
    ]
    if permits:
        evidence = permits[:1] + forbids[:1]
        finding = _Finding("weaker" if forbids else "contradicts", evidence)
        what = "forbids it but also permits it" if forbids else "the contract permits it"
        waiver = _waiver(waivers, req, vendor)
        if waiver is not None:
            return _short_of(req, vendor, waivers, finding, True, what)
        finding.note = what
        return finding
    if forbids or conditioned:
        evidence = (forbids or conditioned)[:1]
        note = "forbidden" if forbids else "only with the condition the term accepts"
        return _Finding("present", evidence, note=note)
    return _Finding(
        "needs review",
        hits[:1],
        note="the clause neither forbids nor permits it in words the checker can read",
    )


def _permitted_countries(sentence: Sentence) -> list[str]:
    """Countries the sentence allows PHI in (not those it names to forbid)."""
    out = []
    for name, offset in countries(sentence.text):
        before = re.split(r"[;:]", sentence.text[:offset])[-1]
        negated = _NEGATION.search(before) or re.search(r"\bno\b|\boutside\b", before, re.I)
        if negated and not re.search(r"\b(?:only|solely|exclusively|except)\b", before, re.I):
            continue
        out.append(name)
    return out


def _location(
    req: Requirement, sents: Sequence[Sentence], vendor: str, waivers: Sequence[ApprovedException]
) -> _Finding:
    allowed = set(req.countries)

    def names_elsewhere(s: Sentence) -> bool:
        # "Pasig Review Partners, Inc. (Philippines) may validate codes" under an offshore title:
        # a country named in a clause about location is on topic without the topic's own words
        about_location = bool(req.topic) and (
            bool(req.topic[0].search(s.context))
            or (len(req.topic) > 1 and bool(req.topic[1].search(s.text)))
        )
        return about_location and any(n not in allowed for n, _ in countries(s.text))

    hits = _ranked(req, (s for s in sents if _on_topic(req, s) or names_elsewhere(s)))
    if not hits:
        return _Finding("missing", note="no clause limits where PHI is processed or kept")
    others: dict[str, Sentence] = {}
    restricting: list[Sentence] = []
    for s in hits:
        permitted = _permitted_countries(s)
        for name in permitted:
            if name not in allowed:
                others.setdefault(name, s)
        offshore = _OFFSHORE.search(s.text)
        allowed_out = _PERMISSION.search(s.text) and not _LIMITED.search(s.text)
        barred = _BARRED.search(s.reading)
        if offshore and allowed_out and not permitted and not s.is_title and not barred:
            others.setdefault("outside the United States", s)
        named_here = permitted + [n for n, _ in countries(s.text)]
        if _RESTRICTS.search(s.reading) and any(n in allowed for n in named_here):
            restricting.append(s)
    if others:
        evidence = list(dict.fromkeys(others.values()))[:2]
        named = sorted(others)
        finding = _Finding("weaker", evidence, figure=", ".join(sorted(allowed) + named))
        waiver = _waiver(waivers, req, vendor)
        covered = waiver is not None and (
            not waiver.allows_countries or set(named) <= set(waiver.allows_countries)
        )
        return _short_of(req, vendor, waivers, finding, covered, f"also allows {', '.join(named)}")
    if restricting:
        return _Finding(
            "present",
            restricting[:1],
            figure=", ".join(sorted(allowed)),
            note="limited to " + ", ".join(sorted(allowed)),
        )
    return _Finding("missing", note="no clause limits where PHI is processed or kept")


def _amount(req: Requirement, sents: Sequence[Sentence]) -> _Finding:
    assert req.minimum is not None
    hits = _ranked(req, (s for s in sents if _on_topic(req, s)))
    if not hits:
        return _Finding("missing", note="no clause addresses it")
    with_amounts = [(s, amounts(s.text)) for s in hits]
    best = next(((s, max(found)) for s, found in with_amounts if found), None)
    for hit in hits if best is None else ():
        # "Vendor shall maintain cyber liability insurance. Its limit shall be $5,000,000."
        mates = [s for s in sents if s.locator == hit.locator and s.order > hit.order]
        best = next(((s, max(f)) for s in mates if (f := amounts(s.text))), None)
        if best is not None:
            break
    if best is None:
        return _Finding("needs review", hits[:1], note="the clause states no amount the checker "
                        "can read")  # fmt: skip
    sentence, value = best
    figure = f"${value:,.0f}"
    what = f"{figure} vs at least ${req.minimum:,.0f} required"
    status: Status = "present" if value >= req.minimum else "weaker"
    return _Finding(status, [sentence], figure=figure, note=what)


def check_requirement(
    contract: Contract, req: Requirement, waivers: Sequence[ApprovedException] = ()
) -> Row:
    """One row: how ``contract`` meets ``req``."""
    sents = contract.sentences
    if req.problem:
        return Row(
            contract.vendor, contract.doc_id, req, "needs review",
            note=f"the catalog entry cannot be checked: {req.problem}",
        )  # fmt: skip
    if req.check == "presence":
        finding = _presence(req, sents)
    elif req.check in ("deadline", "notice"):
        finding = _time_limit(req, sents, contract.vendor, waivers)
    elif req.check == "prohibition":
        finding = _prohibition(req, sents, contract, waivers)
    elif req.check == "location":
        finding = _location(req, sents, contract.vendor, waivers)
    else:
        finding = _amount(req, sents)
    evidence = finding.evidence
    return Row(
        vendor=contract.vendor,
        doc_id=contract.doc_id,
        requirement=req,
        status=finding.status,
        locators=tuple(dict.fromkeys(s.locator for s in evidence)),
        chunk_ids=tuple(dict.fromkeys(s.chunk_id for s in evidence if s.chunk_id)),
        quote=" … ".join(s.text for s in evidence),
        page=evidence[0].page if evidence else None,
        figure=finding.figure,
        note=finding.note,
        exception=finding.exception,
    )


def unreadable(contract: Contract) -> str:
    """Why no row of this contract can be decided from its text, or ''."""
    if not any(s.text.strip() for s in contract.sentences):
        return "no text could be read from the contract (a scan without a text layer?)"
    located = {s.locator for s in contract.sentences}
    if len(located) <= 1 and not any("§" in loc or '"' in loc for loc in located):
        return "the contract has no numbered or titled sections, so no clause can be cited"
    return ""


def check_contract(
    contract: Contract,
    requirements: Sequence[Requirement],
    waivers: Sequence[ApprovedException] = (),
) -> list[Row]:
    """Every requirement checked in one contract, in catalog order."""
    reason = unreadable(contract)
    rows = []
    for req in requirements:
        if reason:
            rows.append(Row(contract.vendor, contract.doc_id, req, "needs review", note=reason))
        else:
            rows.append(check_requirement(contract, req, waivers))
    return rows
