"""What confirmed questions do for an organisation that starts without question files.

    python scripts/measure_confirmations.py [--profile saguaro] [--per-section 1,2,all]

Simulates a privacy office confirming, for the sections its staff asked about, the questions of
the profile's *calibration* split (for the unseen organisation: its development questions, never
the reported test questions), N per section, and reports the reported dataset's retrieval and
answers with those confirmations against none. The confirmed questions go to a scratch question
folder; the organisation's documents and the reported questions are untouched (the leak guard
checks that no confirmed question is a near copy of a reported one)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation.dataset import load_dataset  # noqa: E402
from assistant.evaluation.leaks import find_leaks  # noqa: E402
from assistant.evaluation.profiles import load_profiles, prepare_index, profile_settings  # noqa: E402
from assistant.evaluation.runner import run_eval  # noqa: E402
from assistant.runtime.stores import open_index  # noqa: E402
from core.settings import Settings  # noqa: E402


def confirmations(calibration: Path, per_section: int | None) -> dict[str, list[str]]:
    """Locator -> questions, at most ``per_section`` per locator, from a dataset folder."""
    out: dict[str, list[str]] = {}
    for item in load_dataset(calibration):
        for locator in item.gold:
            asks = out.setdefault(locator, [])
            if per_section is None or len(asks) < per_section:
                asks.append(item.question)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="saguaro")
    parser.add_argument("--per-section", default="1,all", help="comma-separated N, or 'all'")
    args = parser.parse_args(argv)
    base = Settings()
    profile = load_profiles()[args.profile]
    if profile.calibration is None or not profile.calibration.is_dir():
        raise SystemExit(f"profile {profile.name} has no calibration dataset folder")
    reported = load_dataset(profile.dataset)
    rows = []
    for label in ["0", *args.per_section.split(",")]:
        n = None if label == "all" else int(label)
        with tempfile.TemporaryDirectory() as scratch:
            settings = profile_settings(base, profile)
            if n != 0:
                pairs = confirmations(profile.calibration, n)
                entries = [{"locator": loc, "asks": asks} for loc, asks in pairs.items()]
                flat = [(a, loc) for loc, asks in pairs.items() for a in asks]
                leaks = find_leaks(reported, flat)
                if leaks:
                    raise SystemExit(f"{len(leaks)} confirmed questions near-copy reported ones")
                folder = Path(scratch) / "questions"
                folder.mkdir()
                (folder / "confirmed.yaml").write_text(yaml.safe_dump(entries, sort_keys=False))
                retrieval = settings.retrieval.model_copy(update={"corpus_questions": str(folder)})
                settings = settings.model_copy(update={"retrieval": retrieval})
                confirmed = len(flat)
            else:
                confirmed = 0
            prepare_index(base, settings, profile)
            result = run_eval(
                settings,
                open_index(settings),
                dataset_dir=profile.dataset,
                thresholds_path=None,
                out_root=None,
                baselines=False,
                depths=(),
            )
        s = result.summary
        project = s["retrieval"][s["project_system"]]
        rows.append(
            (
                label,
                confirmed,
                {
                    g: project[g]["recall@5"]
                    for g in ("policy", "baa", "multi", "all")
                    if g in project
                },
                {g: project[g]["mrr"] for g in ("policy", "baa", "all") if g in project},
                s["answers"]["abstained_when_answerable"],
                s["abstention"]["tp"],
            )
        )
    print(
        "| confirmed per section | questions | recall@5 policy / baa / multi / all "
        "| MRR policy / baa / all | answerable refused | unanswerable abstained |"
    )
    print("| --- | ---: | --- | --- | ---: | ---: |")
    for label, confirmed, recall, mrr, refused, abstained in rows:
        r = " / ".join(f"{v:.2f}" for v in recall.values())
        m = " / ".join(f"{v:.2f}" for v in mrr.values())
        print(f"| {label} | {confirmed} | {r} | {m} | {refused} | {abstained} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
