"""Policies named by their title in a question (assistant/retrieval/titles.py)."""

from __future__ import annotations

from assistant.retrieval.titles import title_words, titled_documents

TITLES = title_words(
    {
        "AI-301": "Acceptable Use of Generative AI Tools",
        "AI-310": "AI Vendor Assessment and Business Associate Agreement Requirements",
        "HR-501": "HIPAA and AI Workforce Training and Sanctions",
        "PRV-101": "Uses and Disclosures of PHI and the Minimum Necessary Standard",
        "REC-401": "Retention and Disposal of PHI and AI Artifacts",
        "SEC-210": "Encryption and Transmission Security",
        "SEC-230": "Security Incident Response and Breach Notification",
    }
)


def named(question: str) -> list[str]:
    return titled_documents(question, TITLES)


def test_the_words_before_policy_name_the_policy_whose_title_has_them() -> None:
    assert named("Which HIPAA requirements does our encryption policy implement?") == ["SEC-210"]
    assert named("What is the uses and disclosures policy meant to cover?") == ["PRV-101"]
    assert named("What happens if I break the minimum necessary policy?") == ["PRV-101"]
    assert named("Where does the incident response policy say to report it?") == ["SEC-230"]
    assert named("What does our policy on retention of prompts say?") == ["REC-401"]
    assert named("Who enforces the sanctions policy?") == ["HR-501"]


def test_words_only_near_policy_count() -> None:
    # "requirements" is in a title but stands before "does our", not before "policy"
    assert named("Which federal requirements does our encryption policy implement?") == ["SEC-210"]
    assert named("Is accepting click-through terms for an AI tool a policy violation?") == []
    # one a covered entity must have, not necessarily ours
    assert named("Does HIPAA require a sanctions policy?") == []
    assert named("Is there a policy on retention of prompts?") == []


def test_no_policy_is_named_by_a_word_every_title_shares_or_by_a_tie() -> None:
    assert named("Does the AI policy allow this?") == []  # "AI": a word any question has
    assert named("Does our HIPAA policy allow this?") == []  # likewise, though in one title
    assert named("Does the security policy allow this?") == []  # two titles, one word each
    assert named("Can I paste a discharge summary into ChatGPT?") == []
    assert titled_documents("our encryption policy", {}) == []
