"""The PHI guard: each identifier kind, regulation text left alone, modes, notice, speed, and the
synthetic test sets (evals/phi) held to their targets."""

from __future__ import annotations

import importlib.util
import itertools
import logging
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from assistant.safety import KINDS, Finding, GuardResult, PhiGuard
from assistant.safety.phi_vocabulary import DEFAULT_PHI_VOCABULARY, PhiVocabulary
from assistant.safety.placeholders import without_placeholders
from core.errors import ConfigError
from core.settings import PhiSettings, Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def guard() -> PhiGuard:
    return PhiGuard(PhiSettings())


def found(guard: PhiGuard, text: str) -> dict[str, str]:
    """{identifier text: kind} of the findings in ``text``."""
    return {text[f.start : f.end]: f.kind for f in guard.check(text).findings}


@pytest.mark.parametrize(
    ("text", "identifier", "kind"),
    [
        ("Can I paste Mrs. Jane Roe's discharge summary into ChatGPT?", "Jane Roe", "name"),
        ("My patient Maria Garcia's daughter called.", "Maria Garcia", "name"),
        ("A patient named Kwabena asked for a copy.", "Kwabena", "name"),
        ("Jane Roe (DOB 3/4/1961) asked for her records.", "Jane Roe", "name"),
        ("mrn 9920114 for jose morales is wrong", "jose morales", "name"),
        ("Pt: LIU, WEI  DOB: 08/30/1977", "LIU, WEI", "name"),
        ("Dr. Ayesha Siddiqui sent the referral.", "Ayesha Siddiqui", "name"),
        ("Can I email Kwame Mensah's results?", "Kwame Mensah", "name"),
        ("She lives at 4417 N. Elm Ave, Apt 3B.", "4417 N. Elm Ave", "geographic"),
        ("Her address is Springfield, IL 62704.", "62704", "geographic"),
        ("Her address is Springfield, IL 62704.", "Springfield", "geographic"),
        ("The patient lives in Bakersfield and works nights.", "Bakersfield", "geographic"),
        ("Is ZIP 02139 enough to identify her?", "02139", "geographic"),
        ("DOB 3/4/1961", "3/4/1961", "date"),
        ("born 1961-03-04", "1961-03-04", "date"),
        ("admitted March 4, 1961 to the ICU", "March 4, 1961", "date"),
        ("seen 4 Mar 2024 for a fall", "4 Mar 2024", "date"),
        ("a 93-year-old patient from out of town", "93-year-old", "date"),
        ("call her at 555-123-4567", "555-123-4567", "phone"),
        ("call her at (555) 123-4567", "(555) 123-4567", "phone"),
        ("call her at +1 555 123 4567", "+1 555 123 4567", "phone"),
        ("send it to fax number 212-555-0100", "212-555-0100", "fax"),
        ("email jroe61@gmail.com the results", "jroe61@gmail.com", "email"),
        ("SSN 123-45-6789 on the form", "123-45-6789", "ssn"),
        ("MRN 448812", "448812", "mrn"),
        ("MRN: 00293847", "00293847", "mrn"),
        ("medical record number A-558201", "A-558201", "mrn"),
        ("member ID XJH884512397 for the prior auth", "XJH884512397", "health_plan_id"),
        ("Medicare number 1EG4-TE5-MK73", "1EG4-TE5-MK73", "health_plan_id"),
        ("acct #88213-4 was billed twice", "88213-4", "account"),
        ("driver's license D1234567 on file", "D1234567", "license"),
        ("VIN 1HGCM82633A004352 in the trauma note", "1HGCM82633A004352", "vehicle"),
        ("license plate 7ABC123 in the camera log", "7ABC123", "vehicle"),
        ("pacemaker serial number PJN204118H", "PJN204118H", "device"),
        ("MAC address 00:1A:2B:3C:4D:5E in the logs", "00:1A:2B:3C:4D:5E", "device"),
        ("posted at https://www.facebook.com/jane.roe.77 yesterday", None, "url"),
        ("login from 73.162.44.201 at night", "73.162.44.201", "ip"),
        ("stored 2001:db8:85a3::8a2e:370:7334 per visit", "2001:db8:85a3::8a2e:370:7334", "ip"),
        ("the fingerprint template FP-2231-88 from the clock", "FP-2231-88", "biometric"),
        ("can I text photo IMG_4821.jpg to the dermatologist", "IMG_4821.jpg", "photo"),
        ("claim number 8812003471 in the ticket", "8812003471", "other_id"),
    ],
)
def test_each_kind_is_found(guard: PhiGuard, text: str, identifier: str | None, kind: str) -> None:
    identifier = identifier or "https://www.facebook.com/jane.roe.77"
    result = guard.check(text)
    assert found(guard, text).get(identifier) == kind, found(guard, text)
    assert identifier not in result.text
    assert KINDS[kind].label in result.text


