"""Each retrieval stage alone: what it scores, that it leaves its inputs as they were, and the one
fusion step that combines them with the weights in settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from assistant.retrieval.boosts import CitedRule, NamedDocument, SectionDemotion
from assistant.retrieval.ordering import named_locator_hits, reorder_rule_places, with_quotas
from assistant.retrieval.query import QueryPlan
from assistant.retrieval.rankers import Dense, Lexical, RuleDense, VocabularyBridge
from assistant.retrieval.retriever import HybridRetriever
from assistant.retrieval.stages import Contribution, Query, combine, read_only, rrf_units
from assistant.retrieval.vocabulary import Vocabulary
from core.index.reader import Index, Scope
from core.settings import RETRIEVAL_STAGES, RetrievalSettings
from tests.conftest import index_org_corpus

ALL = Scope.unrestricted()


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Index:
    return index_org_corpus(tmp_path_factory.mktemp("stages") / "data")[1]


def _query(index: Index, text: str, plan: QueryPlan | None = None, scope: Scope = ALL) -> Query:
    return Query(text, plan or QueryPlan(text), scope, index.embed_query(text))


def test_rrf_units_and_the_fusion_step() -> None:
    assert rrf_units(["a", "b", "a"], 60) == {"a": 1 / 61, "b": 1 / 62}
    fused: Mapping[str, float] = read_only({"a": 1.0})
    added = combine(fused, "rank", 2.0, Contribution({"a": 0.5, "b": 0.25}))
    assert added == {"a": 2.0, "b": 0.5} and fused == {"a": 1.0}  # a new table; input kept
    scaled = combine(added, "factor", 2.0, Contribution({"a": 0.5, "zzz": 0.1}))
    assert scaled == {"a": 0.5, "b": 0.5}  # 2.0 * 0.5**2; a factor adds no candidate
    assert combine(added, "factor", 0.0, Contribution({"a": 0.5})) == added
    with pytest.raises(TypeError):
        fused["a"] = 2.0  # type: ignore[index]


def test_dense_and_lexical_rank_by_meaning_and_by_words(org: Index) -> None:
    s = RetrievalSettings()
    q = _query(org, "How fast must a vendor report a breach to us?")
    dense = Dense(org, s).run(q, {})
    lexical = Lexical(org, s).run(q, {})
    assert len(dense.scores) == s.dense_candidates and len(lexical.scores) == s.lexical_candidates
    assert max(dense.scores.values()) == pytest.approx(1 / 61)
    assert dense.top_similarity == max(dense.similarity.values())
    assert set(lexical.lexical) == set(lexical.scores) and not lexical.similarity
    # the scope rules: nothing outside it
    policies = _query(org, q.text, scope=Scope(None, frozenset({"policy"})))
    for cid in Dense(org, s).run(policies, {}).scores:
        assert org.document(org.by_id[cid].doc_id).doc_type == "policy"


def test_a_policy_named_by_its_title_is_boosted_as_a_named_document(org: Index) -> None:
    retriever = HybridRetriever(org, RetrievalSettings(), Vocabulary.load())
    plan = retriever.plan("What does our encryption policy say about USB drives?")
    assert plan.doc_ids == ["SEC-210"]  # "Encryption and Transmission Security"
    fused = {cid: 0.0 for cid in org.by_id}
    boosted = NamedDocument(org, RetrievalSettings()).run(_query(org, plan.question, plan), fused)
    assert boosted.scores and {org.by_id[c].doc_id for c in boosted.scores} == {"SEC-210"}
    assert retriever.plan("Can I paste a discharge summary into an AI tool?").doc_ids == []


def test_rule_rankings_stay_out_of_a_scope_without_rules(org: Index) -> None:
    q = _query(org, "encryption", scope=Scope(None, frozenset({"baa"})))
    assert RuleDense(org, RetrievalSettings()).run(q, {}).scores == {}


def test_named_document_boosts_only_candidates_of_the_named_vendor(org: Index) -> None:
    baa = next(c for c in org.chunks if org.document(c.doc_id).vendor == "Clarion AI")
    policy = next(c for c in org.chunks if org.document(c.doc_id).doc_type == "policy")
    fused = read_only({baa.chunk_id: 0.01, policy.chunk_id: 0.02})
    plan = QueryPlan("Can Clarion keep our data?", vendors=["Clarion AI"])
    out = NamedDocument(org, RetrievalSettings()).run(_query(org, plan.question, plan), fused)
    assert out.scores == {baa.chunk_id: 1 / 61}
    nothing = NamedDocument(org, RetrievalSettings()).run(_query(org, "x"), fused)
    assert nothing.scores == {}


def test_named_contract_ranks_the_named_vendors_clauses_among_themselves(org: Index) -> None:
    from assistant.retrieval.rankers import NamedContract

    s = RetrievalSettings(named_contract_candidates=3)
    question = "How fast must Clarion tell us about a breach?"
    plan = QueryPlan(question, vendors=["Clarion AI"])
    out = NamedContract(org, s).run(_query(org, question, plan), {})
    assert 0 < len(out.scores) <= 6  # three by meaning, three by words, some both
    for cid in out.scores:
        assert org.document(org.by_id[cid].doc_id).vendor == "Clarion AI"
    # by meaning and by words over the contract alone: the same rankings, kept to its clauses
    contract = Scope(None, frozenset({"baa"}), frozenset({"Clarion AI"}))
    best = org.dense(question, 1, contract)[0].chunk.chunk_id
    assert out.scores[best] >= 1 / 61
    # no vendor named, or a scope without contracts: nothing
    assert NamedContract(org, s).run(_query(org, question), {}).scores == {}
    policies = Scope(None, frozenset({"policy"}))
    assert NamedContract(org, s).run(_query(org, question, plan, policies), {}).scores == {}


def test_cited_rule_follows_the_citations_of_leading_policy_passages(org: Index) -> None:
    citing = next(
        c
        for c in org.chunks
        if "45 CFR 164.5" in c.text and org.document(c.doc_id).doc_type == "policy"
    )
    target = next(c for c in org.chunks if c.chunk_id != citing.chunk_id)
    asked: list[str] = []

    class RuleLookup:  # the organisation corpus alone holds no rule text: stand in for it
        by_id = org.by_id
        document = staticmethod(org.document)

        @staticmethod
        def find_locator(loc: str, scope: Scope) -> list[object]:
            asked.append(loc)
            return [target]

    stage = CitedRule(RuleLookup(), RetrievalSettings(cited_rule_from_top=1))  # type: ignore[arg-type]
    out = stage.run(_query(org, "x"), read_only({citing.chunk_id: 1.0, target.chunk_id: 0.5}))
    assert asked and all(loc.startswith("45 CFR 164.") for loc in asked)
    assert out.scores == {target.chunk_id: len(asked) / 61}


def test_section_demotion_is_a_factor(org: Index) -> None:
    purpose = next(c for c in org.chunks if c.heading_path and " Purpose" in c.heading_path[-1])
    other = next(c for c in org.chunks if c.heading_path and " Purpose" not in c.heading_path[-1])
    fused = read_only({purpose.chunk_id: 1.0, other.chunk_id: 1.0})
    out = SectionDemotion(org, RetrievalSettings()).run(_query(org, "x"), fused)
    assert out.scores == {purpose.chunk_id: 0.5}
    # a question about the policy itself is answered by those sections: nothing is demoted
    for question in ("Does the AI policy apply to contractors?", "Why do we have this policy?"):
        assert (
            SectionDemotion(org, RetrievalSettings()).run(_query(org, question), fused).scores == {}
        )


def test_vocabulary_bridge_and_named_locators(org: Index) -> None:
    plan = QueryPlan("What does AI-301 §5.5 say?", locators=["AI-301 §5.5"])
    hits = named_locator_hits(org, _query(org, plan.question, plan), RetrievalSettings())
    assert hits and all(org.by_id[h].doc_id == "AI-301" for h in hits)
    bridged = QueryPlan("q", related_locators=["AI-301 §5.5"])
    out = VocabularyBridge(org, RetrievalSettings()).run(_query(org, "q", bridged), {})
    assert set(out.scores) == set(hits)


def test_quotas_promote_the_missing_kind_within_depth() -> None:
    kinds = {"p1": "policy", "p2": "policy", "p3": "policy", "r1": "rule"}
    out = with_quotas(["p1", "p2", "p3", "r1"], 3, {("rule",): 1}, 10, kinds.__getitem__)
    assert out[:3] == ["p1", "p2", "r1"] and out[3] == "p3"
    assert with_quotas(["p1", "p2", "p3", "r1"], 3, {("rule",): 1}, 3, kinds.__getitem__)[:3] == [
        "p1",
        "p2",
        "p3",
    ]


def test_every_stage_can_be_switched_off_and_unknown_names_fail(org: Index, tmp_path: Path) -> None:
    question = "Can Clarion use our data to train its models?"
    full = HybridRetriever(org, RetrievalSettings(), Vocabulary.load())
    assert [s.name for s in full.stages] == [
        n
        for n in RETRIEVAL_STAGES
        if n not in ("question_index", "named_locator", "source_quotas", "source_routing")
    ]
    base = full.retrieve(question, ALL, 5)
    assert {"dense", "lexical", "named_document"} <= set(base.stage_ms)
    for name in RETRIEVAL_STAGES:
        off = HybridRetriever(org, RetrievalSettings(disabled=[name]), Vocabulary.load())
        result = off.retrieve(question, ALL, 5)
        assert name not in result.stage_ms
    only_lexical = RetrievalSettings(disabled=[n for n in RETRIEVAL_STAGES if n != "lexical"])
    lex = HybridRetriever(org, only_lexical, Vocabulary.load()).retrieve(question, ALL, 5)
    assert all(p.dense is None for p in lex.passages) and all(p.lexical for p in lex.passages)
    with pytest.raises(ValueError, match="unknown retrieval stage"):
        RetrievalSettings(disabled=["dense", "magic"])
    with pytest.raises(ValueError, match="unknown retrieval stage"):
        RetrievalSettings(weights={"magic": 1.0})
    partial = RetrievalSettings(weights={"dense": 2.0})
    assert partial.weights["dense"] == 2.0 and partial.weights["lexical"] == 1.0


def test_source_routing_gives_an_organisation_question_its_documents() -> None:
    from assistant.retrieval.ordering import organisation_first, organisation_lead

    kinds = {"r1": "rule", "r2": "rule", "r3": "rule", "p1": "policy", "b1": "baa", "p2": "policy"}
    kind = kinds.__getitem__
    assert organisation_lead({"r1": 0.50, "p1": 0.62, "b1": 0.40}, kind) == pytest.approx(0.12)
    assert organisation_lead({"p1": 0.62}, kind) == 0.0  # no rule passage to compare with
    fused = ["r1", "r2", "r3", "p1", "b1", "p2"]
    # three of the organisation's passages and two of the rule's, in fused order ...
    assert organisation_first(fused, 5, 2, kind)[:5] == ["r1", "r2", "p1", "b1", "p2"]
    # ... or with the organisation's first when it leads clearly
    routed = organisation_first(fused, 5, 2, kind, org_leads=True)
    assert routed == ["p1", "b1", "p2", "r1", "r2", "r3"]
    # fewer passages than places: all of them, in fused order
    assert organisation_first(["r1", "r2", "p1"], 5, 1, kind) == ["r1", "r2", "p1"]


def test_a_contract_and_a_policy_named_together_share_the_places() -> None:
    from assistant.retrieval.ordering import shared_places

    source = {"b1": "BAA", "b2": "BAA", "b3": "BAA", "b4": "BAA", "p1": "AI-310", "p2": "AI-310"}
    fused = ["b1", "b2", "b3", "b4", "r1", "p1", "p2", "r2"]
    # the contract's clauses held every organisation place; now the two documents take turns
    shared = shared_places(fused, 5, source.get, ["BAA", "AI-310"])
    assert shared[:5] == ["b1", "p1", "b2", "p2", "r1"]
    assert sorted(shared) == sorted(fused)  # nothing lost, the rest in fused order
    # one named source with passages, or none in the top k: as it was
    assert shared_places(fused, 5, source.get, ["BAA"]) == fused
    assert shared_places(fused, 5, {"p1": "AI-310"}.get, ["BAA", "AI-310"]) == fused


def test_a_question_naming_a_contract_and_a_policy_is_answered_from_both(org: Index) -> None:
    retriever = HybridRetriever(org, RetrievalSettings(), Vocabulary.load())
    question = "Does Clarion's breach notice deadline meet AI-310?"
    top = [p.chunk.locator for p in retriever.retrieve(question, ALL, 5).passages[:5]]
    assert any(loc.startswith("Clarion AI BAA") for loc in top), top
    assert any(loc.startswith("AI-310") for loc in top), top


def test_a_policy_is_named_by_its_id_without_the_organisations_prefix() -> None:
    from assistant.retrieval.query import short_ids, short_ids_named

    ids = ["SHP-VM-02", "SHP-AI-01", "SHP-IS-07", "AI-301", "AI-310", "LRH-IS-07", "LRH-HR-01"]
    shorts = short_ids(ids)
    assert shorts["VM-02"] == "SHP-VM-02" and shorts["AI-01"] == "SHP-AI-01"
    assert "301" not in shorts  # a bare number names nothing
    assert "IS-07" not in shorts  # two documents end in IS-07
    assert short_ids_named("Does Parley's BAA meet vm-02 §5.1 and AI-01?", shorts) == [
        ("SHP-VM-02", "5.1"),
        ("SHP-AI-01", None),
    ]


def test_a_vendor_named_outright_is_not_a_common_word_of_its_name() -> None:
    from assistant.retrieval.vendors import named_outright

    assert named_outright("Can Kestrel keep our faxed attachments?", "Kestrel Intake Systems")
    assert named_outright("How long does Acme have to report?", "Acme Scribe")
    # "scribe" and "imaging" are words of the names, but the question asks the rule
    assert not named_outright("Does our AI scribe vendor need a BAA?", "Acme Scribe")
    assert not named_outright("Can we send imaging data to the FDA?", "Meridian Imaging")
    assert not named_outright("What do Health Systems owe us?", "Kestrel Health Systems")


def test_a_reorder_stage_chooses_the_rule_passages_for_the_rules_places_only() -> None:
    kinds = {
        "p1": "policy",
        "b1": "baa",
        "r1": "rule",
        "r2": "rule",
        "r3": "rule",
        "g1": "guidance",
    }
    fused = {"p1": 0.05, "r1": 0.04, "b1": 0.03, "r2": 0.02, "r3": 0.01, "g1": 0.005}
    ordered = sorted(fused, key=lambda c: -fused[c])  # p1 r1 b1 r2 r3 g1
    # r3 first among the rule's side, then g1 (from beyond the top k, and from the stage alone)
    extra = {"r3": 0.1, "g1": 0.05, "r9": 0.2}
    kinds["r9"] = "rule"
    out = reorder_rule_places(ordered, 3, fused, extra, kinds.__getitem__, depth=25)
    assert out[:3] == ["p1", "r9", "b1"]  # the organisation's places and passages stay
    assert out[3:] == ["r1", "r2", "r3", "g1"]  # the rest keeps its fused order
    # no rule place in the top k: nothing changes; nothing from the stage: nothing changes
    assert reorder_rule_places(["p1", "b1", "r1"], 2, fused, extra, kinds.__getitem__, 25) == [
        "p1",
        "b1",
        "r1",
    ]
    assert reorder_rule_places(ordered, 3, fused, {}, kinds.__getitem__, 25) == ordered
    # a top k deeper than the depth searched: each passage still appears once
    deep = reorder_rule_places(ordered, 6, fused, {"r3": 0.1}, kinds.__getitem__, depth=2)
    assert sorted(deep) == sorted(ordered) and deep[:3] == ["p1", "r3", "b1"]
