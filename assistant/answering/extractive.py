"""The offline answerer: quotes the sentences of the retrieved passages that best answer the
question, each with its ``[n]`` citation. It says nothing that is not in a cited passage: every
statement is a verbatim sentence of the passage it cites, under a heading naming its source."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from assistant.answering.answer_kinds import asked_kinds
from assistant.answering.asked_parts import asked_parts
from assistant.answering.definitions import defined_terms, defines
from assistant.answering.text import Sentence, content_terms, sentences, stem5
from assistant.answering.types import Passage
from assistant.retrieval.query import find_cfr_locators
from core.documents import DOC_TYPE_NAMES, Chunk
from core.locators import inside
from core.settings import AnswerSettings
from core.words import word_list

_GROUP_ORDER = ("baa", "policy", "rule", "guidance")
# How much a sentence's share of the vocabulary bridge's words counts beside its share of the
# question's own: the bridge's words for "how fast" ("business days", "discovery") are in many
# sentences that do not answer. 0.35 before; 0.15 measured on development questions only
# (CHANGELOG.md, 2026-12-06).
BRIDGE_WEIGHT = 0.15
# What a sentence that defines the term a question asks about ("What is a business associate?")
# gains: more than a first place in retrieval and a long sentence's penalty together (0.35).
DEFINITION_BONUS = 0.5
_OWN_KINDS = frozenset({"baa", "policy"})  # the organisation's own documents, written section by
# section on one subject each (the rule's paragraphs and the guidance range wider)
_NORMATIVE = re.compile(
    r"\b(must|shall|may not|must not|required|prohibit\w*|may|within \d+|no later than|"
    r"only|never|not permitted|is permitted)\b",
    re.I,
)
# A unit that ends a sentence or a list item ("...; or" in the rules' lists), not a fragment.
_COMPLETE = re.compile(r"(?:[.;)]|;\s+(?:or|and))$")
_LEADING_DESIGNATORS = re.compile(r"^(?:\([0-9a-zA-Z]{1,4}\)\s*)+")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a passage that could be quoted, and how well it answers the question."""

    passage: Passage
    sentence: Sentence
    score: float
    hit: float = 0.0  # the share of the question's words (weighted by rarity) it contains
    named: bool = False  # it is in the paragraph the question names by locator
    shared: int = 0  # how many of the question's distinct words it contains
    about: int = 0  # how many its passage (text and headings) contains

    def relevant(self, q_words: int) -> bool:
        """Whether it is about the question at all: it shares two of the question's words (one,
        for a question of one or two; a word of the vocabulary bridge counts once), or is in the
        paragraph the question names, or is in a section of the organisation's own policy or
        contract that shares two of them (its headings included: "The Plan responds within 30
        calendar days" under "Member Requests for Their Records"). One shared word is how a rule
        about members leaving the Armed Forces ("discharge") gets quoted for a question about
        discharge summaries, so the rule's paragraphs are judged sentence by sentence."""
        if self.named or self.shared >= min(2, q_words):
            return True
        return self.passage.doc_type in _OWN_KINDS and self.about >= min(2, q_words)


