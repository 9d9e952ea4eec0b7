"""The BAA check over an index: which contracts the caller may read, which catalogs apply."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from assistant.checks.baa import Contract, Row, check_contract
from assistant.checks.catalog import ApprovedException, Catalog, Requirement, load_catalog
from assistant.checks.clauses import Sentence, sentences
from assistant.checks.coverage import Policy, policy
from core.documents import Chunk, SourceDocument
from core.errors import ConfigError, IndexMissingError, NotAllowedError
from core.index.reader import Scope
from core.index.state import Generation, IndexState
from core.settings import Settings
from core.words import word_list


@dataclass(frozen=True)
class Catalogs:
    """The rule's catalog and the organisation's terms (none when it has no terms file)."""

    rule: Catalog
    terms: tuple[Catalog, ...]

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return self.rule.requirements + tuple(r for c in self.terms for r in c.requirements)

    @property
    def organisation(self) -> str:
        return next((c.organisation for c in self.terms if c.organisation), "")

    @property
    def exceptions(self) -> tuple[ApprovedException, ...]:
        return tuple(w for c in self.terms for w in c.exceptions)


def load_catalogs(settings: Settings) -> Catalogs:
    """The bundled rule catalog and every corpus folder's terms file."""
    rule = load_catalog(settings.checks.rule_catalog)
    terms = []
    if settings.checks.terms_file:
        for folder in settings.paths.corpus_dirs:
            path = folder / settings.checks.terms_file
            if path.is_file():
                terms.append(load_catalog(path))
    ids = [r.id for c in (rule, *terms) for r in c.requirements]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"requirement id {dupes[0]!r} is defined twice across the catalogs")
    return Catalogs(rule, tuple(terms))


# A party and the short name the contract gives it: Lakemont Regional Health ("Lakemont")
_DEFINED_PARTY = re.compile(
    r"((?:[A-Z][\w&.'-]*,?\s+){0,6}[A-Z][\w&.'-]*,?)\s*\(\s*(?:the\s+)?[\"“]([^\"”]{2,40})[\"”]\s*\)"
)


def name_words(organisation: str) -> frozenset[str]:
    """The words of the organisation's name that say which one it is: "lakemont" of Lakemont
    Regional Health."""
    words = {w.casefold() for w in re.findall(r"[\w'-]+", organisation)}
    return frozenset(words - word_list("organisation_name_common"))


def organisation_of(settings: Settings) -> str:
    """The organisation's name, as its terms file (``baa-terms.yaml``) gives it; empty when
    there is none, or it cannot be read (the BAA check reports that)."""
    if not settings.checks.terms_file:
        return ""
    for folder in settings.paths.corpus_dirs:
        path = folder / settings.checks.terms_file
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(raw, dict) and raw.get("organisation"):
            return str(raw["organisation"])
    return ""


def organisation_names(organisation: str, sents: Sequence[Sentence]) -> tuple[str, ...]:
    """What a contract calls the organisation: "covered entity", the organisation's name, and
    the short name the contract defines for it (``Lakemont Regional Health ("Lakemont")``)."""
    names = ["covered entity"]
    distinctive = name_words(organisation)
    if organisation:
        names.append(organisation)
    for s in sents[:40]:
        for m in _DEFINED_PARTY.finditer(s.text):
            long_words = {w.casefold() for w in re.findall(r"[\w'-]+", m.group(1))}
            if long_words & distinctive:
                names.append(m.group(2).strip())
    return tuple(dict.fromkeys(names))


def contract(document: SourceDocument, chunks: Sequence[Chunk], organisation: str = "") -> Contract:
    sents = sentences(chunks)
    return Contract(
        doc_id=document.doc_id,
        vendor=document.vendor or document.title,
        title=document.title,
        sentences=tuple(sents),
        covered_entity=organisation_names(organisation, sents),
    )


def readable_contracts(
    generation: Generation, scope: Scope, vendors: Sequence[str] = (), organisation: str = ""
) -> list[Contract]:
    """The live BAAs ``scope`` may read (of ``vendors`` when given), in title order.

    A caller who may read no BAA at all, or none of the vendors named, is refused without
    learning whether such a contract exists."""
    live = [
        e
        for e in generation.documents
        if e.document.doc_type == "baa" and e.status != "superseded" and scope.allows(e.document)
    ]
    if not live:
        raise NotAllowedError(
            "the BAA check needs access to the contracts (groups privacy-office or legal); "
            "your groups cannot read any BAA"
        )
    if vendors:
        wanted = [v.casefold() for v in vendors]
        live = [
            e
            for e in live
            if any(
                w in e.document.vendor.casefold() or w in e.document.title.casefold()
                for w in wanted
            )
        ]
        if not live:
            raise NotAllowedError(f"no BAA you may read matches {', '.join(vendors)}")
    by_id = {c.chunk_id: c for c in generation.chunks}
    out = []
    for entry in sorted(live, key=lambda e: (e.document.vendor or e.document.title).casefold()):
        gone = set(entry.superseded_ids)
        chunks = [by_id[i] for i in entry.chunk_ids if i in by_id and i not in gone]
        out.append(contract(entry.document, chunks, organisation))
    return out


def changed_contracts(
    generation: Generation, changed_keys: set[str], organisation: str = ""
) -> list[Contract]:
    """The BAAs an ingest added or updated (by source key), for the ingest report's gaps."""
    by_id = {c.chunk_id: c for c in generation.chunks}
    out = []
    for entry in generation.documents:
        if entry.key in changed_keys and entry.document.doc_type == "baa":
            gone = set(entry.superseded_ids)
            chunks = [by_id[i] for i in entry.chunk_ids if i in by_id and i not in gone]
            out.append(contract(entry.document, chunks, organisation))
    return out


def live_generation(settings: Settings) -> Generation:
    """The index generation the checks read (no model needed)."""
    generation = IndexState(settings.paths.index_dir).load()
    if generation is None:
        raise IndexMissingError("no index yet: run `hipaa-assistant ingest` first")
    return generation


def caller_scope(settings: Settings, groups: str | None) -> Scope:
    """``--groups g1,g2`` as a scope (default: ``retrieval.default_groups``)."""
    chosen = [g.strip() for g in (groups or "").split(",") if g.strip()]
    return Scope.for_groups(chosen or settings.retrieval.default_groups)


def check_all(contracts: Sequence[Contract], catalogs: Catalogs) -> list[Row]:
    rows: list[Row] = []
    for c in contracts:
        rows.extend(check_contract(c, catalogs.requirements, catalogs.exceptions))
    return rows


def readable_policies(generation: Generation, scope: Scope) -> list[Policy]:
    """The live policies ``scope`` may read, in id order."""
    by_id = {c.chunk_id: c for c in generation.chunks}
    out = []
    for entry in sorted(generation.documents, key=lambda e: e.document.doc_id):
        doc = entry.document
        if doc.doc_type != "policy" or entry.status == "superseded" or not scope.allows(doc):
            continue
        gone = set(entry.superseded_ids)
        out.append(policy(doc, [by_id[i] for i in entry.chunk_ids if i in by_id and i not in gone]))
    return out
