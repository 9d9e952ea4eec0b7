"""The identifier kinds of the PHI guard, and its word lists loaded from data and validated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError

DEFAULT_PHI_VOCABULARY = Path(__file__).with_name("phi_vocabulary.yaml")


@dataclass(frozen=True)
class Kind:
    """One Safe Harbor identifier type (45 CFR 164.514(b)(2)(i)(A)-(R))."""

    id: str
    label: str  # the placeholder in redacted text, e.g. "[NAME]"
    one: str  # "a name"
    many: str  # "names"


# The identifier kinds, in the order of the Safe Harbor list. Part of the interface: callers (UI,
# audit) see these ids in findings; the wording feeds the notice shown to the user.
KINDS: dict[str, Kind] = {
    k.id: k
    for k in (
        Kind("name", "[NAME]", "a name", "names"),
        Kind("geographic", "[LOCATION]", "an address or place", "addresses or places"),
        Kind("date", "[DATE]", "a date or age", "dates or ages"),
        Kind("phone", "[PHONE]", "a phone number", "phone numbers"),
        Kind("fax", "[FAX]", "a fax number", "fax numbers"),
        Kind("email", "[EMAIL]", "an email address", "email addresses"),
        Kind("ssn", "[SSN]", "a Social Security number", "Social Security numbers"),
        Kind("mrn", "[MRN]", "a medical record number", "medical record numbers"),
        Kind(
            "health_plan_id",
            "[HEALTH_PLAN_ID]",
            "a health plan member number",
            "health plan member numbers",
        ),
        Kind("account", "[ACCOUNT]", "an account number", "account numbers"),
        Kind("license", "[LICENSE]", "a licence or certificate number", "licence numbers"),
        Kind("vehicle", "[VEHICLE_ID]", "a vehicle identifier", "vehicle identifiers"),
        Kind("device", "[DEVICE_ID]", "a device serial number", "device serial numbers"),
        Kind("url", "[URL]", "a web address", "web addresses"),
        Kind("ip", "[IP_ADDRESS]", "an IP address", "IP addresses"),
        Kind("biometric", "[BIOMETRIC]", "a biometric identifier", "biometric identifiers"),
        Kind("photo", "[PHOTO]", "a photo reference", "photo references"),
        Kind("other_id", "[ID]", "an identifying number", "identifying numbers"),
    )
}

_WORD_LISTS = (
    "honorifics",
    "name_cues",
    "not_names",
    "ambiguous_names",
    "organisation_words",
    "first_names",
    "surnames",
    "cue_fillers",
    "date_person_cues",
    "date_rule_cues",
    "place_cues",
    "street_suffixes",
    "states",
    "state_abbreviations",
    "image_extensions",
    "url_tlds",
    "public_domains",
    "toll_free_area_codes",
)
_KEYS = {*_WORD_LISTS, "identifier_cues"}


@dataclass(frozen=True)
class PhiVocabulary:
    """Word lists of the guard. Everything is lower-case except ``state_abbreviations``."""

    honorifics: frozenset[str]
    name_cues: tuple[str, ...]
    not_names: frozenset[str]
    ambiguous_names: frozenset[str]
    organisation_words: frozenset[str]
    first_names: frozenset[str]
    surnames: frozenset[str]
    cue_fillers: tuple[str, ...]
    date_person_cues: tuple[str, ...]
    date_rule_cues: tuple[str, ...]
    place_cues: tuple[str, ...]
    street_suffixes: tuple[str, ...]
    states: tuple[str, ...]
    state_abbreviations: tuple[str, ...]
    image_extensions: tuple[str, ...]
    url_tlds: tuple[str, ...]
    public_domains: tuple[str, ...]
    toll_free_area_codes: frozenset[str]
    identifier_cues: dict[str, tuple[str, ...]]  # kind id -> cue phrases

    @classmethod
    def load(
        cls,
        path: Path = DEFAULT_PHI_VOCABULARY,
        extra_names_file: Path | None = None,
        allow_terms: Iterable[str] = (),
    ) -> PhiVocabulary:
        """Read and validate ``path``; add the deployment's extra names and allowed terms."""
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the PHI vocabulary {path.name}: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{path.name}: expected a mapping of word lists")
        if set(raw) != _KEYS:
            missing, unknown = sorted(_KEYS - set(raw)), sorted(set(raw) - _KEYS)
            raise ConfigError(f"{path.name}: missing keys {missing}, unknown keys {unknown}")
        lists = {key: _words(raw[key], f"{path.name}: {key}") for key in _WORD_LISTS}
        cues = raw["identifier_cues"]
        if not isinstance(cues, dict) or not cues:
            raise ConfigError(f"{path.name}: identifier_cues must map kinds to cue lists")
        unknown_kinds = sorted(set(cues) - set(KINDS))
        if unknown_kinds:
            raise ConfigError(f"{path.name}: identifier_cues has unknown kinds {unknown_kinds}")
        identifier_cues = {
            kind: tuple(_words(words, f"{path.name}: identifier_cues.{kind}"))
            for kind, words in cues.items()
        }
        first, surnames = set(lists["first_names"]), set(lists["surnames"])
        if extra_names_file is not None:
            try:
                extra = extra_names_file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ConfigError(f"cannot read the extra names file: {exc}") from exc
            names = {line.split("#", 1)[0].strip().lower() for line in extra}
            names.discard("")
            first |= names
            surnames |= names
        not_names = set(lists["not_names"]) | {t.strip().lower() for t in allow_terms if t.strip()}
        return cls(
            honorifics=frozenset(lists["honorifics"]),
            name_cues=tuple(lists["name_cues"]),
            not_names=frozenset(not_names),
            ambiguous_names=frozenset(lists["ambiguous_names"]),
            organisation_words=frozenset(lists["organisation_words"]),
            first_names=frozenset(first),
            surnames=frozenset(surnames),
            cue_fillers=tuple(lists["cue_fillers"]),
            date_person_cues=tuple(lists["date_person_cues"]),
            date_rule_cues=tuple(lists["date_rule_cues"]),
            place_cues=tuple(lists["place_cues"]),
            street_suffixes=tuple(lists["street_suffixes"]),
            states=tuple(lists["states"]),
            state_abbreviations=tuple(w.upper() for w in lists["state_abbreviations"]),
            image_extensions=tuple(lists["image_extensions"]),
            url_tlds=tuple(lists["url_tlds"]),
            public_domains=tuple(lists["public_domains"]),
            toll_free_area_codes=frozenset(lists["toll_free_area_codes"]),
            identifier_cues=identifier_cues,
        )


def _words(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: expected a non-empty list of words")
    out = []
    for item in value:
        # YAML reads bare yes/no/on/off as booleans: such words must be quoted.
        if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
            raise ConfigError(f"{where}: {item!r} is not a word (quote yes/no/on/off)")
        out.append(str(item).strip().lower())
    return out