class ExtractiveAnswerer:
    mode = "extractive"

    def __init__(
        self,
        settings: AnswerSettings,
        idf: Callable[[str], float],
        known: Callable[[str], bool] = lambda term: True,
    ) -> None:
        """``known``: whether a word occurs in the indexed documents at all."""
        self.settings = settings
        self._idf = idf
        self._known = known

    def _score(
        self, sent: str, q_terms: set[str], x_terms: set[str], rank: int
    ) -> tuple[float, float]:
        """(score, hit): hit is the rarity-weighted share of the question's words in ``sent``."""
        terms = content_terms(sent)
        if not terms:
            return 0.0, 0.0
        q_weight = sum(self._idf(t) for t in q_terms) or 1.0
        hit = sum(self._idf(t) for t in q_terms & terms) / q_weight
        bridge = len(x_terms & terms) / len(x_terms) if x_terms else 0.0
        prior = 1.0 / (1.0 + 0.5 * rank)
        normative = 0.1 if _NORMATIVE.search(sent) else 0.0
        length = 0.0 if 8 <= len(sent.split()) <= 80 else -0.15
        return hit + BRIDGE_WEIGHT * bridge + 0.3 * prior + normative + length, hit

    def share(self, words: Iterable[str], question: str) -> float:
        """The rarity-weighted share of ``question``'s words that are among ``words`` (as the
        question's words are read: "deadlines" as "deadlin")."""
        q_terms = content_terms(question)
        total = sum(self._idf(t) for t in q_terms)
        wanted = content_terms(" ".join(words))
        return sum(self._idf(t) for t in q_terms & wanted) / total if total else 0.0

    def distinctive(self, question: str, filler: frozenset[str] = frozenset()) -> set[str]:
        """The question's words that the documents contain, leaving out ``filler`` ("anyone",
        "get", "much", "over")."""
        return {t for t in content_terms(question) - filler if self._known(t)}

    def rank(
        self,
        question: str,
        passages: Sequence[Passage],
        expansion: Sequence[str],
        chunks: dict[str, Chunk],
        asked_locators: Sequence[str] = (),
    ) -> list[Candidate]:
        """Every quotable sentence of the first ``max_passages_used`` passages, best first."""
        q_terms = content_terms(question)
        x_terms = content_terms(" ".join(expansion)) - q_terms
        asked = list(asked_locators)
        when = bool(ASKS_TIME.search(question))
        terms = defined_terms(question)  # "What is a business associate?": its definition
        retrieved = [p for p in passages if not p.follows]
        used = retrieved[: self.settings.max_passages_used] + [p for p in passages if p.follows]
        candidates: list[Candidate] = []
        for rank, passage in enumerate(used):
            chunk = chunks.get(passage.chunk_id)
            about = _shared(
                q_terms, x_terms, content_terms(" ".join((*passage.heading_path, passage.text)))
            )
            for sent in _units(passage.text):
                words = len(sent.text.split())
                if words < 6 or not _COMPLETE.search(sent.text):
                    continue  # headings, questions, lead-ins without their list, fragments
                score, hit = self._score(sent.text, q_terms, x_terms, rank)
                shared = _shared(q_terms, x_terms, content_terms(sent.text))
                if when and _DURATION.search(sent.text):
                    score += 0.15  # "How fast ...?" is answered by a sentence with a time limit
                if any(defines(term, sent.text) for term in terms):
                    score += DEFINITION_BONUS
                if _LIST_ITEM.match(sent.text) and _after_lead_in(passage.text, sent.start):
                    score -= 0.1  # a list item reads better quoted with its lead-in
                named = False
                if asked and chunk is not None:
                    here = chunk.locator_at(sent.start)
                    named = any(inside(here, a) for a in asked)
                    if named:
                        score += 1.0  # the paragraph the question names
                candidates.append(Candidate(passage, sent, score, hit, named, shared, about))
        candidates.sort(key=lambda c: -c.score)
        return candidates

    def answer(
        self,
        question: str,
        passages: Sequence[Passage],
        expansion: Sequence[str],
        chunks: dict[str, Chunk],
        on_token: Callable[[str], None] | None = None,
        asked_locators: Sequence[str] = (),
    ) -> str:
        figures = asked_kinds(question)  # "How much ...": the sentences that state an amount
        ranked = self.rank(question, passages, expansion, chunks, asked_locators)
        # a rule paragraph given only because a policy or BAA cites it is quoted only beside a
        # sentence that cites it (below)
        candidates = [c for c in ranked if not c.passage.follows]
        # a "Yes, ..." or "No. ..." answers the question its passage was written for: quoted for
        # another one ("Can I email a discharge summary to another hospital?" answered "Yes, you
        # may use Lakemont Assist with PHI ..."), it reads as this question's verdict
        keys = stem5(self.distinctive(question, word_list("generic") | word_list("function_words")))
        candidates = [c for c in candidates if not _verdict_elsewhere(c.sentence.text, keys)]
        if not candidates:
            return ""
        best = candidates[0].score
        # "How much ...?" is answered by a sentence that states an amount: the best such sentence
        # leads when it is anywhere near the best.
        stating = [c for c in candidates if any(k.stated.search(c.sentence.text) for k in figures)]
        lead = stating[0] if stating and stating[0].score >= 0.5 * best else candidates[0]
        chosen: list[Candidate] = [lead]
        q_words = len(content_terms(question))

        covered = stem5(content_terms(lead.sentence.text))
        q_stems = stem5(content_terms(question))

        def take(c: Candidate) -> bool:
            # every quote after the lead must be about the question, the rule's too
            if c in chosen or len(chosen) >= self.settings.max_sentences:
                return False
            if not c.relevant(q_words) or any(_overlap(c, o) for o in chosen):
                return False
            chosen.append(c)
            covered.update(stem5(content_terms(c.sentence.text)))
            return True

        # Each part the question asks for ("How long ..., and what happens if I miss it?": a
        # time, then a consequence) gets a sentence that says it, when one is about the question
        # and not far below the best.
        parts = asked_parts(question)
        for part in parts:
            if any(part.says(o.sentence.text) for o in chosen):
                continue
            saying = (c for c in candidates if c.score >= 0.3 * best and part.says(c.sentence.text))
            any(take(c) for c in saying)  # the first that may be quoted
        # Say what each kind of source says: the organisation's documents and the rule, when both
        # were retrieved (a policy or BAA may set a stricter term than the rule).
        for kind in _GROUP_ORDER:
            if any(c.passage.doc_type == kind for c in chosen):
                continue
            of_kind = [c for c in candidates if c.passage.doc_type == kind and c.relevant(q_words)]
            if of_kind and of_kind[0].score >= 0.3 * best:
                take(of_kind[0])
        # Then the next best sentences while they stay close to the best: one per passage, or
        # another of the same passage when it says what the question asks that those chosen do
        # not ("How long do we have, and can we charge her?": the deadline and the fee), or when
        # it is nearly as good as the best (the cap after an indemnity, the next tier's row)
        for c in candidates:
            if c.score < 0.6 * best or len(chosen) >= self.settings.max_sentences:
                break
            new_passage = all(c.passage.n != o.passage.n for o in chosen)
            adds = (stem5(content_terms(c.sentence.text)) & q_stems) - covered
            if new_passage or adds or c.score >= 0.7 * best:
                take(c)
        # The answer opens with the quote that says most of what is asked, the best of them
        # first, among those at least half as good as the best (a rule paragraph that only
        # starts with "If ..." does not open an answer to "what happens if ...?"); a question
        # that names a paragraph ("What does 45 CFR 164.312(a)(2)(iv) require?") is answered
        # from that paragraph first.
        opening = lead
        if not lead.named:
            strong = [c for c in chosen if c is lead or c.score >= 0.5 * best]
            opening = max(
                strong, key=lambda c: (sum(p.says(c.sentence.text) for p in parts), c.score)
            )
        _follow_citations(chosen, ranked, chunks, opening, self.settings.max_sentences, q_stems)
        text = _compose(chosen, chunks, opening)
        if on_token is not None:
            for piece in re.split(r"(\s+)", text):
                if piece:
                    on_token(piece)
        return text


