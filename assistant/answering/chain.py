"""The answer chain: condense the follow-up -> retrieve within the caller's scope -> abstain or
answer -> verify every citation -> a typed ``Answer``. Every surface (CLI, UI, API, evals) calls
this; none re-implements retrieval, access checks or citation logic."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from assistant.answering.abbreviations import Abbreviations
from assistant.answering.abstain import decide, measure
from assistant.answering.citations import markers, renumber, verify
from assistant.answering.cited_rules import followed
from assistant.answering.compare import Comparer, Comparison, is_comparison
from assistant.answering.definitions import defined_term, defines
from assistant.answering.extractive import quote_of
from assistant.answering.focus import Mentions, listed
from assistant.answering.text import sentences
from assistant.answering.trace import NO_TRACE, Tracer
from assistant.answering.types import Answer, Passage
from assistant.retrieval.retriever import Retriever
from assistant.safety.placeholders import without_placeholders
from core.documents import Chunk
from core.index.reader import Scope
from core.lexical import tokenize
from core.settings import AnswerSettings
from core.words import word_list

log = logging.getLogger(__name__)

# "What is it?", "What does that mean?": the term asked about is the previous question's
_POINTING_BACK = frozenset({"it", "that", "this", "they", "them", "those", "these", "one"})
_DEFINITION_SCAN = 300  # passages holding the term's words read for a definition, at most

ABSTAIN_TEXT = (
    "The documents I can search do not answer this. They cover the HIPAA rules (45 CFR Parts 160 "
    "and 164), HHS and NIST guidance, and your organisation's policies and agreements you have "
    "access to. Try naming the rule or policy you have in mind, or ask the Privacy Office."
)
NO_VALID_CITATION = (
    "The model's answer could not be verified against the documents (it cited no retrieved "
    "passage), so it is not shown. Ask again, or read the passages below."
)


class Answerer(Protocol):
    mode: str

    def answer(
        self,
        question: str,
        passages: Sequence[Passage],
        expansion: Sequence[str],
        chunks: dict[str, Chunk],
        on_token: Callable[[str], None] | None = None,
        asked_locators: Sequence[str] = (),
    ) -> str: ...


class Condenser(Protocol):
    def condense(self, question: str, history: Sequence[str]) -> str: ...


class AnswerChain:
    def __init__(
        self,
        retriever: Retriever,
        answerer: Answerer,
        condenser: Condenser,
        settings: AnswerSettings,
        comparer: Comparer | None = None,
        generic: frozenset[str] | None = None,
    ) -> None:
        """``generic``: the words that say nothing about what is asked (default: the generic
        word list; ``build_chain`` adds the organisation's name)."""
        self.retriever = retriever
        self.answerer = answerer
        self.condenser = condenser
        self.settings = settings
        self.comparer = comparer
        self.generic = word_list("generic") if generic is None else generic
        self._mentions: tuple[object, Mentions] | None = None
        self._abbreviations: tuple[object, Abbreviations] | None = None

    def mentions(self) -> Mentions:
        """The phrase lookup over the index's passages (built on first use, per index)."""
        index = self.retriever.index
        if self._mentions is None or self._mentions[0] is not index:
            texts = [c.embed_text for c in index.chunks]
            self._mentions = (index, Mentions(index.lexical, texts))
        return self._mentions[1]

    def abbreviations(self) -> Abbreviations:
        """The abbreviations the index's passages spell out (read on first use, per index)."""
        index = self.retriever.index
        if self._abbreviations is None or self._abbreviations[0] is not index:
            self._abbreviations = (index, Abbreviations.from_texts(c.text for c in index.chunks))
        return self._abbreviations[1]

    def _defined(self, question: str, readable: frozenset[int]) -> bool:
        """Whether ``question`` asks what a term means that a document the caller may read
        defines ("What is minimum necessary?"): a new question, however short."""
        term = defined_term(question)
        if term is None or term in _POINTING_BACK:
            return False
        rows = self.mentions().rows_with(tokenize(term)) & readable
        return any(
            defines(term, s.text)
            for row in sorted(rows)[:_DEFINITION_SCAN]
            for s in sentences(self.retriever.index.chunks[row].text)
        )

    def ask(
        self,
        question: str,
        scope: Scope,
        *,
        history: Sequence[str] = (),
        k: int | None = None,
        on_token: Callable[[str], None] | None = None,
        tracer: Tracer = NO_TRACE,
    ) -> Answer:
        """``tracer``: records each step (``assistant.answering.trace``)."""
        t0 = time.perf_counter()
        # what the caller may read at all (their groups, not their filters) decides which words
        # count as known: a word only restricted documents contain is not revealed
        readable = self.retriever.index.allowed_rows(Scope(scope.groups))
        with tracer.step("condense", {"question": question, "history": list(history)}) as out:
            # "What is PHI?" is asked as "What is protected health information (PHI)?", and is a
            # new question however short, as is one asking what a defined term means
            standalone = self.abbreviations().spelled_out(question, readable)
            if history and standalone == question and not self._defined(question, readable):
                condensed = self.condenser.condense(question, history)
                standalone = self.abbreviations().spelled_out(condensed, readable)
            # the PHI guard's placeholders are not searched for nor quoted by: "[NAME] (MRN
            # [MRN]) asked for her chart ..." is searched as "A patient asked for her chart ..."
            standalone = without_placeholders(standalone)
            out["standalone_question"] = standalone
        t1 = time.perf_counter()
        with tracer.step("retrieve", {"question": standalone, "k": k}) as out:
            retrieval = self.retriever.retrieve(standalone, scope, k)
            out["passages"] = [
                {"locator": p.chunk.locator, "doc_type": p.document.doc_type, "score": p.score}
                for p in retrieval.passages
            ]
        passages = [Passage.of(n, p) for n, p in enumerate(retrieval.passages, start=1)]
        timings = {"condense_ms": (t1 - t0) * 1000, **retrieval.timings}
        with tracer.step("decide", {"question": standalone}) as out:
            evidence = measure(
                retrieval,
                self.retriever.index.lexical,
                readable=readable,
                mentions=self.mentions(),
                generic=self.generic,
            )
            reason = decide(evidence, self.settings) if passages else "nothing was retrieved"
            out.update(abstain=bool(reason), reason=reason, best_dense=evidence.best_dense)
        answer = Answer(
            question=question,
            text="",
            citations=[],
            passages=passages,
            mode=self.answerer.mode,
            abstained=False,
            standalone_question=standalone,
            uncovered_terms=list(evidence.uncovered),
        )
        if reason:
            return self._abstain(answer, reason, on_token, timings, t0)
        chunks = {p.chunk.chunk_id: p.chunk for p in retrieval.passages}
        if self.comparer is not None and is_comparison(standalone):
            t2 = time.perf_counter()
            with tracer.step("compare", {"question": standalone}) as out:
                comparison = self.comparer.compare(standalone, scope)
                out["contracts"] = len(comparison.rows) if comparison is not None else 0
            timings["compare_ms"] = (time.perf_counter() - t2) * 1000
            if comparison is not None:
                return self._compared(answer, comparison, passages, chunks, on_token, timings, t0)
        # the rule paragraphs the policies and BAAs found cite, beside them for the answerer
        cited = followed(self.retriever.index, retrieval.passages, scope)
        beside = [Passage.of(len(passages) + n, p, follows=True) for n, p in enumerate(cited, 1)]
        chunks.update((p.chunk.chunk_id, p.chunk) for p in cited)
        t2 = time.perf_counter()
        with tracer.step("answer", {"question": standalone, "mode": self.answerer.mode}) as out:
            raw = self.answerer.answer(
                standalone,
                [*passages, *beside],
                retrieval.plan.expansion,
                chunks,
                on_token,
                asked_locators=retrieval.plan.locators,
            )
            out["text"] = raw
        timings["answer_ms"] = (time.perf_counter() - t2) * 1000
        if not raw.strip() or raw.strip().startswith("The documents I can search do not answer"):
            return self._abstain(
                answer, "the answerer found no supporting sentence", None, timings, t0
            )
        # cited [1], [2], ... in the order the answer cites them, not by retrieval rank
        raw, passages = renumber(raw, [*passages, *beside])
        quoted = set(markers(raw))
        passages = [p for p in passages if not p.follows or p.n in quoted]  # only those quoted
        answer.passages = passages
        with tracer.step("verify", {"text": raw}) as out:
            text, citations, notes = verify(raw, passages, chunks)
            out.update(citations=[c.locator for c in citations], notes=notes)
        if not citations:
            answer.notes = [*notes, "the answer cited no retrieved passage and was withheld"]
            answer.text = NO_VALID_CITATION
            answer.abstained = True
            answer.abstain_reason = "unverifiable answer"
        else:
            answer.text, answer.citations, answer.notes = text, citations, notes
            if answer.uncovered_terms:
                # the question's focus is in no document: say so before the closest passages
                said = _not_mentioned(answer.uncovered_terms).rstrip(".")
                answer.text = f"{said} in those words. The closest passages:\n\n{text}"
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        answer.timings = timings
        return answer

    def _compared(
        self,
        answer: Answer,
        comparison: Comparison,
        passages: list[Passage],
        chunks: dict[str, Chunk],
        on_token: Callable[[str], None] | None,
        timings: dict[str, float],
        t0: float,
    ) -> Answer:
        """The per-contract table, then what the organisation's other documents and the rule
        say (a policy's exception register, the rule's floor), each quote cited."""
        assert self.comparer is not None
        numbered = list(comparison.passages)
        others = [p for p in passages if p.doc_type != "baa"]
        for p in others:
            numbered.append(replace(p, n=len(numbered) + 1))
        every_chunk = {**chunks, **comparison.chunks}
        text = comparison.text
        extra = numbered[len(comparison.passages) :]
        ranked = self.comparer.quoter.rank(answer.standalone_question, extra, (), every_chunk)
        if ranked:
            lines = ["Also in your other documents:"]
            seen: set[int] = set()
            for c in ranked:
                if c.score < 0.6 * ranked[0].score or len(seen) >= 2 or c.passage.n in seen:
                    continue
                seen.add(c.passage.n)
                locator, quote = quote_of(c, every_chunk)
                lines.append(f"- {locator}: \u201c{quote}\u201d [{c.passage.n}]")
            text += "\n\n" + "\n".join(lines)
        # cited [1], [2], ... in order of appearance: the rows keep theirs, the other documents'
        # quotes follow them ([5], [6], not [5], [9] by retrieval rank)
        text, numbered = renumber(text, numbered)
        if on_token is not None:
            on_token(text)
        answer.passages = numbered
        answer.text, answer.citations, answer.notes = verify(text, numbered, every_chunk)
        n_of = {p.chunk_id: p.n for p in numbered}
        answer.comparison = [
            replace(r, n=n_of[r.chunk_id]) if r.stated else r for r in comparison.rows
        ]
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        answer.timings = timings
        return answer

    def _abstain(
        self,
        answer: Answer,
        reason: str,
        on_token: Callable[[str], None] | None,
        timings: dict[str, float],
        t0: float,
    ) -> Answer:
        answer.text = ABSTAIN_TEXT
        if answer.uncovered_terms:
            answer.text = f"{_not_mentioned(answer.uncovered_terms)} {ABSTAIN_TEXT}"
        answer.abstained = True
        answer.abstain_reason = reason
        if on_token is not None:
            on_token(answer.text)
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        answer.timings = timings
        return answer


def _not_mentioned(terms: Sequence[str]) -> str:
    return f"None of the documents you can read mentions {listed(terms)}."
