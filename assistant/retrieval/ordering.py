"""The last steps of retrieval, on the fused order: a locator the question names comes first
(``named_locator``), each kind of source keeps a place in the top k (``source_quotas``), a
question plainly about the organisation's own documents gets them first (``source_routing``; the
documents it names outright share the places: ``shared_places``), and ``reorder`` stages choose
the rule passages that fill the rule's places (``reorder_rule_places``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from assistant.retrieval.stages import Query
from core.index.reader import Index
from core.settings import RetrievalSettings

ORGANISATION = ("policy", "baa")  # the organisation's own documents; the rest is the rule's side


def named_locator_hits(index: Index, query: Query, settings: RetrievalSettings) -> list[str]:
    """The passages holding each locator the question names, in the question's order."""
    located: list[str] = []
    for loc in query.plan.locators:
        for chunk in index.find_locator(loc, query.scope)[: settings.locator_max_chunks]:
            if chunk.chunk_id not in located:
                located.append(chunk.chunk_id)
    return located


def with_quotas(
    ordered: list[str],
    k: int,
    quotas: dict[tuple[str, ...], int],
    depth: int,
    kind: Callable[[str], str],
) -> list[str]:
    """Make sure the first ``k`` hold at least the quota of each kind of source when such
    passages rank within ``depth`` (the rule beside the organisation's own documents). A promoted
    passage takes the place of the lowest one whose kind stays above its own quota."""
    head, tail = list(ordered[:k]), list(ordered[k:depth])

    def count(kinds: tuple[str, ...]) -> int:
        return sum(1 for c in head if kind(c) in kinds)

    def spare(c: str) -> bool:
        return all(kind(c) not in kinds or count(kinds) > want for kinds, want in quotas.items())

    for kinds, want in quotas.items():
        for cand in [c for c in tail if kind(c) in kinds]:
            if count(kinds) >= want:
                break
            lowest = max(
                (i for i, c in enumerate(head) if kind(c) not in kinds and spare(c)), default=None
            )
            if lowest is None:
                break
            demoted = head.pop(lowest)
            head.append(cand)
            tail.remove(cand)
            tail.insert(0, demoted)
    return head + tail + list(ordered[depth:])


def organisation_lead(similarity: dict[str, float], kind: Callable[[str], str]) -> float:
    """How much closer the question comes to the organisation's documents than to the rule: the
    best cosine similarity of a policy or BAA passage minus the best of a rule passage, among the
    passages the dense search found (0 when either kind is missing)."""
    best: dict[str, float] = {}
    for cid, sim in similarity.items():
        side = "organisation" if kind(cid) in ORGANISATION else kind(cid)
        best[side] = max(best.get(side, -1.0), sim)
    if "organisation" not in best or "rule" not in best:
        return 0.0
    return best["organisation"] - best["rule"]


def organisation_first(
    ordered: list[str],
    k: int,
    rule_places: int,
    kind: Callable[[str], str],
    org_leads: bool = False,
) -> list[str]:
    """The top ``k`` for a question plainly about the organisation's own documents: its best
    passages in their fused order, then ``rule_places`` rule passages (so the rule a policy
    implements can still be cited); in fused order, or with the organisation's first when
    ``org_leads``. Everything after the top ``k`` keeps its fused order."""
    org = [c for c in ordered if kind(c) in ORGANISATION]
    rule = [c for c in ordered if kind(c) not in ORGANISATION]
    take_rule = rule[: min(rule_places, len(rule))]
    head = org[: k - len(take_rule)] + take_rule
    if len(head) < k:
        head += [c for c in ordered if c not in head][: k - len(head)]
    chosen = set(head)
    if not org_leads:
        head = [c for c in ordered if c in chosen]
    return head + [c for c in ordered if c not in chosen]


def shared_places(
    ordered: list[str], k: int, source_of: Callable[[str], str | None], sources: list[str]
) -> list[str]:
    """The top ``k`` with the places that passages of the named ``sources`` hold there dealt
    among those sources in turn, each source's passages in fused order: "Does Meridian's breach
    deadline meet AI-310?" names a contract and a policy, and the contract's clauses, boosted
    twice as the vendor's and as a named document, no longer take every place from the policy.
    The places of other passages (the rule's) do not change."""
    head = ordered[:k]
    places = [i for i, c in enumerate(head) if source_of(c) in sources]
    queues = {src: [c for c in ordered if source_of(c) == src] for src in sources}
    if len(sources) < 2 or not places or sum(bool(q) for q in queues.values()) < 2:
        return ordered
    picks: list[str] = []
    while len(picks) < len(places) and any(queues.values()):
        for src in sources:
            if queues[src] and len(picks) < len(places):
                picks.append(queues[src].pop(0))
    for i, cid in zip(places, picks, strict=False):
        head[i] = cid
    chosen = set(head)
    return head + [c for c in ordered if c not in chosen]


def reorder_rule_places(
    ordered: list[str],
    k: int,
    fused: Mapping[str, float],
    extra: Mapping[str, float],
    kind: Callable[[str], str],
    depth: int,
) -> list[str]:
    """The top ``k`` with the places the rule's passages hold (everything but policies and BAAs)
    filled, in the same places, by the rule passages that score best on ``fused`` plus ``extra``
    (a ``reorder`` stage's values), drawn from the top ``k``, the first ``depth`` of ``ordered``
    and ``extra``'s own passages. The organisation's passages and how many places each side
    holds do not change."""
    head = ordered[:k]
    places = [i for i, c in enumerate(head) if kind(c) not in ORGANISATION]
    if not places or not extra:
        return ordered
    # every rule passage of the top k is a candidate for its own place, however deep k goes
    drawn = dict.fromkeys([*head, *ordered[:depth], *extra])
    pool = [c for c in drawn if kind(c) not in ORGANISATION]
    pool.sort(key=lambda c: -(fused.get(c, 0.0) + extra.get(c, 0.0)))
    new_head = list(head)
    for i, cid in zip(places, pool, strict=False):
        new_head[i] = cid
    chosen = set(new_head)
    return new_head + [c for c in ordered if c not in chosen]