def _follow_citations(
    chosen: list[Candidate],
    ranked: Sequence[Candidate],
    chunks: dict[str, Chunk],
    opening: Candidate,
    limit: int,
    q_stems: set[str],
) -> None:
    """When the opening quote's passage has a quoted policy or BAA sentence that cites a
    paragraph of the rule ("... (45 CFR 164.308(a)(3)(ii)(C))"), the rule is quoted from that
    paragraph: its best sentence replaces the rule quotes chosen only for sharing words with the
    question (not the opening quote, nor a paragraph the question names). Another passage's
    citation is not followed: a breach-notice section quoted for its deadline beside a
    records-request question would push out the rule on records requests. Nor is a sentence
    with none of the question's words (``q_stems``): a contract clause's passing "not a
    Subcontractor under 45 CFR 160.103" does not put a definition in place of the rule on
    returning PHI when the contract ends."""
    cites = [
        cited
        for o in chosen
        if o.passage.doc_type in _OWN_KINDS and o.passage.n == opening.passage.n
        for cited in find_cfr_locators(o.sentence.text)
    ]
    if not cites:
        return

    def cited_here(c: Candidate) -> bool:
        chunk = chunks.get(c.passage.chunk_id)
        here = chunk.locator_at(c.sentence.start) if chunk else c.passage.locator
        return any(inside(here, cited) for cited in cites)

    following = [
        c
        for c in ranked
        if c.passage.doc_type == "rule"
        and cited_here(c)
        and stem5(content_terms(c.sentence.text)) & q_stems
    ]
    if not following or any(c in chosen for c in following):
        return
    for o in [o for o in chosen if o.passage.doc_type == "rule" and o is not opening]:
        if not o.named:
            chosen.remove(o)
    if len(chosen) < limit and not any(_overlap(following[0], o) for o in chosen):
        chosen.append(following[0])


