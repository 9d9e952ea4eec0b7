"""Candidate identifiers in a text: patterns for the structured kinds, a word scan for names.

Every regular expression here is linear: bounded repetitions, disjoint alternatives, and
look-behinds that stop a pattern from restarting inside a run of characters, so a 100,000-character
input or a run of control characters costs milliseconds. ``Detector.candidates`` returns
overlapping candidates; the guard keeps the strongest of each overlap.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from assistant.safety.phi_vocabulary import PhiVocabulary

# Strength of a candidate when two overlap: a cue or an unmistakable format beats a guess.
STRONG, FORMAT, WEAK = 3, 2, 1


@dataclass(frozen=True)
class Candidate:
    kind: str
    start: int
    end: int
    strength: int


def _alternation(phrases: Iterable[str]) -> str:
    """A regex matching any of the (lower-case) phrases, longest first, factored as a trie so a
    position is rejected after one character instead of after trying every phrase. Spaces match
    any whitespace, apostrophes either form."""
    trie: dict[str, dict] = {}
    for phrase in set(phrases):
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_regex(trie)


def _trie_regex(node: dict[str, dict]) -> str:
    branches = []
    for ch in sorted(k for k in node if k):
        atom = r"\s+" if ch == " " else "['’]" if ch == "'" else re.escape(ch)
        branches.append(atom + _trie_regex(node[ch]))
    if not branches:
        return ""
    optional = "" in node
    if len(branches) == 1 and not optional:
        return branches[0]
    group = "(?:" + "|".join(branches) + ")"
    return group + "?" if optional else group


def _norm(phrase: str) -> str:
    return " ".join(phrase.lower().replace("’", "'").split())


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)(?![a-z])\.?"
)
_ORD = r"(?:st|nd|rd|th)?"
_HOLIDAY = (
    r"(?:New\s+Year['’]s(?:\s+Day|\s+Eve)?|Christmas(?:\s+Day|\s+Eve)?|Thanksgiving(?:\s+Day)?"
    r"|Independence\s+Day|Valentine['’]s\s+Day|Halloween|Easter(?:\s+Sunday)?|Memorial\s+Day"
    r"|Labor\s+Day)"
)
# Full dates (day, month and year), partial dates (day and month, or month and year).
_FULL_DATES = [
    re.compile(rf"\b{_MONTH}\s{{1,3}}\d{{1,2}}{_ORD},?\s{{1,3}}(?:19|20)\d\d(?!\d)"),
    re.compile(
        rf"(?<![\w.])\d{{1,2}}{_ORD}\s{{1,3}}(?:of\s+)?{_MONTH},?\s{{1,3}}(?:19|20)\d\d(?!\d)"
    ),
    re.compile(rf"\b{_HOLIDAY},?\s{{1,3}}(?:19|20)\d\d(?!\d)"),
]
_NUMERIC_DATE = re.compile(r"(?<![\w/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/]|[.-]\d)")
_ISO_DATE = re.compile(r"(?<![\w/.-])((?:19|20)\d\d)([/.-])(\d{1,2})\2(\d{1,2})(?![\w/]|[.-]\d)")
_PARTIAL_DATES = [
    re.compile(rf"\b{_MONTH},?\s{{1,3}}(?:of\s+)?(?:19|20)\d\d(?!\d)"),
    re.compile(rf"\b{_MONTH}\s{{1,3}}\d{{1,2}}{_ORD}(?![\d:])"),
    re.compile(rf"(?<![\w.])\d{{1,2}}{_ORD}\s{{1,3}}(?:of\s+)?{_MONTH}"),
    re.compile(rf"\b{_HOLIDAY}"),
]
_NUMERIC_PARTIAL = re.compile(r"(?<![\w/.-])(\d{1,2})/(\d{1,2})(?![\w/]|[.-]\d)")
# Ages over 89 are dates under Safe Harbor (164.514(b)(2)(i)(C)).
_AGES = [
    re.compile(r"(?<![\w.])(\d{2,3})(?:-|\s)?(?:years?|yrs?)(?:-|\s)?old\b", re.IGNORECASE),
    re.compile(r"(?<![\w.])(\d{2,3})\s?(?:yo|y/o|y\.o\.)(?!\w)", re.IGNORECASE),
    re.compile(r"(?<![\w.])(\d{2,3})\s?[MF]\b"),
    re.compile(
        r"\b(?:[Aa]ge|[Aa]ged)[\s:,]{1,3}(\d{2,3})\b(?!\s*(?:or|and|to|through|\+|-|years?\s+or))"
    ),
]
_AGE_AFTER_NAME = re.compile(r"(?:['’]s)?\s?[,(]\s?(\d{2,3})(?=[,)\s])")

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]{1,63}"
    r"(?:\.[A-Za-z0-9-]{1,63}){0,6}\.[A-Za-z]{2,24}(?![\w-])"
)
_URL_SCHEME = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'`]{1,2048}")
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f:]{2,39}(?![\w:])")
_MAC = re.compile(
    r"(?<![\w:-])[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}(?![\w:-])"
)
_UUID = re.compile(
    r"(?<![\w-])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![\w-])"
)
_SSN = re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-]|\.\d)")
_PHONE = re.compile(
    r"(?<![\w+(])(?:\+?1[\s.-]{0,2})?(?:\((\d{3})\)[\s.-]{0,2}|(\d{3})[\s.-]?)\d{3}[\s.-]?\d{4}"
    r"(?![\w-]|\.\d)"
)
_PHONE_INTL = re.compile(
    r"(?<![\w+])\+(?!1[\s.(-]{0,2}\d{3})\d{1,3}(?:[\s.-]?\d{1,4}){2,5}(?![\w-])"
)
_PHONE_WORDS = re.compile(
    r"(?i)(?<![a-z])(?:fax(?:ed)?|phone|cell|mobile|tel|telephone|call(?:ed)?|text(?:ed)?"
    r"|number|contact|voicemail|home|work)(?![a-z])"
)
_PHONE_KIND_WORDS = re.compile(
    r"(?i)(?<![a-z])(?:fax(?:ed)?|phone|cell|mobile|tel|telephone|call(?:ed)?|text(?:ed)?"
    r"|voicemail)(?![a-z])"
)
_FAX_WORD = re.compile(r"(?i)fax")
# National numbers with a trunk 0 (UK and elsewhere): "07700 900461".
_PHONE_NATIONAL = re.compile(r"(?<![\w+./-])0\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}(?![\w-]|[.,]\d)")
# GS1 unique device identifier: "(01)00844588003288(17)141120".
_UDI = re.compile(r"\(01\)\d{14}(?:\(\d{2,4}\)[A-Za-z0-9]{1,20}){0,6}")
_STREET_ABROAD = re.compile(
    r"(?<![\w.,$/-])\d{1,6},?\s{1,3}(?i:rue|calle|avenida|via|rua|chemin|strasse)\s{1,3}"
    r"[A-Z][\w'-]{0,24}(?:\s[A-Z][\w'-]{0,24}){0,2}"
)
_AFTER_STREET = re.compile(
    r"(?:,?\s{1,3}(?:Apt|Apartment|Unit|Suite|Ste|#)\.?\s?[A-Za-z0-9-]{1,6})?,\s{1,3}"
    r"([A-Z][a-z]{1,20}(?:\s[A-Z][a-z]{1,20}){0,2})"
)
_CHART_HEADER_NEXT = re.compile(r"\s{0,3}(?:\d|(?i:dob|d\.o\.b|mrn|born)\b)")
_LONG_DIGITS = re.compile(r"(?<![\w.,$/-])\d{7,}(?![\w/]|[.,]\d)")
_DIGIT_GROUPS = re.compile(r"(?<![\w.,$/-])\d{1,6}(?:-\d{1,6}){1,4}(?![\w/-]|[.,]\d)")
_CODE = re.compile(r"(?<![\w-])[A-Z0-9]{7,24}(?![\w-])")
_CODE_HYPHEN = re.compile(r"(?<![\w-])[A-Z0-9]{1,10}(?:-[A-Z0-9]{1,10}){1,4}(?![\w-])")
_HEX = re.compile(r"(?<![\w-])[0-9a-f]{10,64}(?![\w-])")
_PO_BOX = re.compile(r"(?i)\bP\.?\s?O\.?\s{1,3}Box\s{1,3}\d{1,6}\b")
_ZIP4 = re.compile(r"(?<![\w-])\d{5}-\d{4}(?![\w-])")
_ZIP_CUE = re.compile(
    r"(?i)\b(?:zip|zip\s?code|zipcode|postal\s+code)s?(?:\s*[:#]|\s+is|\s+of)?\s{0,3}"
    r"(\d{5}(?:-\d{4})?)(?![\w-])"
)
_COUNTY = re.compile(r"\b[A-Z][a-z]{2,20}(?:\s[A-Z][a-z]{2,20})?\s(?:County|Parish|Borough)\b")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+|-[^\W\d_]+)*")

# Regulation language that must pass untouched: citations, sections, policy ids, money.
_PROTECTED = [
    re.compile(
        r"(?i)\b\d{1,2}\s?C\.?F\.?R\.?\s{0,3}(?:§+\s?)?(?:parts?\s)?\d+(?:\.\d+)?"
        r"(?:\([A-Za-z0-9]{1,5}\)){0,8}"
    ),
    re.compile(r"§+\s?\d+(?:\.\d+)*(?:\([A-Za-z0-9]{1,5}\)){0,8}"),
    re.compile(r"(?<![\w.])(?:16[0-4]|170|171)\.\d{1,4}(?:\([A-Za-z0-9]{1,5}\)){0,8}(?![\w.]\d)"),
    re.compile(r"(?i)\b(?:section|sec\.)\s?\d{1,5}[a-z]?(?:\([A-Za-z0-9]{1,5}\)){0,6}"),
    re.compile(r"\b[A-Z]{2,4}-\d{3}(?![\w-])(?:\s?§\s?\d+(?:\.\d+)*)?"),
    re.compile(r"(?i)\$\s?\d[\d,]{0,15}(?:\.\d+)?(?:\s?(?:million|billion|thousand|[kmb]\b))?"),
    re.compile(r"\b\d{1,3}\s(?:FR|Fed\.\s?Reg\.)\s\d{1,6}\b"),
    re.compile(r"(?i)\bPub(?:lic)?\.?\s?L(?:aw)?\.?\s?(?:No\.\s?)?\d{2,3}-\d{1,4}"),
    re.compile(r"(?i)\b\d{1,2}\s?U\.?S\.?C\.?\s?§*\s?\d+[a-z0-9-]*"),
    re.compile(r"(?i)\b(?:SP|FIPS|ISO|IEC|RFC|NIST)\s?\d{2,5}(?:-\d{1,3}[a-z0-9]*)?"),
]


class Detector:
    """Compiled patterns and word sets of one vocabulary; immutable, safe to share."""

    def __init__(self, vocab: PhiVocabulary) -> None:
        self.vocab = vocab
        self._cue_kind: dict[str, str] = {}
        for kind, cues in vocab.identifier_cues.items():
            for cue in cues:
                self._cue_kind[_norm(cue)] = kind
        fillers = _alternation(vocab.cue_fillers)
        self._cue_value = re.compile(
            rf"(?i)(?<![A-Za-z0-9])(?P<cue>{_alternation(self._cue_kind)})(?![A-Za-z])"
            rf"(?:[\s:#=.,()-]|(?:{fillers})(?![A-Za-z0-9])){{0,14}}"
            r"(?P<val>[A-Za-z0-9](?:[A-Za-z0-9/]|-(?=[A-Za-z0-9])){0,39}"
            r"(?:\s(?=\d)\d[\d-]{1,9}){0,3})"
        )
        self._any_cue = re.compile(
            rf"(?i)(?<![A-Za-z0-9])(?:{_alternation(self._cue_kind)})(?![A-Za-z])"
        )
        self._person_cue = re.compile(
            rf"(?i)(?<![A-Za-z])(?:{_alternation(vocab.date_person_cues)})(?![A-Za-z])"
        )
        self._rule_cue = re.compile(
            rf"(?i)(?<![A-Za-z])(?:{_alternation(vocab.date_rule_cues)})(?![A-Za-z])"
        )
        suffix = _alternation(vocab.street_suffixes)
        self._street = re.compile(
            r"(?<![\w.,$/-])\d{1,6}[A-Za-z]?\s{1,3}"
            r"(?:(?:[NSEW]|North|South|East|West|NE|NW|SE|SW)\.?\s{1,3})?"
            r"(?:(?:[A-Z][A-Za-z'-]{0,20}|\d{1,3}(?:st|nd|rd|th))\s{1,3}){0,3}"
            r"(?:[A-Z][A-Za-z'-]{0,20}|\d{1,3}(?:st|nd|rd|th))\s{1,3}"
            rf"(?i:{suffix})\b\.?"
        )
        states = _alternation(vocab.states)
        abbreviations = "|".join(vocab.state_abbreviations)
        self._state_zip = re.compile(
            rf"(?:\b(?:{abbreviations})|(?i:\b(?:{states})))\b,?\s{{1,3}}(\d{{5}}(?:-\d{{4}})?)"
            r"(?![\w-])"
        )
        self._city_state = re.compile(
            r"(?<![A-Za-z])([A-Z][a-z]{1,20}(?:[\s-][A-Z][a-z]{1,20}){0,2}),\s{1,3}"
            rf"(?:(?:{abbreviations})(?=\s{{1,3}}\d{{5}}|\s{{0,3}}[.,;:!?)]|\s*$)"
            rf"|(?i:(?:{states}))\b)"
        )
        self._place = re.compile(
            rf"(?i:(?<![A-Za-z])(?:{_alternation(vocab.place_cues)}))\s{{1,3}}"
            r"([A-Z][a-z]{1,20}(?:\s[A-Z][a-z]{1,20}){0,2})"
        )
        self._place_far = re.compile(
            r"(?i:\b(?:lives|lived|living|resides|resided|residing|stays|staying)\b)"
            r"[^.?!;:\n]{0,40}?\bin\s{1,3}([A-Z][a-z]{1,20}(?:\s[A-Z][a-z]{1,20}){0,2})"
        )
        self._photo = re.compile(
            r"(?<![\w.-])[A-Za-z0-9_](?:[\w-]|\.(?=\w)){0,100}\."
            rf"(?i:{'|'.join(re.escape(e) for e in vocab.image_extensions)})(?![\w])"
        )
        tlds = "|".join(re.escape(t) for t in vocab.url_tlds)
        self._url_bare = re.compile(
            r"(?i)(?<![\w.@/-])[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63}){0,4}"
            rf"\.(?:{tlds})/[^\s<>\"'`]{{1,2048}}"
        )
        self._name_cues = [tuple(_norm(c).split()) for c in vocab.name_cues]
        self._max_cue_len = max(len(c) for c in self._name_cues)
        self._name_cue_set = set(self._name_cues)
        self._name_cue_last = {c[-1] for c in self._name_cues}

    # -- public -----------------------------------------------------------------------------

    def protected(self, text: str) -> list[tuple[int, int]]:
        spans = [m.span() for rx in _PROTECTED for m in rx.finditer(text)]
        # Toll-free numbers belong to organisations (e.g. the OCR hotline), never to a patient.
        for m in _PHONE.finditer(text):
            area = m.group(1) or m.group(2)
            if area in self.vocab.toll_free_area_codes:
                spans.append(m.span())
        return spans

    def candidates(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        out.extend(self._structured(text))
        out.extend(self._cued_values(text))
        out.extend(self._dates(text))
        out.extend(self._places(text))
        names = list(self._names(text))
        out.extend(names)
        out.extend(self._ages_after_names(text, names))
        out.extend(self._generic_numbers(text))
        return out

    # -- structured formats -----------------------------------------------------------------

    def _structured(self, text: str) -> Iterator[Candidate]:
        for m in _EMAIL.finditer(text):
            yield Candidate("email", *m.span(), STRONG)
        for rx in (_URL_SCHEME, self._url_bare):
            for m in rx.finditer(text):
                start, end = m.span()
                while end > start and text[end - 1] in ".,;:!?)]}'\"":
                    end -= 1
                if not self._public_url(text[start:end]):
                    yield Candidate("url", start, end, STRONG)
        for m in _IPV4.finditer(text):
            if _valid_ip(m.group(0)):
                yield Candidate("ip", *m.span(), STRONG)
        for m in _IPV6.finditer(text):
            value = m.group(0)
            if ("::" in value or value.count(":") == 7) and _valid_ip(value):
                yield Candidate("ip", *m.span(), STRONG)
        for m in _MAC.finditer(text):
            yield Candidate("device", *m.span(), STRONG)
        for m in _UDI.finditer(text):
            yield Candidate("device", *m.span(), STRONG)
        for m in _UUID.finditer(text):
            yield Candidate("device", *m.span(), FORMAT)
        for m in _SSN.finditer(text):
            yield Candidate("ssn", *m.span(), FORMAT)
        for rx in (_PHONE, _PHONE_INTL, _PHONE_NATIONAL):
            for m in rx.finditer(text):
                digits = sum(c.isdigit() for c in m.group(0))
                if rx is _PHONE and m.group(0).isdigit():
                    continue  # ten bare digits: a phone only near a phone word (below)
                if rx is _PHONE_INTL and not 8 <= digits <= 15:
                    continue
                if rx is _PHONE_NATIONAL and not 10 <= digits <= 11:
                    continue
                yield Candidate(self._phone_kind(text, m.start()), *m.span(), FORMAT)
        for m in self._photo.finditer(text):
            yield Candidate("photo", *m.span(), STRONG)

    def _public_url(self, url: str) -> bool:
        host = re.sub(r"(?i)^(?:https?://)?", "", url).split("/", 1)[0].lower()
        host = host.split(":", 1)[0]
        return any(host == d or host.endswith("." + d) for d in self.vocab.public_domains)

    def _phone_kind(self, text: str, start: int) -> str:
        """'fax' when the nearest phone word before the number is a fax word."""
        window = text[max(0, start - 40) : start]
        words = list(_PHONE_KIND_WORDS.finditer(window))
        return "fax" if words and _FAX_WORD.match(words[-1].group(0)) else "phone"

    # -- cue + value ------------------------------------------------------------------------

    def _cued_values(self, text: str) -> Iterator[Candidate]:
        for m in self._cue_value.finditer(text):
            start, end = m.span("val")
            while end > start and text[end - 1] in "/-":
                end -= 1
            value = text[start:end]
            digits = sum(c.isdigit() for c in value)
            kind = self._cue_kind.get(_norm(m.group("cue")), "other_id")
            if digits < 3 or len(value) < 4:
                continue
            if len(value) == 4 and value.isdigit() and 1900 <= int(value) <= 2100 and kind != "ssn":
                continue  # a year
            yield Candidate(kind, start, end, STRONG)

    def _kind_from_cue(self, text: str, start: int, default: str) -> str:
        window = text[max(0, start - 40) : start]
        cues = list(self._any_cue.finditer(window))
        return self._cue_kind.get(_norm(cues[-1].group(0)), default) if cues else default

    def _generic_numbers(self, text: str) -> Iterator[Candidate]:
        """Other unique identifying numbers or codes (164.514(b)(2)(i)(R)) with no cue."""
        for m in _LONG_DIGITS.finditer(text):
            default = "other_id"
            if len(m.group(0)) in (10, 11) and self._near_phone_word(text, m.start()):
                default = self._phone_kind(text, m.start())
            yield Candidate(self._kind_from_cue(text, m.start(), default), *m.span(), WEAK)
        for m in _DIGIT_GROUPS.finditer(text):
            if _ISO_DATE.fullmatch(m.group(0)) or _NUMERIC_DATE.fullmatch(m.group(0)):
                continue  # a date: the date rules decide
            if sum(c.isdigit() for c in m.group(0)) >= 7:
                yield Candidate(self._kind_from_cue(text, m.start(), "other_id"), *m.span(), WEAK)
        for rx, min_digits in ((_CODE, 3), (_CODE_HYPHEN, 5)):
            for m in rx.finditer(text):
                value = m.group(0)
                digits = sum(c.isdigit() for c in value)
                if digits >= min_digits and digits < len(value) - value.count("-"):
                    kind = self._kind_from_cue(text, m.start(), "other_id")
                    yield Candidate(kind, *m.span(), WEAK)
        for m in _HEX.finditer(text):
            value = m.group(0)
            if sum(c.isdigit() for c in value) >= 3 and sum(c.isalpha() for c in value) >= 2:
                yield Candidate(self._kind_from_cue(text, m.start(), "other_id"), *m.span(), WEAK)

    def _near_phone_word(self, text: str, start: int) -> bool:
        return bool(_PHONE_WORDS.search(text[max(0, start - 30) : start]))

    # -- dates ------------------------------------------------------------------------------

    def _dates(self, text: str) -> Iterator[Candidate]:
        for rx in _FULL_DATES:
            for m in rx.finditer(text):
                if self._date_context(text, *m.span()) != "rule":
                    yield Candidate("date", *m.span(), FORMAT)
        for m in _NUMERIC_DATE.finditer(text):
            a, b = int(m.group(1)), int(m.group(3))
            if ((1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)) and (
                self._date_context(text, *m.span()) != "rule"
            ):
                yield Candidate("date", *m.span(), FORMAT)
        for m in _ISO_DATE.finditer(text):
            valid = 1 <= int(m.group(3)) <= 12 and 1 <= int(m.group(4)) <= 31
            if valid and self._date_context(text, *m.span()) != "rule":
                yield Candidate("date", *m.span(), FORMAT)
        for rx in _PARTIAL_DATES:
            for m in rx.finditer(text):
                if self._date_context(text, *m.span()) == "person":
                    yield Candidate("date", *m.span(), WEAK)
        for m in _NUMERIC_PARTIAL.finditer(text):
            a, b = int(m.group(1)), int(m.group(2))
            valid = (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)
            if valid and self._date_context(text, *m.span()) == "person":
                yield Candidate("date", *m.span(), WEAK)
        for rx in _AGES:
            for m in rx.finditer(text):
                if 90 <= int(m.group(1)) <= 130:
                    span = m.span(1) if rx is _AGES[-1] else m.span()
                    yield Candidate("date", *span, FORMAT)

    def _date_context(self, text: str, start: int, end: int) -> str:
        """'person' or 'rule' by the nearest cue within the clause around the date; '' if none."""
        before = text[max(0, start - 60) : start]
        after = text[end : end + 30]
        best: tuple[int, str] | None = None
        for label, rx in (("person", self._person_cue), ("rule", self._rule_cue)):
            for m in rx.finditer(before):
                distance = len(before) - m.end()
                if (
                    best is None
                    or distance < best[0]
                    or (distance == best[0] and label == "person")
                ):
                    best = (distance, label)
            m2 = rx.search(after)
            if m2 and (best is None or m2.start() < best[0]):
                best = (m2.start(), label)
        return best[1] if best else ""

    # -- places -----------------------------------------------------------------------------

    def _places(self, text: str) -> Iterator[Candidate]:
        for rx in (self._street, _STREET_ABROAD):
            for m in rx.finditer(text):
                yield Candidate("geographic", *m.span(), STRONG)
                # "12 Beacon Street, Boston": the town after a street address.
                after = _AFTER_STREET.match(text, m.end())
                span = self._place_name(text, *after.span(1)) if after else None
                if span:
                    yield Candidate("geographic", *span, FORMAT)
        for m in _PO_BOX.finditer(text):
            yield Candidate("geographic", *m.span(), STRONG)
        for rx in (self._state_zip, _ZIP_CUE):
            for m in rx.finditer(text):
                yield Candidate("geographic", *m.span(1), STRONG)
        for m in _ZIP4.finditer(text):
            yield Candidate("geographic", *m.span(), FORMAT)
        for m in _COUNTY.finditer(text):
            if m.group(0).split()[0].lower() not in self.vocab.not_names:
                yield Candidate("geographic", *m.span(), FORMAT)
        for rx in (self._city_state, self._place, self._place_far):
            for m in rx.finditer(text):
                span = self._place_name(text, *m.span(1))
                if span:
                    yield Candidate("geographic", *span, FORMAT)

    def _place_name(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """The leading words of a capitalised place name that are not known non-names."""
        words = list(re.finditer(r"[A-Za-z]+", text[start:end]))
        kept = []
        for w in words:
            if w.group(0).lower() in self.vocab.not_names:
                break
            kept.append(w)
        if not kept:
            return None
        return start + kept[0].start(), start + kept[-1].end()

    # -- names ------------------------------------------------------------------------------

    def _names(self, text: str) -> Iterator[Candidate]:
        v = self.vocab
        toks = [_Tok.of(m, text) for m in _TOKEN.finditer(text)]
        n = len(toks)
        claimed = -1  # index of the last token already in a name
        i = 0
        while i < n:
            tok = toks[i]
            run: list[int] = []
            # 1. An honorific: "Mrs. Jane Roe", "Mr. and Mrs. Nakamura", "Dr. Patel".
            if tok.low in v.honorifics and tok.title_or_upper and i + 1 < n:
                j = i + 1
                if toks[j].low == "and" and j + 1 < n and toks[j + 1].low in v.honorifics:
                    j += 2
                if _gap_ok(text, toks[j - 1], toks[j], after_honorific=True):
                    run = self._run(text, toks, j, strong=True)
            # 2. A cue: "patient John Smith", "a patient named Charlotte", "her son Adam".
            if not run:
                cue_end = self._cue_ending_at(toks, i)
                if cue_end is not None and i + 1 < n and _gap_ok(text, tok, toks[i + 1], cue=True):
                    run = self._run(text, toks, i + 1, strong=True)
            # 3. The name lists: "Maria Garcia", "Grace Lee", "jose morales", "JANE DOE".
            if not run and i > claimed:
                run = self._listed(text, toks, i)
            if len(run) == 1:
                run = self._comma_name(text, toks, run[0]) or run
            if run and run[0] > claimed:
                first, last = toks[run[0]], toks[run[-1]]
                nxt = toks[run[-1] + 1] if run[-1] + 1 < n else None
                org = (
                    nxt is not None
                    and nxt.low in v.organisation_words
                    and _gap_ok(text, last, nxt)
                    and not last.possessive
                )
                if not org:
                    yield Candidate("name", first.start, last.end, FORMAT)
                    claimed = run[-1]
                    i = run[-1] + 1
                    continue
            i += 1

    def _cue_ending_at(self, toks: list[_Tok], i: int) -> int | None:
        if toks[i].cue_form not in self._name_cue_last:
            return None
        for size in range(1, self._max_cue_len + 1):
            if i - size + 1 < 0:
                break
            words = tuple(t.cue_form for t in toks[i - size + 1 : i + 1])
            if words in self._name_cue_set:
                return i
        return None

    def _first(self, low: str) -> bool:
        """A listed given name, or a hyphenated one with a listed part ("Sven-Erik")."""
        first = self.vocab.first_names
        return low in first or ("-" in low and any(p in first for p in low.split("-")))

    def _surname(self, low: str) -> bool:
        sur = self.vocab.surnames
        return low in sur or ("-" in low and any(p in sur for p in low.split("-")))

    def _namey(self, tok: _Tok, strong: bool) -> bool:
        v = self.vocab
        if tok.low in v.not_names:
            return False
        listed = self._first(tok.low) or self._surname(tok.low)
        if tok.title:
            return True
        if tok.upper:
            return listed and len(tok.low) > 1
        return strong and listed and tok.low not in v.ambiguous_names

    def _run(self, text: str, toks: list[_Tok], j: int, strong: bool) -> list[int]:
        """Up to three name-like tokens from ``j`` (initials such as "Q." may sit between)."""
        run: list[int] = []
        k = j
        while k < len(toks) and len(run) < 4:
            tok = toks[k]
            if run and not _gap_ok(text, toks[k - 1], tok):
                break
            if tok.initial and run:
                k += 1
                continue
            if not self._namey(tok, strong):
                break
            # A lower-case word only joins a lower-case start ("patient john smith").
            if run and tok.lower_case != toks[run[0]].lower_case and not tok.upper:
                break
            run.append(k)
            if tok.possessive:
                break
            k += 1
        return run

    def _listed(self, text: str, toks: list[_Tok], i: int) -> list[int]:
        v = self.vocab
        tok = toks[i]
        if tok.low in v.not_names:
            return []
        nxt = toks[i + 1] if i + 1 < len(toks) and _gap_ok(text, tok, toks[i + 1]) else None

        def surname(t: _Tok | None) -> bool:
            return (
                t is not None
                and self._surname(t.low)
                and t.low not in v.ambiguous_names
                and t.low not in v.not_names
            )

        comma = self._comma_name(text, toks, i)
        if comma:
            return comma
        if tok.title:
            if self._first(tok.low) and tok.low not in v.ambiguous_names:
                return self._run(text, toks, i, strong=False)
            if nxt is not None and nxt.title and surname(nxt) and not tok.possessive:
                # "Grace Lee" (an ambiguous given name), "Soraya Karimi" (an unlisted one).
                return self._run(text, toks, i, strong=False)[:3]
            if (
                nxt is not None
                and tok.low in v.ambiguous_names
                and nxt.title
                and self._surname(nxt.low)
                and nxt.low not in v.not_names
            ):
                return [i, i + 1]
            # Capitalised words ending in a possessive: "Kwame Mensah's", "Patience Mwangi's".
            run = self._run(text, toks, i, strong=False)
            if len(run) >= 2 and toks[run[-1]].possessive and toks[run[-1]].title:
                return run
            return []
        if tok.upper and self._first(tok.low) and tok.low not in v.ambiguous_names:
            if nxt is not None and nxt.upper and nxt.low not in v.not_names:
                return [i, i + 1]
            return []
        lower_first = tok.lower_case and self._first(tok.low) and tok.low not in v.ambiguous_names
        if lower_first and nxt is not None and nxt.lower_case and surname(nxt):
            return [i, i + 1]
        return []

    def _comma_name(self, text: str, toks: list[_Tok], i: int) -> list[int]:
        """ "Roe, Jane" and chart headers: "LIU, WEI  DOB ...", "Kowalczyk, Stanisław 4/17/1950"."""
        v = self.vocab
        tok = toks[i]
        if not tok.title_or_upper or i + 1 >= len(toks) or tok.possessive:
            return []
        after = toks[i + 1]
        if text[tok.end : after.start] not in (", ", ",") or not after.title_or_upper:
            return []
        if after.low in v.not_names or after.word in v.state_abbreviations:
            return []
        if after.low in v.states or tok.low in v.not_names:
            return []
        listed = self._surname(tok.low) and self._first(after.low)
        if listed or _CHART_HEADER_NEXT.match(text, after.end):
            return [i, i + 1]
        return []

    def _ages_after_names(self, text: str, names: list[Candidate]) -> Iterator[Candidate]:
        """ "Henry Walsh, 96, fell": an age over 89 right after a name."""
        for name in names:
            m = _AGE_AFTER_NAME.match(text, name.end)
            if m and 90 <= int(m.group(1)) <= 130:
                yield Candidate("date", *m.span(1), FORMAT)


class _Tok(NamedTuple):  # a tuple: tens of thousands are built for a long text
    start: int
    end: int
    word: str  # without a possessive 's
    low: str
    cue_form: str  # lower-case, possessive kept, with a following colon ("name:")
    title: bool  # "Garcia", "McDonald", "O'Brien"
    upper: bool  # "JANE"
    lower_case: bool
    initial: bool  # "Q" in "John Q. Public"
    possessive: bool

    @property
    def title_or_upper(self) -> bool:
        return self.title or self.upper

    @classmethod
    def of(cls, m: re.Match[str], text: str) -> _Tok:
        word, start, end = m.group(0), m.start(), m.end()
        possessive = False
        if len(word) > 3 and word[-2] in "'’" and word[-1] in "sS":
            word, end, possessive = word[:-2], end - 2, True
        elif end < len(text) and text[end] in "'’" and word[-1:] in ("s", "S"):
            possessive = True  # "Brooks'"
        low = word.lower().replace("’", "'")
        cue = low + ("'s" if possessive and m.group(0)[-2:-1] in "'’" else "")
        if m.end() < len(text) and text[m.end()] == ":":
            cue += ":"
        rest = word[1:]
        upper = word.isupper()
        return cls(
            start,
            end,
            word,
            low,
            cue.replace("’", "'"),
            word[:1].isupper() and rest != rest.upper(),  # title
            upper and len(word) > 1,
            word.islower(),
            upper and len(word) == 1 and text[end : end + 1] == ".",  # initial
            possessive,
        )


def _gap_ok(
    text: str, left: _Tok, right: _Tok, *, after_honorific: bool = False, cue: bool = False
) -> bool:
    """Whether two tokens are close enough to belong to one name (or a cue and its name)."""
    gap = text[left.end : right.start]
    if left.possessive and gap.startswith(("'s", "’s", "'", "’")):
        return False
    if gap in (" ", "  "):
        return True
    if (after_honorific or left.initial) and gap in (". ", ".  "):
        return True
    if cue:
        # "patient, Lucy Bennett", "Name: Beatrice Olsen", "Pt. Ramón Échevarría"
        return gap.strip() in (",", ":", ".") and len(gap) <= 3
    return False


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
