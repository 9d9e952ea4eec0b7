"""Contracts as they arrive, in each style an organisation receives them (the unseen
organisation's four contracts in evals/orgs/saguaro/received, dropped in without metadata):
Markdown numbered by nested lists with inline HTML, a PDF in articles with run-in sections and
lettered sub-clauses, a Word addendum with unnumbered bold run-in clauses that names its vendor
only in its definitions, and a PDF numbered 4.2.1 in its text. Each is restricted, known by its
party, located clause by clause, and quoted without markup."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from assistant import cli
from assistant.runtime.stores import open_store
from core.embeddings import build_embedder
from ingest.loaders import Loaded, SourceFile, load
from ingest.pipeline import run_ingest
from tests.conftest import ROOT, make_settings

ORG = ROOT / "evals" / "orgs" / "saguaro"
# file -> (vendor, style, a clause locator the style must produce)
DROPPED_IN = {
    "kestrel-baa.md": ("Kestrel Intake Systems", "nested lists", "§11.3.2"),
    "Tidewater BAA executed 2025-11.pdf": ("Tidewater Risk Analytics", "articles", "§4.3(b)"),
    "Messaging Addendum (signed).docx": (
        "Juniper Outreach",
        "bold run-ins",
        '"Security Safeguards" "Encryption"',
    ),
    "Sonora_BAA_final.pdf": ("Sonora Fraud Sciences", "typed 4.2.1", "§4.2.1"),
}
MARKUP = re.compile(
    r"<\s*/?\s*(?:span|br|a|b|strong|em)\b|&(?:nbsp|amp|#\d+);|\*\*|__|\u00a0|\u00ad"
)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Loaded]:
    settings = make_settings(tmp_path_factory.mktemp("data"))
    out = {}
    for name in DROPPED_IN:
        path = ORG / "received" / name
        out[name] = load(SourceFile(path, "corpus"), path.read_bytes(), settings)
    return out


def _locators(doc: Loaded) -> set[str]:
    return {x.locator for c in doc.chunks for x in (c, *c.spans)}


def _gold(vendor_prefix: str) -> list[str]:
    gold = []
    for path in (ORG / "received-questions").glob("*/*.yaml"):
        for q in yaml.safe_load(path.read_text(encoding="utf-8")):
            gold += [g for g in q["gold"] if g.startswith(vendor_prefix)]
    return gold


@pytest.mark.parametrize("name", DROPPED_IN)
def test_a_contract_dropped_in_is_restricted_and_known_by_its_party(
    loaded: dict[str, Loaded], name: str
) -> None:
    vendor, _style, _ = DROPPED_IN[name]
    doc = loaded[name].document
    assert (doc.doc_type, doc.vendor) == ("baa", vendor)
    assert doc.access_groups == ("privacy-office", "legal")
    assert {"type", "vendor", "access"} <= set(doc.inferred)


@pytest.mark.parametrize("name", DROPPED_IN)
def test_each_clause_has_its_locator_and_every_gold_resolves(
    loaded: dict[str, Loaded], name: str
) -> None:
    vendor, style, example = DROPPED_IN[name]
    locators = _locators(loaded[name])
    prefix = f"{vendor} BAA"
    assert f"{prefix} {example}" in locators, (style, sorted(locators))
    clauses = {loc for loc in locators if loc != prefix}
    assert len(clauses) >= 30, (style, len(clauses))
    gold = _gold(prefix)
    assert len(gold) >= 10
    assert [g for g in gold if g not in locators] == []


def test_no_markup_or_invisible_characters_in_any_passage(loaded: dict[str, Loaded]) -> None:
    for name, doc in loaded.items():
        for chunk in doc.chunks:
            for text in (chunk.text, *chunk.heading_path):
                assert not MARKUP.search(text), (name, chunk.locator, text[:200])
                assert not re.search("[\u201c\u201d\u2018\u2019]", text), (name, chunk.locator)


def test_a_clause_numbered_in_its_text_is_its_own_passage(loaded: dict[str, Loaded]) -> None:
    chunks = {c.locator: c for c in loaded["Sonora_BAA_final.pdf"].chunks}
    clause = chunks["Sonora Fraud Sciences BAA §4.2.1"]
    assert clause.text.startswith("4.2.1 ") and "4.2.2" not in clause.text
    # a wrapped "six (6) months" is not an item "(6)"
    tidewater = _locators(loaded["Tidewater BAA executed 2025-11.pdf"])
    assert not [loc for loc in tidewater if re.search(r"\(\d+\)$", loc)]


def test_defined_terms_are_passages_of_their_own(loaded: dict[str, Loaded]) -> None:
    juniper = {c.locator: c for c in loaded["Messaging Addendum (signed).docx"].chunks}
    provider = juniper['Juniper Outreach BAA "Definitions" "Provider"']
    assert provider.text.startswith('"Provider" means Juniper Outreach LLC')
    assert '"Plan PHI"' not in provider.text
    # every passage of the addendum is known by its party, not only the one that names it
    assert all("Juniper Outreach" in c.embed_text for c in juniper.values())


def test_sources_shows_what_was_inferred_for_each_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox"  # not a folder named for contracts: each says what it is
    inbox.mkdir()
    for name in DROPPED_IN:
        (inbox / name).write_bytes((ORG / "received" / name).read_bytes())
    settings = make_settings(tmp_path / "data", [tmp_path / "inbox"])
    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    assert cli.main(["--data-dir", str(settings.paths.data_dir), "sources", "--json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r.get("type") == "baa"]
    assert len(rows) == len(DROPPED_IN)
    for row in rows:
        vendor = next(v for v, _, _ in DROPPED_IN.values() if v in row["note"])
        assert f"vendor: inferred ({vendor})" in row["note"]
        assert "type: inferred" in row["note"] and "access: default" in row["note"]
        assert row["access_groups"] == ["privacy-office", "legal"]