def quote_of(c: Candidate, chunks: dict[str, Chunk]) -> tuple[str, str]:
    """(locator, quote): the sentence as quoted, and the most specific locator holding it."""
    quote = _LEADING_DESIGNATORS.sub("", c.sentence.text.lstrip("-*\u2022 ")).strip()
    chunk = chunks.get(c.passage.chunk_id)
    locator = chunk.locator_at(c.sentence.start) if chunk else c.passage.locator
    return locator, quote


def _compose(chosen: list[Candidate], chunks: dict[str, Chunk], opening: Candidate) -> str:
    """The quotes under a heading per kind of source: the opening quote's kind first, the opening
    quote first within it, then the rest of its passage and the other passages, each in the
    order of its text."""
    groups: dict[str, list[Candidate]] = {}
    for c in chosen:
        groups.setdefault(c.passage.doc_type, []).append(c)
    blocks = []
    first = opening.passage.doc_type
    order = sorted(_GROUP_ORDER, key=lambda kind: kind != first)  # stable: the rest as usual
    for kind in order:
        items = groups.get(kind)
        if not items:
            continue
        items.sort(
            key=lambda c: (
                c is not opening,
                c.passage.n != opening.passage.n,
                c.passage.n,
                c.sentence.start,
            )
        )
        lines = [f"{DOC_TYPE_NAMES[kind].group}:"]
        for c in items:
            locator, quote = quote_of(c, chunks)
            lines.append(f"- {locator}: \u201c{quote}\u201d [{c.passage.n}]")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# A question asking for a time ("how fast", "how long", "when must", "what is the deadline") and a
# sentence that states one ("within 4 hours", "30 calendar days", "every 12 months").
ASKS_TIME = re.compile(
    r"\bhow\s+(?:long|fast|quickly|soon|often|many\s+(?:days|hours|weeks|months|years))\b"
    r"|\bdeadlines?\b|\btime\s*(?:limits?|frames?)\b|\bwithin\s+how\b|\bby\s+when\b"
    r"|\bhow\s+much\s+time\b|^\s*when\b",
    re.I,
)
_DURATION = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|seven|ten|fifteen|thirty|sixty|ninety)\s*[-\s]?"
    r"(?:business\s+|calendar\s+|working\s+)?(?:minutes?|hours?|days?|weeks?|months?|years?)\b"
    r"|\bend of the (?:last )?(?:working |business )?day\b|\bimmediately\b",
    re.I,
)


def _overlap(a: Candidate, b: Candidate) -> bool:
    """Whether two units quote the same words (a verdict unit and its sentence, a list and its
    items)."""
    same = a.passage.n == b.passage.n
    return same and a.sentence.start < b.sentence.end and b.sentence.start < a.sentence.end


