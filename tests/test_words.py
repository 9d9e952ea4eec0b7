"""The word lists are data (core/words.yaml): each one the code reads is there, each one
there is read, and none holds a word twice (a repeated word is a sign of a list edited blind)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from core.words import WORDS_FILE, word_list

ROOT = Path(__file__).resolve().parent.parent


def _read_by_code() -> set[str]:
    calls = re.compile(r"""word_list\(\s*["']([a-z_]+)["']\s*\)""")
    return {
        name
        for folder in ("core", "ingest", "assistant")
        for path in (ROOT / folder).rglob("*.py")
        for name in calls.findall(path.read_text(encoding="utf-8"))
    }


def test_every_list_the_code_reads_is_there_and_every_list_is_read() -> None:
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    assert set(data) == _read_by_code()
    for name, words in data.items():
        listed = str(words).split()
        repeated = sorted({w for w in listed if listed.count(w) > 1})
        assert not repeated, f"{name}: {repeated} twice"
        assert word_list(name) == frozenset(listed) and listed


def test_an_unknown_list_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="no word list 'nonesuch'"):
        word_list("nonesuch")


def test_the_organisations_own_name_is_generic_from_its_terms_file(tmp_path: Path) -> None:
    from assistant.checks.run import name_words, organisation_of
    from core.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings(paths={"data_dir": tmp_path / "data", "corpus_dirs": [corpus]})
    assert organisation_of(settings) == "" and name_words("") == frozenset()
    (corpus / "baa-terms.yaml").write_text(
        "catalog: organisation-terms\norganisation: Saguaro Community Health Plan\n",
        encoding="utf-8",
    )
    assert organisation_of(settings) == "Saguaro Community Health Plan"
    assert name_words(organisation_of(settings)) == {"saguaro"}
    (corpus / "baa-terms.yaml").write_text("organisation: [unclosed\n", encoding="utf-8")
    assert organisation_of(settings) == ""  # the BAA check reports a broken terms file
    assert "lakemont" not in word_list("generic")  # no organisation's name in the code's lists


def test_the_chain_and_its_comparisons_read_the_organisations_name(tmp_path: Path) -> None:
    from assistant.runtime.build import build_chain
    from tests.conftest import index_org_corpus

    settings, index = index_org_corpus(tmp_path / "data")  # the bundled corpus: Lakemont
    chain = build_chain(settings, index)
    assert "lakemont" in chain.generic and word_list("generic") < chain.generic
    assert chain.comparer is not None and chain.comparer.generic == chain.generic


def test_the_parts_a_question_asks_for_are_read_in_order() -> None:
    from assistant.answering.asked_parts import asked_parts

    def names(question: str) -> list[str]:
        return [part.name for part in asked_parts(question)]

    assert names("How long do I have to sign off, and what happens if I miss it?") == [
        "time",
        "consequence",
    ]
    assert names("Is there a ceiling on what the vendor has to pay us?") == ["money"]
    assert names("Who makes the final call, and how long does it take?") == ["who", "time"]
    assert names("Can I paste a discharge summary into a chatbot?") == ["permission"]
    assert names("New hire here. Do I have to finish the course, and by when?") == [
        "permission",
        "time",
    ]
    # "do I need to" inside a question asking for something else asks no permission
    assert names("What score do I need to pass the quiz?") == ["number"]
    assert names("Will it still exist, and what do I need to do with it?") == []
    allowed = asked_parts("Is it OK to text a patient?")[0]
    assert allowed.says("Standard text messages (SMS) may not be used for PHI.")
    assert allowed.says("No. A discharge summary is PHI.")
    assert not allowed.says("Appointment reminders by text contain no clinical details.")
    parts = {part.name: part for part in asked_parts("How long, who pays, what happens if not?")}
    assert parts["time"].says("It is reviewed within 10 Business Days.")
    assert not parts["time"].says("It is reviewed by the Privacy Office.")
    assert parts["money"].says("The first request in any 12-month period is free.")
    assert parts["who"].says("The Chief Privacy Officer decides.")


def test_a_number_is_asked_for_and_stated_as_a_figure_not_as_a_citation() -> None:
    from assistant.answering.asked_parts import asked_parts

    assert [p.name for p in asked_parts("What is the minimum retention period?")] == ["number"]
    # "minimum necessary" is a standard, not a figure
    assert asked_parts("What is the minimum necessary rule?") == []
    number = asked_parts("How many characters must a password have?")[0]
    assert number.says("Passwords have at least 12 characters (45 CFR 164.308(a)(5)(ii)(D)).")
    assert number.says("within ten (10) days")
    assert not number.says(
        "(2) Minimum necessary does not apply. This requirement does not apply to: (i) "
        "Disclosures under 45 CFR 164.502(a)(1), Parts 160 and 164 or § 164.530."
    )
    time = asked_parts("How fast?")[0]
    assert time.says("Notice is given within ten (10) Business Days after discovery.")
