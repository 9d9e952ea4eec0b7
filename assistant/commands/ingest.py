from __future__ import annotations

import argparse
from contextlib import nullcontext

from assistant.checks.run import changed_contracts, check_all, load_catalogs
from assistant.runtime.build import prepare_after_ingest
from assistant.runtime.stores import open_store
from core.embeddings import Embedder, build_embedder
from core.errors import ConfigError
from core.index.shared import shared_index
from core.index.state import IndexState
from core.settings import Settings
from ingest.pipeline import IngestReport, run_ingest


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    embedder = build_embedder(settings.embedding)
    shared = shared_index(settings)
    state = IndexState(settings.paths.index_dir)
    adapters = settings.paths.data_dir / "adapters"
    # sharing its index, one ingest runs at a time on any machine, from the live generation
    with shared.ingest_lock() if shared else nullcontext():
        if shared is not None:
            shared.follow(state, adapters)
        report = run_ingest(
            settings,
            embedder,
            lambda: open_store(settings, embedder),
            rebuild=args.rebuild,
            progress=False if args.no_progress else None,
        )
        print_report(report)
        print_contract_gaps(settings, report)
        if report.ok:
            # the server then starts without embedding the question index or fitting the adapter
            prepare_after_ingest(settings, embedder, fit_adapter=not report.noop)
            if shared is not None and shared.live() != report.generation:
                shared.publish(state, adapters)
                print(f"generation {report.generation} is live for every server")
    if report.ok and args.suggest_questions:
        _suggest(settings, embedder, args.suggest_questions)
    return 0 if report.ok else 1


def print_report(report: IngestReport) -> None:
    for o in report.outcomes:
        if o.status in ("failed", "removed", "skipped", "added", "updated"):
            reason = f": {o.reason}" if o.reason else ""
            chunks = f" ({o.chunks} chunks)" if o.chunks else ""
            print(f"{o.status:8} {o.name}{chunks}{reason}")
    rate = ""
    if report.embedded:
        per_s = report.embedded / max(report.embed_seconds, 1e-9)
        rate = f", embedded {report.embedded} new chunks at {per_s:.1f}/s"
    state = "no changes" if report.noop else f"generation {report.generation}"
    print(
        f"ingest: {report.documents} documents, {report.chunks} chunks indexed "
        f"({report.count('added')} added, {report.count('updated')} updated, "
        f"{report.count('unchanged')} unchanged, {report.count('removed')} removed, "
        f"{report.count('skipped')} skipped, {len(report.failed)} failed){rate}; "
        f"{state}; {report.seconds:.1f}s"
    )


def print_contract_gaps(settings: Settings, report: IngestReport) -> None:
    """Each BAA this ingest added or updated, checked against the rule and the organisation's
    terms: what falls short, by clause and figure (no contract text: the operator's console is
    not a place to read contracts; `baa check` quotes them for those who may)."""
    changed = {o.key for o in report.outcomes if o.status in ("added", "updated")}
    generation = IndexState(settings.paths.index_dir).load() if changed else None
    if generation is None:
        return
    try:
        catalogs = load_catalogs(settings)
    except ConfigError as exc:
        print(f"baa check skipped: {exc}")
        return
    for c in changed_contracts(generation, changed, catalogs.organisation):
        rows = [r for r in check_all([c], catalogs) if r.status != "present"]
        if not rows:
            print(f"BAA {c.vendor}: meets every requirement checked")
            continue
        print(f"BAA {c.vendor}: {len(rows)} to review (hipaa-assistant baa check --vendor ...)")
        for r in rows:
            where = ", ".join(r.locators) or "-"
            detail = f" [{r.figure}]" if r.figure else ""
            print(f"  {r.status:12} {r.requirement.citation} ({r.requirement.id}) {where}{detail}")


def _suggest(settings: Settings, embedder: Embedder, count: int) -> None:
    from assistant.answering.llm import build_chat_model
    from assistant.retrieval.suggest import review_file, suggest, write_review
    from assistant.runtime.stores import open_index
    from assistant.safety import PhiGuard

    guard = PhiGuard(settings.phi)
    drafted = suggest(
        open_index(settings, embedder),
        build_chat_model(settings.llm),
        count=count,
        redact=lambda text: guard.check(text).text,
        progress=lambda done, total: print(f"\rdrafting questions: {done}/{total}", end=""),
    )
    path = review_file(settings)
    added = write_review(path, drafted)
    print(f"\n{added} drafted questions to review in {path}")
    print("accept them with: hipaa-assistant questions accept --user NAME [--locator LOCATOR]")