def _shared(q_terms: set[str], x_terms: set[str], terms: set[str]) -> int:
    """The question's words a sentence has (compared by their first five letters: encrypting,
    encryption), plus one when it has a word the vocabulary bridge adds (the rule's word for the
    asker's: "business associate" for "vendor")."""
    have = stem5(terms)
    return len(stem5(q_terms) & have) + (1 if stem5(x_terms) & have else 0)


def idf_lookup(table: dict[str, float]) -> Callable[[str], float]:
    default = max(table.values(), default=1.0)
    return lambda term: table.get(term, default) if table else 1.0


_LIST_ITEM = re.compile(r"^(?:[-*\u2022]\s|\([0-9a-zA-Z]{1,4}\)\s)")
_MAX_UNIT_WORDS = 140


def _after_lead_in(text: str, start: int) -> bool:
    """Whether the line before ``start`` introduces a list (ends with a colon)."""
    before = text[:start].rstrip("\n")
    previous = before.rsplit("\n", 1)[-1] if "\n" in before else ""
    return previous.rstrip().endswith(":") or bool(_LIST_ITEM.match(previous.strip()))


def _units(text: str) -> list[Sentence]:
    """Sentences of a passage, plus each lead-in line ("... the following identifiers:") joined
    with the list items on the lines after it, so a list can be quoted with what introduces it."""
    out: list[Sentence] = []
    lines: list[tuple[str, int]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((line, pos))
        pos += len(line) + 1
    i = 0
    while i < len(lines):
        line, start = lines[i]
        if line.rstrip().endswith(":"):
            j, joined, end = i + 1, line.strip(), start + len(line)
            while j < len(lines) and _LIST_ITEM.match(lines[j][0].strip()):
                candidate = f"{joined} {lines[j][0].strip()}"
                if len(candidate.split()) > _MAX_UNIT_WORDS:
                    break
                joined, end = candidate, lines[j][1] + len(lines[j][0])
                j += 1
            if j > i + 1:
                out.append(Sentence(joined, start, end))
        out.extend(_with_verdicts(line, start))
        i += 1
    return out


# A bare answer that opens a passage ("No.", "Yes, with the right tool."): quoted with the
# sentence after it, so the answer leads with its verdict ("No. A discharge summary ... is PHI.")
_VERDICT = re.compile(
    r"^(?:No|Yes|Never|Not\s+without\b[^.!]*|Only\b[^.!]*)[,\s]?[^.!?]{0,40}[.!]$"
)


def _with_verdicts(line: str, start: int) -> list[Sentence]:
    found = sentences(line)
    out: list[Sentence] = []
    for k, s in enumerate(found):
        if k + 1 < len(found) and len(s.text.split()) < 6 and _VERDICT.match(s.text):
            following = found[k + 1]
            out.append(
                Sentence(line[s.start : following.end], start + s.start, start + following.end)
            )
        out.append(Sentence(s.text, start + s.start, start + s.end))
    return out


_VERDICT_WORD = re.compile(r"^(?:Yes|No)\s*[.,;:!]")
_BRACKETED = re.compile(r"\([^()]*\)")  # "(a note, a dated lab result, ...)": examples


def _verdict_elsewhere(text: str, keys: set[str]) -> bool:
    """Whether ``text`` is a verdict ("Yes, ...", "No. ...") whose own words, before any list
    it introduces and outside its examples in brackets, share none of the question's distinctive
    words (``keys``, by their first five letters): a verdict on something else. "No. A discharge
    summary, or any part of a medical record (a note, a dated lab result, ...), is PHI" is not a
    verdict on texting a patient their lab results."""
    if not _VERDICT_WORD.match(text):
        return False
    lead_in = _BRACKETED.sub(" ", text.split(":", 1)[0])
    return not (stem5(content_terms(lead_in)) & keys)
