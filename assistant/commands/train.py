"""`hipaa-assistant train`: train the question encoder on the rules' questions of the question
index for the current index (``assistant.retrieval.tuning``); kept in the data folder, used when
``retrieval.query_tuning`` is on (ingest then trains it itself when its inputs change)."""

from __future__ import annotations

import argparse
import sys
import time

from core.settings import Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-progress", action="store_true", help="no progress line")


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.runtime.build import build_topics, build_tuned
    from assistant.runtime.stores import open_index
    from core.embeddings import build_embedder
    from core.errors import ConfigError

    retrieval = settings.retrieval.model_copy(update={"query_tuning": True})
    tuned_settings = settings.model_copy(update={"retrieval": retrieval})
    embedder = build_embedder(settings.embedding)
    index = open_index(tuned_settings, embedder)
    if not index.chunks:
        raise ConfigError("nothing is indexed yet: run 'hipaa-assistant ingest' first")
    topics = build_topics(tuned_settings, embedder)
    if topics is None:
        raise ConfigError("there is no question index to train on (retrieval.topics_dir)")

    def progress(done: int, total: int) -> None:
        if not args.no_progress:
            print(f"\rtraining the question encoder: step {done}/{total}", end="", file=sys.stderr)

    started = time.perf_counter()
    encoder = build_tuned(tuned_settings, index, topics, train=True, progress=progress)
    if not args.no_progress:
        print(file=sys.stderr)
    if encoder is None:
        print(
            "nothing to train on: no question of the question index names an indexed rule passage"
        )
        return 1
    kinds = ", ".join(sorted(encoder.kinds))
    print(f"question encoder ready in {time.perf_counter() - started:.0f} s; it ranks: {kinds}")
    if not settings.retrieval.query_tuning:
        print(
            "retrieval.query_tuning is off, so retrieval does not use it yet: set "
            "HIPAA_ASSISTANT_RETRIEVAL__QUERY_TUNING=true"
        )
    return 0
