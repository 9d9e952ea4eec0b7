"""`hipaa-assistant eval`: run the golden dataset, write the report, exit 1 below a threshold."""

from __future__ import annotations

import argparse
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import DEPTHS
from assistant.evaluation.runner import run_eval
from assistant.runtime.stores import open_index
from core.errors import ConfigError
from core.settings import PROJECT_ROOT, Settings

EVALS = PROJECT_ROOT / "evals"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile",
        help="comma-separated profiles of evals/profiles.yaml to run (default: every reported "
        "one: each organisation, with and without its question files)",
    )
    p.add_argument(
        "--ablation",
        action="store_true",
        help="also switch each retrieval stage off in turn, per profile (the ablation table)",
    )
    p.add_argument(
        "--dataset",
        type=Path,
        help="a folder of *.yaml to run on the configured index instead of the profiles",
    )
    p.add_argument("--thresholds", type=Path, default=EVALS / "thresholds.yaml")
    p.add_argument("--out", type=Path, default=EVALS / "results", help="results folder")
    p.add_argument("--run-name", help="name of the run folder (default: a timestamp)")
    p.add_argument("--no-baselines", action="store_true", help="skip the baseline systems")
    p.add_argument("--k", type=int, default=5, help="passages per question")
    p.add_argument(
        "--depths",
        type=_depths,
        default=DEPTHS,
        help="deeper candidate lists the project's recall is also measured at, to show where its "
        "misses are (comma-separated; 'none' skips them; default %(default)s)",
    )
    p.add_argument(
        "--judge",
        action="store_true",
        help="also score Faithfulness, ResponseRelevancy, FactualCorrectness with the configured "
        "llm (llm.provider / llm.model) as the judge",
    )


def _depths(text: str) -> tuple[int, ...]:
    if text.strip().lower() in ("", "none", "0"):
        return ()
    try:
        depths = tuple(sorted({int(part) for part in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if any(d < 1 for d in depths):
        raise argparse.ArgumentTypeError(f"depths must be positive: {text!r}")
    return depths


EVAL_PACKAGES = ("ragas", "rapidfuzz", "matplotlib", "rouge_score")


def require_eval_packages() -> None:
    """The eval's packages are an extra the server does not need: say so, not an ImportError."""
    missing = [name for name in EVAL_PACKAGES if find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"the eval needs the packages of the 'eval' extra (missing: {', '.join(missing)}): "
            "pip install 'hipaa-assistant[eval]', or `make venv`, which installs the lock"
        )


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    require_eval_packages()
    judge = None
    if args.judge:
        from assistant.answering.llm import build_chat_model
        from assistant.evaluation.metrics import JudgeMetrics
        from core.embeddings import build_embedder

        judge = JudgeMetrics(build_chat_model(settings.llm), build_embedder(settings.embedding))
    if args.dataset is not None:
        return _single(settings, args, judge)
    from assistant.evaluation.profiles import load_profiles
    from assistant.evaluation.suite import run_suite

    profiles = load_profiles()
    if args.profile:
        names = [n.strip() for n in args.profile.split(",") if n.strip()]
        unknown = [n for n in names if n not in profiles]
        if unknown:
            raise ConfigError(f"unknown profile(s) {unknown}; known: {list(profiles)}")
        chosen = [profiles[n] for n in names]
    else:
        chosen = [p for p in profiles.values() if p.report]
    suite = run_suite(
        settings,
        chosen,
        out_root=args.out,
        run_name=args.run_name,
        baselines=not args.no_baselines,
        k=args.k,
        depths=args.depths,
        ablation=args.ablation,
        judge=judge,
        check_keys=not args.profile,  # the reported suite; a chosen profile is a development run
    )
    for name, result in suite.results.items():
        _print_result(name, result.summary)
    for score in suite.keys:
        what = "BAA check" if score.spec.kind == "baa" else "Security Rule coverage"
        print(
            f"== {what}, key {score.spec.name} ({score.spec.split}): accuracy "
            f"{score.accuracy:.2f} over {score.rows} rows"
        )
    print(f"report: {suite.out_dir}")
    for failure in suite.failures:
        print(f"BELOW THRESHOLD: {failure}")
    return 0 if suite.ok else 1


def _single(settings: Settings, args: argparse.Namespace, judge: Any) -> int:
    index = open_index(settings)
    result = run_eval(
        settings,
        index,
        dataset_dir=args.dataset,
        thresholds_path=args.thresholds if args.thresholds.exists() else None,
        out_root=args.out,
        run_name=args.run_name,
        baselines=not args.no_baselines,
        k=args.k,
        depths=args.depths,
        judge=judge,
    )
    _print_result("", result.summary)
    print(f"report: {result.out_dir}")
    for failure in result.failures:
        print(f"BELOW THRESHOLD: {failure}")
    return 0 if result.ok else 1


def _print_result(profile: str, s: dict[str, Any]) -> None:
    project = s["retrieval"][s["project_system"]]
    if profile:
        print(f"== {profile}")
    for name in (s["project_system"], *s["baselines"]):
        groups = s["retrieval"][name]
        cells = "  ".join(f"{g}={groups[g]['recall@5']:.2f}" for g in groups)
        print(f"recall@5  {name:40} {cells}")
    print(
        f"answers: citation validity {s['answers']['citation_validity']}, "
        f"abstention F1 {s['abstention']['f1']}, MRR (all) {project['all']['mrr']}, "
        f"answerable refused {s['answers']['abstained_when_answerable']}"
    )
