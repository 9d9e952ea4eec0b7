"""The answer chain end to end, offline: fake embedder, fake chat models, a loopback stub server."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant.answering.chain import AnswerChain
from assistant.runtime.build import build_chain
from core.index.reader import Index, Scope
from core.settings import Settings
from tests.conftest import index_org_corpus
from tests.openai_stub import openai_stub

STAFF = Scope.for_groups({"staff"})
PRIVACY = Scope.for_groups({"staff", "privacy-office"})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Index]:
    return index_org_corpus(tmp_path_factory.mktemp("corpus") / "data")


def fake_model(*replies: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies]))


def test_extractive_answer_quotes_only_cited_passages(corpus: tuple) -> None:
    settings, index = corpus
    chain = build_chain(settings, index)
    answer = chain.ask("Can I paste a discharge summary into a public chatbot?", STAFF)
    assert not answer.abstained and answer.mode == "extractive"
    assert answer.citations and answer.passages
    by_n = {p.n: p for p in answer.passages}
    for c in answer.citations:
        assert c.quote in by_n[c.n].text  # every quote is verbatim in the passage it cites
        assert c.locator.startswith(by_n[c.n].locator.split(" §")[0])
    # every statement of an extractive answer is a quotation of a cited passage
    for line in answer.text.splitlines():
        if line.startswith("- "):
            quoted = line.split("\u201c", 1)[1].rsplit("\u201d", 1)[0]
            n = int(line.rsplit("[", 1)[1].rstrip("]"))
            assert quoted in by_n[n].text
    assert any(c.doc_id == "AI-301" for c in answer.citations)


def test_abstains_when_the_documents_do_not_answer(corpus: tuple) -> None:
    settings, index = corpus
    chain = build_chain(settings, index)
    for q in ("What is the capital of France?", "Which bakery in Paris sells the best sourdough?"):
        answer = chain.ask(q, STAFF)
        assert answer.abstained and not answer.citations, q
        assert "do not answer" in answer.text


def test_a_named_locator_is_answered_from_that_passage(corpus: tuple) -> None:
    settings, index = corpus
    answer = build_chain(settings, index).ask("What does AI-301 §5.3 say?", STAFF)
    assert answer.passages[0].locator == "AI-301 §5.3"
    assert answer.citations[0].locator == "AI-301 §5.3"


def test_follow_up_is_retrieved_for_the_combined_meaning(corpus: tuple) -> None:
    settings, index = corpus
    chain = build_chain(settings, index)
    history = ["Must our AI vendors sign a business associate agreement?"]
    answer = chain.ask("What about for subcontractors?", PRIVACY, history=history)
    assert "business associate agreement" in answer.standalone_question
    assert "subcontractors" in answer.standalone_question
    top = answer.passages[0].text.lower()
    assert "subcontractor" in top
    assert any(w in top for w in ("agreement", "baa", "business associate", "in writing"))
    alone = chain.ask("What about for subcontractors?", PRIVACY)
    assert alone.standalone_question == "What about for subcontractors?"
    first = chain.ask("Must our AI vendors sign a business associate agreement?", PRIVACY)
    assert [p.chunk_id for p in first.passages] != [p.chunk_id for p in answer.passages]


def test_access_groups_hold_in_retrieval_and_answers(corpus: tuple) -> None:
    settings, index = corpus
    chain = build_chain(settings, index)
    q = "How quickly must Acme Scribe notify us of a breach? Quote the Acme Scribe BAA §4.3."
    staff = chain.ask(q, STAFF)
    assert all(p.doc_type != "baa" for p in staff.passages)
    assert "Acme Scribe BAA" not in staff.text
    privacy = chain.ask(q, PRIVACY)
    assert privacy.passages[0].locator == "Acme Scribe BAA §4.3"
    # the filter by type and by vendor
    only_rules = chain.ask(
        "breach notification deadline", Scope(frozenset({"staff"}), frozenset({"policy"}))
    )
    assert {p.doc_type for p in only_rules.passages} == {"policy"}
    clarion = chain.ask(
        "breach notice deadline",
        Scope(frozenset({"privacy-office"}), frozenset({"baa"}), frozenset({"Clarion AI"})),
    )
    assert {p.doc_id for p in clarion.passages} == {"BAA-CLARION"}


def test_llm_answer_streams_and_a_fabricated_citation_is_dropped(corpus: tuple) -> None:
    settings, index = corpus
    reply = (
        "Public chatbots are not approved for PHI [1]. "
        "Staff may paste anything into any tool on Fridays [7]."
    )
    chain: AnswerChain = build_chain(settings, index, chat_model=fake_model(reply))
    tokens: list[str] = []
    answer = chain.ask(
        "Can I paste a discharge summary into a public chatbot?", STAFF, on_token=tokens.append
    )
    assert len(tokens) > 3 and "".join(tokens) == reply  # streamed as it was generated
    assert "[7]" not in answer.text and "[1]" in answer.text
    assert [c.n for c in answer.citations] == [1]
    assert any("dropped citation [7]" in n for n in answer.notes)
    assert answer.mode.startswith("llm:")


def test_llm_answer_with_no_valid_citation_is_withheld(corpus: tuple) -> None:
    settings, index = corpus
    chain = build_chain(settings, index, chat_model=fake_model("It is fine, trust me [9]."))
    answer = chain.ask("Can I paste a discharge summary into a public chatbot?", STAFF)
    assert answer.abstained and not answer.citations
    assert "could not be verified" in answer.text


def test_openai_compatible_endpoint_over_http_with_streaming(corpus: tuple) -> None:
    settings, index = corpus
    reply = "Only approved tools may receive PHI [1]. Report a paste into a chatbot [2]."
    with openai_stub(reply) as (base_url, stub):
        local = settings.model_copy(deep=True)
        local.answer.mode = "llm"
        local.llm.provider = "openai-compatible"
        local.llm.base_url = base_url
        local.llm.model = "stub-model"
        chain = build_chain(local, index)
        tokens: list[str] = []
        answer = chain.ask(
            "Can I paste a discharge summary into a public chatbot?", STAFF, on_token=tokens.append
        )
    assert len(tokens) >= 5  # streamed chunk by chunk over HTTP
    assert answer.mode == "llm:openai-compatible/stub-model"
    assert [c.n for c in answer.citations] == [1, 2]
    sent = stub.requests[-1]
    assert sent["stream"] is True and sent["model"] == "stub-model"
    user = sent["messages"][-1]["content"]
    assert "Question: Can I paste a discharge summary" in user and "[1] AI-301" in user
    assert "never invent one" in sent["messages"][0]["content"]


def test_llm_failure_is_one_friendly_error(corpus: tuple) -> None:
    from assistant.answering.llm import LLMError

    settings, index = corpus
    local = settings.model_copy(deep=True)
    local.answer.mode = "llm"
    local.llm.provider = "openai-compatible"
    local.llm.base_url = "http://127.0.0.1:9/v1"  # nothing listens there
    local.llm.timeout_s = 2
    chain = build_chain(local, index)
    with pytest.raises(LLMError, match="could not answer"):
        chain.ask("Can I paste a discharge summary into a public chatbot?", STAFF)


def test_build_chat_model_for_each_provider() -> None:
    from assistant.answering.llm import build_chat_model
    from core.errors import ConfigError
    from core.settings import LLMSettings

    assert type(build_chat_model(LLMSettings(provider="ollama"))).__name__ == "ChatOllama"
    assert (
        type(build_chat_model(LLMSettings(provider="openai", api_key="k"))).__name__ == "ChatOpenAI"
    )
    anthropic = build_chat_model(LLMSettings(provider="anthropic", model="claude-x", api_key="k"))
    assert type(anthropic).__name__ == "ChatAnthropic"
    with pytest.raises(ConfigError):
        build_chat_model(LLMSettings(provider="openai-compatible"))
    with pytest.raises(ConfigError):
        build_chat_model(LLMSettings(provider="anthropic"))


def test_what_no_document_mentions_is_named_first(corpus: tuple) -> None:
    """A question's focus that no readable passage has: a refusal naming it when a word of it is
    in no document; otherwise the closest passages, with that said first."""
    settings, index = corpus
    chain = build_chain(settings, index)
    vacation = chain.ask("How many vacation days do nurses get each year?", STAFF)
    assert vacation.abstained and vacation.uncovered_terms == ["vacation days"]
    assert vacation.text.startswith(
        "None of the documents you can read mentions \u201cvacation days\u201d"
    )
    assert vacation.to_json()["uncovered_terms"] == ["vacation days"]
    # every word is in the documents, never together: answered, the gap said first
    apart = chain.ask("What is the patient access period for the AI scribe?", STAFF)
    assert not apart.abstained and apart.citations
    assert apart.uncovered_terms == ["patient access period"]
    first = apart.text.splitlines()[0]
    assert first.startswith("None of the documents you can read mentions \u201cpatient access")
    assert first.endswith("in those words. The closest passages:")


def test_a_short_question_asking_what_a_defined_term_means_is_not_a_follow_up(
    corpus: tuple,
) -> None:
    settings, index = corpus
    chain = build_chain(settings, index)
    history = ["Can I paste a discharge summary into a public chatbot?"]
    # complete, however short: the policies spell PHI out and define "minimum necessary"
    answer = chain.ask("What is PHI?", STAFF, history=history)
    assert answer.standalone_question == "What is protected health information (PHI)?"
    answer = chain.ask("What is minimum necessary?", STAFF, history=history)
    assert answer.standalone_question == "What is minimum necessary?"
    # these lean on the question before
    for fragment in ("What does that mean?", "What is the deadline?", "How fast?"):
        searched = chain.ask(fragment, STAFF, history=history).standalone_question
        assert searched.startswith(history[0].rstrip("?")), fragment