def test_every_kind_has_a_unit_case() -> None:
    covered = {"name", "geographic", "date", "phone", "fax", "email", "ssn", "mrn"}
    covered |= {"health_plan_id", "account", "license", "vehicle", "device", "url", "ip"}
    covered |= {"biometric", "photo", "other_id"}
    assert covered == set(KINDS) and len(KINDS) == 18


@pytest.mark.parametrize(
    "text",
    [
        "What does 45 CFR 164.514(b)(2)(i) list as identifiers?",
        "Under § 164.308(a)(1)(ii)(A), how often is the risk analysis redone?",
        "Does AI-301 §3.2 allow drafting policies with ChatGPT?",
        "Is the maximum penalty still $50,000 per violation, or $1.5 million a year?",
        "Was the compliance date of April 14, 2003 extended for small health plans?",
        "Do we have 60 days to notify individuals after a breach?",
        "What changed with the 2013 Omnibus Rule, published in March 2013?",
        "Was the Omnibus Rule effective on March 26, 2013 with compliance by September 23, 2013?",
        "Can I call OCR at 1-800-368-1019 about a complaint?",
        "Is Pub. L. 104-191 the statute, and where is 78 FR 5566?",
        "What does 42 U.S.C. 1320d-6 say about wrongful disclosure?",
        "Does HITECH section 13402 require media notice for breaches over 500 residents?",
        "Does the Privacy Officer need a Business Associate Agreement with Acme Scribe?",
        "Can Lakemont Regional Health use Clarion AI, Meridian Imaging or Tessellate?",
        "May I use Microsoft Copilot, Google Gemini or Claude with no patient data?",
        "Does the Security Rule let the Patient Access API share records?",
        "Are ages over 89 identifiers, and can we use a category of age 90 or older?",
        "Is a three-digit ZIP code allowed if more than 20,000 people live there?",
        "Does SEC-210 require TLS 1.2 and FIPS 140-2 validated AES-256?",
        "What does version 3.1 (2026-03-01) of AI-301 change?",
        "Is there a 24/7 number for the Compliance Hotline?",
    ],
)
def test_regulation_language_passes_untouched(guard: PhiGuard, text: str) -> None:
    result = guard.check(text)
    assert result.findings == (), found(guard, text)
    assert result.text == text and result.notice == "" and not result.blocked


def test_redaction_and_notice(guard: PhiGuard) -> None:
    text = "Can I paste Mrs. Jane Roe's discharge summary, MRN 448812, DOB 3/4/1961 into ChatGPT?"
    result = guard.check(text)
    assert result.text == (
        "Can I paste Mrs. [NAME]'s discharge summary, MRN [MRN], DOB [DATE] into ChatGPT?"
    )
    assert result.kinds == ("date", "mrn", "name")
    assert not result.blocked
    assert result.notice == (
        "I removed a name, a medical record number and a date or age from your question before "
        "searching; please don't enter patient details."
    )


def test_notice_counts_and_single_kind(guard: PhiGuard) -> None:
    two = guard.check("Call 555-123-4567 or 555-987-6543 about the results.")
    assert two.notice.startswith("I removed phone numbers from your question")
    one = guard.check("Email jroe61@gmail.com the results.")
    assert one.notice.startswith("I removed an email address from your question")


def test_findings_are_ordered_and_disjoint(guard: PhiGuard) -> None:
    text = (
        "Patient John Smith, 12 Beacon Street, Boston, MA 02118, phone 617-555-0142, DOB 1/2/1950"
    )
    findings = guard.check(text).findings
    assert [f.start for f in findings] == sorted(f.start for f in findings)
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))
    assert {f.kind for f in findings} == {"name", "geographic", "phone", "date"}


