"""Calibrate the abstention thresholds on evals/calibration.yaml against a built index.

    python scripts/calibrate_abstention.py   # uses the configured data dir and embedder

Prints each question's evidence (best dense similarity, best question-index similarity, unknown
words) and the thresholds that best separate answerable from unanswerable questions (F1 of
abstention, with a wrong refusal weighing three times a missed one).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering.abstain import (  # noqa: E402
    Evidence,
    decide,
    measure,
)
from assistant.answering.build import build_chain  # noqa: E402
from assistant.index.reader import Scope  # noqa: E402
from assistant.runtime import open_index  # noqa: E402
from assistant.settings import AnswerSettings, Settings  # noqa: E402


def main() -> int:
    data = yaml.safe_load((ROOT / "evals" / "calibration.yaml").read_text())
    settings = Settings()
    index = open_index(settings)
    retriever = build_chain(settings, index).retriever
    scope = Scope.for_groups({"staff", "privacy-office", "legal"})
    rows: list[tuple[bool, Evidence, str]] = []
    for label, should_answer in (("answerable", True), ("not_answerable", False)):
        for q in data[label]:
            ev = measure(retriever.retrieve(q, scope), index.lexical)
            rows.append((should_answer, ev, q))
            print(
                f"{'A' if should_answer else 'N'} dense={ev.best_dense:.3f} "
                f"topic={ev.best_topic:.3f} cov={ev.coverage:.2f} "
                f"salient-unknown={','.join(ev.salient_unknown) or '-'} "
                f"named-unknown={'; '.join(ev.unknown_named) or '-'} "
                f"unstated={'; '.join(ev.unstated) or '-'}  {q}"
            )
    never = 1.1
    best = None
    for dense, unk, topic, unk_topic in itertools.product(
        [x / 100 for x in range(20, 56, 2)],
        [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, never],
        [x / 100 for x in range(50, 81, 5)] + [never],
        [x / 100 for x in range(50, 81, 5)] + [never],
    ):
        s = AnswerSettings(
            abstain_min_dense=dense,
            abstain_min_coverage=0.0,  # off (see assistant/answering/abstain.py)
            abstain_unknown_terms_min_dense=unk,
            abstain_min_topic=topic,
            abstain_unknown_terms_min_topic=unk_topic,
        )
        tp = fp = fn = 0
        for should_answer, ev, _ in rows:
            abstain = bool(decide(ev, s))
            tp += abstain and not should_answer
            fp += abstain and should_answer
            fn += (not abstain) and not should_answer
        # Real traffic is mostly answerable questions: a wrong refusal costs more than here,
        # where the two kinds are nearly balanced, so false abstentions weigh three times.
        f1 = 2 * tp / (2 * tp + 3 * fp + fn) if tp else 0.0
        # prefer fewer false abstentions on ties, then the loosest thresholds
        key = (f1, -fp, -dense, -unk, topic, unk_topic)
        if best is None or key > best[0]:
            best = (key, dense, unk, topic, unk_topic, tp, fp, fn)
    assert best is not None
    _, dense, unk, topic, unk_topic, tp, fp, fn = best
    print(
        f"\nbest: abstain_min_dense={dense} abstain_unknown_terms_min_dense={unk} "
        f"abstain_min_topic={topic} abstain_unknown_terms_min_topic={unk_topic}  (abstained "
        f"correctly {tp}, wrongly {fp}, missed {fn}; F1 {2 * tp / (2 * tp + fp + fn):.3f})"
    )
    chosen = AnswerSettings(
        abstain_min_dense=dense,
        abstain_min_coverage=0.0,
        abstain_unknown_terms_min_dense=unk,
        abstain_min_topic=topic,
        abstain_unknown_terms_min_topic=unk_topic,
    )
    for should_answer, ev, q in rows:
        reason = decide(ev, chosen)
        if bool(reason) == should_answer:
            print(f"  {'wrongly abstains' if should_answer else 'misses'}: {q}  ({reason or '-'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
