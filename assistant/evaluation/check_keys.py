"""The BAA check and the Security Rule coverage scored against answer keys written by hand
(``evals/check-keys.yaml``).

A BAA key lists, for every contract and requirement, the status a careful reader gives it, the
clauses that settle it and why; a coverage key, for every Security Rule specification, the status
and the policy sections. The documents are read exactly as ingest reads them (the same loaders),
so a key needs no index. Accuracy is per row; the report lists every disagreement by name ("a
`missing` that is really present") and the agreement on the clause cited."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.checks.baa import STATUSES
from assistant.checks.coverage import COVERAGE_STATUSES, check_coverage, load_specifications, policy
from assistant.checks.run import check_all, contract, load_catalogs
from core.errors import ConfigError
from core.settings import PROJECT_ROOT, Settings

KEYS_FILE = PROJECT_ROOT / "evals" / "check-keys.yaml"


@dataclass(frozen=True)
class KeySpec:
    name: str
    key: Path
    description: str
    split: str  # dev: the checker was developed against it; held-out: it was not
    min_accuracy: float
    note: str = ""  # what of it was seen while developing
    kind: str = "baa"  # baa | coverage


@dataclass
class KeyScore:
    spec: KeySpec
    rows: int = 0
    correct: int = 0
    by_status: dict[str, list[int]] = field(default_factory=dict)  # key status -> [right, all]
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[dict[str, str]] = field(default_factory=list)
    clause_agree: int = 0
    clause_rows: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.rows if self.rows else 0.0

    @property
    def ok(self) -> bool:
        return self.rows > 0 and self.accuracy >= self.spec.min_accuracy

    @property
    def failure(self) -> str:
        if self.ok:
            return ""
        wanted = self.spec.min_accuracy
        what = "BAA check" if self.spec.kind == "baa" else "coverage"
        return f"{what} on {self.spec.name}: accuracy {self.accuracy:.2f} < {wanted}"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": str(self.spec.key.relative_to(PROJECT_ROOT)),
            "kind": self.spec.kind,
            "split": self.spec.split,
            "note": self.spec.note,
            "description": self.spec.description,
            "rows": self.rows,
            "correct": self.correct,
            "accuracy": round(self.accuracy, 4),
            "min_accuracy": self.spec.min_accuracy,
            "by_status": {s: {"right": r, "rows": n} for s, (r, n) in self.by_status.items()},
            "clause_agreement": f"{self.clause_agree}/{self.clause_rows}",
            "errors": self.errors,
        }


def load_key_specs(path: Path = KEYS_FILE, root: Path = PROJECT_ROOT) -> list[KeySpec]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    specs = []
    for name, spec in raw.items():
        if not isinstance(spec, dict) or "key" not in spec:
            raise ConfigError(f"{path.name}: {name!r} needs a key")
        specs.append(
            KeySpec(
                name=str(name),
                key=root / str(spec["key"]),
                description=str(spec.get("description", "")),
                split=str(spec.get("split", "held-out")),
                min_accuracy=float(spec.get("min_accuracy", 0.9)),
                note=str(spec.get("note", "")),
                kind=str(spec.get("kind", "baa")),
            )
        )
    return specs


def score_key(base: Settings, spec: KeySpec, root: Path = PROJECT_ROOT) -> KeyScore:
    """The checker's rows for the key's documents, compared row by row with the key."""
    if spec.kind == "coverage":
        return _score_coverage(base, spec, root)
    if spec.kind != "baa":
        raise ConfigError(f"{spec.name}: unknown kind {spec.kind!r} (baa or coverage)")
    from ingest.loaders import SourceFile, load

    key = yaml.safe_load(spec.key.read_text(encoding="utf-8"))
    terms = root / str(key["terms"])
    settings = base.model_copy(
        update={"paths": base.paths.model_copy(update={"corpus_dirs": [terms.parent]})}
    )
    catalogs = load_catalogs(settings)
    if not catalogs.terms:
        raise ConfigError(f"{spec.key.name}: no terms file at {terms}")
    score = KeyScore(spec, by_status={s: [0, 0] for s in STATUSES})
    for entry in key["contracts"]:
        path = root / str(entry["document"])
        loaded = load(SourceFile(path, "corpus"), path.read_bytes(), settings)
        c = contract(loaded.document, loaded.chunks, catalogs.organisation)
        rows = {r.requirement.id: r for r in check_all([c], catalogs)}
        for want in entry["rows"]:
            got = rows.get(want["requirement"])
            if got is None:
                raise ConfigError(f"{spec.key.name}: no requirement {want['requirement']!r}")
            expected = str(want["status"])
            right = _tally(score, expected, got.status)
            if not right:
                score.errors.append(
                    {
                        "vendor": str(entry.get("vendor") or c.vendor),
                        "requirement": got.requirement.id,
                        "citation": got.requirement.citation,
                        "expected": expected,
                        "got": got.status,
                        "clause": ", ".join(got.locators),
                        "why": got.note,
                    }
                )
            wanted = set(want.get("locators") or [])
            if right and wanted and got.locators:
                score.clause_rows += 1
                score.clause_agree += bool(wanted & set(got.locators))
    return score


def _tally(score: KeyScore, expected: str, got: str) -> bool:
    right = got == expected
    score.rows += 1
    score.correct += right
    tally = score.by_status.setdefault(expected, [0, 0])
    tally[0] += right
    tally[1] += 1
    score.confusion[(expected, got)] += 1
    return right


def _score_coverage(base: Settings, spec: KeySpec, root: Path) -> KeyScore:
    from ingest.loaders import SourceFile, load

    key = yaml.safe_load(spec.key.read_text(encoding="utf-8"))
    folder = root / str(key["policies"])
    settings = base.model_copy(
        update={"paths": base.paths.model_copy(update={"corpus_dirs": [folder]})}
    )
    policies = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.suffix.lower() not in (".md", ".pdf", ".docx", ".html", ".htm"):
            continue
        loaded = load(SourceFile(path, "corpus"), path.read_bytes(), settings)
        if loaded.document.doc_type == "policy":
            policies.append(policy(loaded.document, loaded.chunks))
    rows = {
        r.item.id: r
        for r in check_coverage(load_specifications(base.checks.security_catalog), policies)
    }
    score = KeyScore(spec, by_status={s: [0, 0] for s in COVERAGE_STATUSES})
    for want in key["rows"]:
        got = rows.get(want["item"])
        if got is None:
            raise ConfigError(f"{spec.key.name}: no item {want['item']!r} in the catalog")
        expected = str(want["status"])
        if not _tally(score, expected, got.status):
            score.errors.append(
                {
                    "vendor": "policies",
                    "requirement": got.item.id,
                    "citation": got.item.citation,
                    "expected": expected,
                    "got": got.status,
                    "clause": ", ".join(got.locators),
                    "why": got.note,
                }
            )
        wanted = set(want.get("locators") or [])
        if got.status == expected and wanted and got.locators:
            score.clause_rows += 1
            score.clause_agree += bool(wanted & set(got.locators))
    return score