def test_block_mode_refuses() -> None:
    guard = PhiGuard(PhiSettings(mode="block"))
    result = guard.check("Can I send patient John Smith's MRN 448812 to the vendor?")
    assert result.blocked
    assert result.kinds == ("mrn", "name")
    assert "John Smith" not in result.text and "448812" not in result.text
    assert result.notice == (
        "Your question seems to contain patient details (a name and a medical record number), "
        "so I did not search or send it anywhere; please ask again without them."
    )
    clean = guard.check("What does 45 CFR 164.502(e) require?")
    assert not clean.blocked and clean.notice == "" and clean.text.startswith("What")


def test_off_mode_passes_everything() -> None:
    guard = PhiGuard(PhiSettings(mode="off"))
    text = "Patient John Smith, MRN 448812"
    assert guard.check(text) == GuardResult(text=text, findings=(), blocked=False)
    assert guard.find(text)  # detection itself still works, e.g. for offline evaluation


def test_empty_and_odd_inputs(guard: PhiGuard) -> None:
    for text in ("", " ", "\x00\x01\x02", "???", "§", "$", "Mr.", "MRN", "Dr. ", "1/"):
        result = guard.check(text)
        assert result.text == text and result.findings == ()


def test_logs_never_hold_the_text(guard: PhiGuard, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    guard.check("Patient Maria Garcia, MRN 448812")
    assert caplog.records, "kinds are logged"
    assert all(
        "Garcia" not in r.getMessage() and "448812" not in r.getMessage() for r in caplog.records
    )


def test_settings_group() -> None:
    assert Settings().phi.mode == "redact"
    assert Settings.model_validate({"phi": {"mode": "block"}}).phi.mode == "block"
    with pytest.raises(ValueError):
        Settings.model_validate({"phi": {"mode": "warn"}})


def test_allow_terms_and_extra_names(tmp_path: Path) -> None:
    text = "Does Zorvath Quillon need a BAA before the pilot?"
    assert PhiGuard(PhiSettings()).check(text).findings == ()
    names = tmp_path / "names.txt"
    names.write_text("# regional names\nzorvath\nquillon\n", encoding="utf-8")
    assert PhiGuard(PhiSettings(extra_names_file=names)).check(text).kinds == ("name",)
    product = "Can patient Zorvath see the notes?"
    assert PhiGuard(PhiSettings()).check(product).kinds == ("name",)
    assert PhiGuard(PhiSettings(allow_terms=["Zorvath"])).check(product).findings == ()


def test_vocabulary_is_validated(tmp_path: Path) -> None:
    good = DEFAULT_PHI_VOCABULARY.read_text(encoding="utf-8")
    bad = tmp_path / "v.yaml"
    bad.write_text(good + "\nsurprise: [x]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown keys"):
        PhiVocabulary.load(bad)
    bad.write_text(good.replace("identifier_cues:\n", "identifier_cues:\n  zodiac: [sign]\n"))
    with pytest.raises(ConfigError, match="unknown kinds"):
        PhiVocabulary.load(bad)
    bad.write_text(good.replace('"no", "yes"', "no, yes"), encoding="utf-8")
    with pytest.raises(ConfigError, match="quote"):
        PhiVocabulary.load(bad)
    with pytest.raises(ConfigError):
        PhiVocabulary.load(tmp_path / "missing.yaml")


PATHOLOGICAL = [
    "a" * 100_000,
    "1" * 100_000,
    "\x00\x07\x1b" * 33_334,
    "Mr. " * 25_000,
    "1-" * 50_000,
    "a@" * 50_000,
    "a." * 50_000,
    "(555) " * 16_667,
    "Jane Roe " * 11_112,
    "Patient, " * 11_112,
    "1/2/" * 25_000,
    "12 Main " * 12_500,
    "https://" + "a/" * 49_996,
    "ab:" * 33_334,
    "A1" * 50_000,
    "MRN MRN " * 12_500,
    "§ 164.308(a)" * 8_334,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=lambda t: repr(t[:12]))
def test_pathological_input_is_linear(guard: PhiGuard, text: str) -> None:
    t0 = time.perf_counter()
    guard.check(text)
    assert time.perf_counter() - t0 < 5  # linear: ~0.4 s here; a backtracking blow-up takes hours


def test_typical_question_is_fast(guard: PhiGuard) -> None:
    text = "Can I paste Mrs. Jane Roe's discharge summary, MRN 448812, DOB 3/4/1961 into ChatGPT?"
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        guard.check(text)
        times.append(time.perf_counter() - t0)
    assert statistics.median(times) < 0.05  # ~1 ms here; generous for noisy machines


def _measure_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "measure_phi", ROOT / "scripts" / "measure_phi.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("measure_phi", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_synthetic_sets_meet_the_targets(guard: PhiGuard) -> None:
    """evals/phi: identifier recall >= 0.98 and false-positive rate <= 0.02, on each split."""
    m = _measure_script()
    identifiers, clean = m.load(m.IDENTIFIERS), m.load(m.CLEAN)
    assert len(identifiers) >= 200 and len(clean) >= 200
    assert {i["kind"] for item in identifiers for i in item["identifiers"]} == set(KINDS)
    tallies = m.measure(guard, identifiers, clean)
    for split in ("dev", "test", "all"):
        t = tallies[split]
        assert t.recall() >= 0.98, (split, t.misses)
        assert t.fp_rate <= 0.02, (split, t.false_positive_ids)


def test_detected_means_covered_and_gone() -> None:
    m = _measure_script()
    text = "MRN 448812 today"
    assert m.detected(text, "448812", (Finding("mrn", 4, 10),), "MRN [MRN] today") == "mrn"
    assert m.detected(text, "448812", (Finding("mrn", 4, 7),), "MRN [MRN]812 today") is None
    assert m.detected(text, "448812", (), text) is None


@pytest.mark.parametrize(
    ("text", "searched"),
    [
        (
            "[NAME], MRN [MRN], DOB [DATE] - can I send her visit notes to the AI scribe?",
            "can I send her visit notes to the AI scribe?",
        ),
        # a name that was the subject, an owner or a receiver leaves "a patient" in its place
        ("Mrs. [NAME] (MRN: [MRN]) asked for her records.", "A patient asked for her records."),
        (
            "[NAME] (MRN [MRN], born [DATE]) asked for her chart on a USB stick. Can we do that?",
            "A patient asked for her chart on a USB stick. Can we do that?",
        ),
        (
            "I need to send [NAME], MRN [MRN], DOB [DATE] his discharge summary by email",
            "I need to send a patient his discharge summary by email",
        ),
        (
            "I looked at [NAME]'s chart. Is that a violation?",
            "I looked at a patient's chart. Is that a violation?",
        ),
        (
            "Dr. [NAME] wants to paste notes into ChatGPT.",
            "A clinician wants to paste notes into ChatGPT.",
        ),
        ("My coworker [NAME] looked up her neighbor.", "My coworker looked up her neighbor."),
        ("Her D.O.B. [DATE] and record no. [MRN] are in the note.", "Her and are in the note."),
        ("Can I email [EMAIL] the results?", "Can I email the results?"),
        ("What does 164.312(a)(2)(iv) say?", "What does 164.312(a)(2)(iv) say?"),
        ("[NAME]", "[NAME]"),  # nothing else to search for: left as it is
    ],
)
def test_placeholders_and_their_labels_are_not_searched_for(text: str, searched: str) -> None:
    assert without_placeholders(text) == searched


def test_a_redacted_question_retrieves_what_the_plain_question_does(tmp_path: Path) -> None:
    from assistant.retrieval.retriever import HybridRetriever
    from assistant.retrieval.vocabulary import Vocabulary
    from core.index.reader import Scope
    from core.settings import RetrievalSettings
    from tests.conftest import index_org_corpus

    _, index = index_org_corpus(tmp_path / "data")
    retriever = HybridRetriever(index, RetrievalSettings(), Vocabulary.load())
    staff = Scope.for_groups({"staff"})
    plain = retriever.retrieve("can I send her visit notes to the AI scribe?", staff)
    redacted = retriever.retrieve(
        "[NAME], MRN [MRN], DOB [DATE] - can I send her visit notes to the AI scribe?", staff
    )
    assert [p.chunk.chunk_id for p in redacted.passages] == [
        p.chunk.chunk_id for p in plain.passages
    ]
    assert redacted.best_dense == pytest.approx(plain.best_dense)
