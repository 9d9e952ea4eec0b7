"""The organisations the eval runs on (``evals/profiles.yaml``), and the index each one needs.

A profile names a corpus of organisation documents, whether its question files are read, a
golden dataset and its thresholds. Lakemont (the bundled corpus) is evaluated on the configured
index, with and without its question files; another organisation gets an index of its own under
``<data>/eval-orgs/<corpus>/``: its documents plus the official texts already fetched into the
main data folder (copied from there, never downloaded), embedded with the main embedding cache as
a head start. Such an index is ingested incrementally, so a second run costs seconds."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.errors import ConfigError
from core.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

PROFILES_FILE = PROJECT_ROOT / "evals" / "profiles.yaml"
_KEYS = {
    "description",
    "corpus",
    "adds",
    "question_files",
    "dataset",
    "thresholds",
    "report",
    "calibration",
    "key_facts",
}


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    dataset: Path
    corpus: Path | None = None  # None: the configured corpus and index
    adds: tuple[Path, ...] = ()  # folders of documents dropped in beside the corpus
    question_files: bool = True
    thresholds: Path | None = None
    report: bool = True  # part of the reported suite (a dev split is not)
    calibration: Path | None = None  # questions to calibrate abstention on (never the dataset)
    key_facts: Path | None = None  # what each answer must state (evaluation/key_facts.py)

    @property
    def own_index(self) -> bool:
        return self.corpus is not None


def load_profiles(path: Path = PROFILES_FILE, root: Path = PROJECT_ROOT) -> dict[str, Profile]:
    """Profiles by name; their paths are relative to ``root`` (the project)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read eval profiles {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name}: expected a mapping of profile names")
    out: dict[str, Profile] = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict) or "dataset" not in spec:
            raise ConfigError(f"{path.name}: profile {name!r} needs at least a dataset")
        unknown = set(spec) - _KEYS
        if unknown:
            raise ConfigError(f"{path.name}: profile {name!r} has unknown keys {sorted(unknown)}")

        def where(key: str, spec: dict = spec) -> Path | None:
            return root / spec[key] if spec.get(key) else None

        dataset = where("dataset")
        assert dataset is not None
        adds = spec.get("adds") or []
        adds = [adds] if isinstance(adds, str) else adds
        if adds and not spec.get("corpus"):
            raise ConfigError(f"{path.name}: profile {name!r} adds documents to no corpus")
        out[str(name)] = Profile(
            name=str(name),
            description=str(spec.get("description", "")),
            dataset=dataset,
            corpus=where("corpus"),
            adds=tuple(root / str(a) for a in adds),
            question_files=bool(spec.get("question_files", True)),
            thresholds=where("thresholds"),
            report=bool(spec.get("report", True)),
            calibration=where("calibration"),
            key_facts=where("key_facts"),
        )
        if out[str(name)].calibration == dataset:
            raise ConfigError(f"{path.name}: profile {name!r} calibrates on its own dataset")
    return out


def profile_settings(base: Settings, profile: Profile) -> Settings:
    """The settings a profile runs with: its own data folder and corpus when it has one, its
    question files on or off; everything else as configured."""
    paths = base.paths
    retrieval = base.retrieval
    if profile.own_index:
        assert profile.corpus is not None
        paths = paths.model_copy(
            update={
                "data_dir": base.paths.data_dir / "eval-orgs" / _index_name(profile),
                "corpus_dirs": [profile.corpus, *profile.adds],
            }
        )
    if not profile.question_files:
        retrieval = retrieval.model_copy(update={"corpus_questions": None})
    return base.model_copy(update={"paths": paths, "retrieval": retrieval})


def _index_name(profile: Profile) -> str:
    assert profile.corpus is not None
    return "+".join(_slug(folder) for folder in (profile.corpus, *profile.adds))


def _slug(corpus: Path) -> str:
    """One index per corpus, whichever profiles use it: ``evals/orgs/saguaro/documents`` ->
    ``saguaro-documents``."""
    return "-".join(corpus.resolve().parts[-2:]).replace(" ", "_")


def prepare_index(base: Settings, settings: Settings, profile: Profile) -> None:
    """Build or bring up to date the profile's own index (nothing to do for the configured one).
    Raises ``ConfigError`` when its ingest fails."""
    if not profile.own_index:
        return
    from assistant.runtime.build import prepare_after_ingest
    from assistant.runtime.stores import open_store
    from core.embeddings import build_embedder
    from ingest.official import fetch
    from ingest.pipeline import run_ingest

    data = settings.paths.data_dir
    data.mkdir(parents=True, exist_ok=True)
    if base.paths.sources_dir.is_dir():
        fetched = fetch(settings, mirror=base.paths.sources_dir)
        if not fetched.ok:
            log.warning("profile %s: some official sources are missing", profile.name)
    cache = data / "embedding-cache.sqlite"
    main_cache = base.paths.data_dir / "embedding-cache.sqlite"
    if not cache.exists() and main_cache.exists():
        shutil.copy2(main_cache, cache)  # the official texts are embedded already
    embedder = build_embedder(settings.embedding)
    report = run_ingest(settings, embedder, lambda: open_store(settings, embedder), progress=False)
    if not report.ok:
        reasons = "; ".join(f"{o.name}: {o.reason}" for o in report.failed)
        raise ConfigError(f"the index of profile {profile.name} could not be built: {reasons}")
    prepare_after_ingest(settings, embedder, fit_adapter=not report.noop)
