"""`hipaa-assistant eval`: run the golden dataset, write the report, exit 1 below a threshold."""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.evaluation.metrics import DEPTHS
from assistant.evaluation.runner import run_eval
from assistant.runtime import open_index
from assistant.settings import PROJECT_ROOT, Settings

EVALS = PROJECT_ROOT / "evals"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", type=Path, default=EVALS / "dataset", help="folder of *.yaml")
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


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    index = open_index(settings)
    judge = None
    if args.judge:
        from assistant.answering.llm import build_chat_model
        from assistant.evaluation.metrics import JudgeMetrics

        judge = JudgeMetrics(build_chat_model(settings.llm), index.embedder)
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
    s = result.summary
    project = s["retrieval"][s["project_system"]]
    for name in (s["project_system"], *s["baselines"]):
        groups = s["retrieval"][name]
        cells = "  ".join(f"{g}={groups[g]['recall@5']:.2f}" for g in groups)
        print(f"recall@5  {name:40} {cells}")
    print(
        f"answers: citation validity {s['answers']['citation_validity']}, "
        f"abstention F1 {s['abstention']['f1']}, MRR (all) {project['all']['mrr']}"
    )
    print(f"report: {result.out_dir}")
    for failure in result.failures:
        print(f"BELOW THRESHOLD: {failure}")
    return 0 if result.ok else 1
