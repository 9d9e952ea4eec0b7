"""Calibrate the abstention thresholds on every eval profile's calibration questions at once.

    python scripts/calibrate_abstention.py            # the configured data dir and embedder
    python scripts/calibrate_abstention.py --verbose  # also each question's evidence

Each profile (evals/profiles.yaml) names its calibration questions, kept apart from the dataset it
reports: Lakemont's evals/calibration.yaml (with and without its question files) and the unseen
organisation's development split. The thresholds chosen are the ones that best separate
answerable from unanswerable questions over all of them together (F1 of abstention, a wrong
refusal weighing three times a missed one, each profile weighing the same), so they hold for an
organisation with question files and for one without. The result is reported per profile.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering.abstain import Evidence, decide, measure  # noqa: E402
from assistant.evaluation.dataset import load_dataset  # noqa: E402
from assistant.evaluation.profiles import (  # noqa: E402
    Profile,
    load_profiles,
    prepare_index,
    profile_settings,
)
from assistant.runtime.build import build_chain  # noqa: E402
from assistant.runtime.stores import open_index  # noqa: E402
from core.index.reader import Scope  # noqa: E402
from core.settings import AnswerSettings, Settings  # noqa: E402

NEVER = 1.1


@dataclass(frozen=True)
class Row:
    answerable: bool
    evidence: Evidence
    question: str


def calibration_questions(path: Path) -> list[tuple[str, bool, tuple[str, ...]]]:
    """(question, answerable, groups): a dataset folder, or {answerable, not_answerable} lists."""
    if path.is_dir():
        return [(i.question, i.answerable, i.groups) for i in load_dataset(path)]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    everyone = ("staff", "privacy-office", "legal")
    return [(q, True, everyone) for q in data["answerable"]] + [
        (q, False, everyone) for q in data["not_answerable"]
    ]


def evidence_rows(base: Settings, profile: Profile, verbose: bool) -> list[Row]:
    assert profile.calibration is not None
    settings = profile_settings(base, profile)
    prepare_index(base, settings, profile)
    index = open_index(settings)
    chain = build_chain(settings, index)
    retriever = chain.retriever
    rows = []
    for question, answerable, groups in calibration_questions(profile.calibration):
        scope = Scope.for_groups(set(groups) | {"staff"})
        readable = index.allowed_rows(Scope(scope.groups))
        ev = measure(
            retriever.retrieve(question, scope),
            index.lexical,
            readable=readable,
            mentions=chain.mentions(),
        )
        rows.append(Row(answerable, ev, question))
        if verbose:
            print(
                f"  {'A' if answerable else 'N'} dense={ev.best_dense:.3f} "
                f"topic={ev.best_topic:.3f} salient-unknown={','.join(ev.salient_unknown) or '-'} "
                f"named-unknown={'; '.join(ev.unknown_named) or '-'} "
                f"unstated={'; '.join(ev.unstated) or '-'} "
                f"uncovered={'; '.join(ev.uncovered) or '-'}  {question}"
            )
    return rows


def counts(rows: list[Row], s: AnswerSettings) -> tuple[int, int, int]:
    """(abstained rightly, abstained wrongly, answered wrongly)."""
    tp = fp = fn = 0
    for row in rows:
        abstain = bool(decide(row.evidence, s))
        tp += abstain and not row.answerable
        fp += abstain and row.answerable
        fn += (not abstain) and not row.answerable
    return tp, fp, fn


def weighted_f1(tp: int, fp: int, fn: int) -> float:
    # Real traffic is mostly answerable questions: a wrong refusal costs more than here, where
    # the two kinds are nearly balanced, so false abstentions weigh three times.
    return 2 * tp / (2 * tp + 3 * fp + fn) if tp else 0.0


def candidates() -> list[AnswerSettings]:
    return [
        AnswerSettings(
            abstain_min_dense=dense,
            abstain_min_coverage=0.0,  # off (see assistant/answering/abstain.py)
            abstain_unknown_terms_min_dense=unk,
            abstain_min_topic=topic,
            abstain_unknown_terms_min_topic=unk_topic,
        )
        for dense, unk, topic, unk_topic in itertools.product(
            [x / 100 for x in range(20, 61, 2)],
            [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, NEVER],
            [x / 100 for x in range(50, 81, 5)] + [NEVER],
            [x / 100 for x in range(50, 81, 5)] + [NEVER],
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print each question's evidence")
    args = parser.parse_args(argv)
    base = Settings()
    profiles = [p for p in load_profiles().values() if p.calibration is not None]
    rows: dict[str, list[Row]] = {}
    for profile in profiles:
        print(f"{profile.name}: {profile.calibration}")
        rows[profile.name] = evidence_rows(base, profile, args.verbose)
    best = None
    for s in candidates():
        per = [weighted_f1(*counts(r, s)) for r in rows.values()]
        fps = sum(counts(r, s)[1] for r in rows.values())
        # the mean over profiles; fewer false abstentions on ties, then the loosest thresholds
        key = (round(sum(per) / len(per), 6), -fps, -s.abstain_min_dense, s.abstain_min_topic)
        if best is None or key > best[0]:
            best = (key, s)
    assert best is not None
    chosen = best[1]
    print(
        f"\nbest: abstain_min_dense={chosen.abstain_min_dense} "
        f"abstain_unknown_terms_min_dense={chosen.abstain_unknown_terms_min_dense} "
        f"abstain_min_topic={chosen.abstain_min_topic} "
        f"abstain_unknown_terms_min_topic={chosen.abstain_unknown_terms_min_topic}"
    )
    current = AnswerSettings()
    for name, r in rows.items():
        answerable = sum(1 for x in r if x.answerable)
        for label, s in (("chosen", chosen), ("current defaults", current)):
            tp, fp, fn = counts(r, s)
            print(
                f"  {name} ({label}): unanswerable abstained {tp}/{tp + fn}, answerable refused "
                f"{fp}/{answerable}, F1 {2 * tp / (2 * tp + fp + fn) if tp else 0.0:.3f}"
            )
        for row in r:
            reason = decide(row.evidence, chosen)
            if bool(reason) == row.answerable:
                what = "wrongly abstains" if row.answerable else "misses"
                print(f"    {what}: {row.question}  ({reason or '-'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
