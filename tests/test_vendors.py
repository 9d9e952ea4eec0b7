"""How a question names a vendor: by name, by a word of its name, or by what it does."""

from __future__ import annotations

from assistant.retrieval.vendors import described_vendors, descriptors, name_aliases

OPENINGS = {
    "Tessellate": "This Agreement between Lakemont and Tessellate Health Analytics, Inc. takes "
    "effect on the Effective Date. Tessellate provides population-health analytics and a 30-day "
    "readmission risk model for Lakemont care managers.",
    "Meridian Imaging": "This Agreement between Lakemont and Meridian Imaging AI, LLC takes "
    "effect on the Effective Date. Meridian provides radiology AI triage software that flags "
    "urgent studies.",
    "Acme Scribe": "This Agreement between Lakemont and Acme Scribe, Inc. takes effect on the "
    "Effective Date. Acme Scribe provides an ambient AI documentation service that drafts notes.",
}


def test_a_vendor_is_named_by_what_its_agreement_says_it_does() -> None:
    described = descriptors(OPENINGS)
    assert described_vendors(
        "What's the latest the readmission-risk vendor can tell us about a breach?", described
    ) == ["Tessellate"]
    assert described_vendors("Can the radiology AI company keep our scans?", described) == [
        "Meridian Imaging"
    ]
    assert described_vendors("Does our ambient documentation vendor record audio?", described) == [
        "Acme Scribe"
    ]
    # words every agreement shares, or that name no one in particular, name nobody
    assert described_vendors("Can the AI vendor keep our data?", described) == []
    assert described_vendors("Does the effective-date vendor have to notify us?", described) == []
    assert described_vendors("If our model vendor leaks data, what then?", described) == []
    # what a vendor does counts only where the question speaks of a vendor
    assert described_vendors("Can we use a readmission risk model for patients?", described) == []


def test_a_vendor_is_named_by_its_name_or_a_word_only_its_name_has() -> None:
    aliases = name_aliases(["Acme Scribe", "Meridian Imaging", "Acme Health"])
    assert aliases["acme scribe"] == "Acme Scribe"
    assert aliases["scribe"] == "Acme Scribe"
    assert aliases["imaging"] == "Meridian Imaging"
    assert "acme" not in aliases  # two vendors' names share it
    assert "health" not in aliases  # names no one in particular
