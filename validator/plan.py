"""The plan: which summaries a run computes, from each rule's declaration (checks.needs).

No rule is evaluated to find out what it reads. :func:`declared` asks every rule for the
summaries it needs given what is known so far; a summary whose parameters depend on another's
value (a histogram on edges from the data's range, Wasserstein cells at the quantiles of a
sample) is declared once that value is known. The streaming engines then run one pass per
level (:func:`run_passes`: one pass for most rule files, two for data-derived edges, three for
a Wasserstein/KS rule past its distinct-value cap), and the in-memory engine computes each
level's summaries on both cores before the rules read them (:func:`prefetch`).

Imports: checks (needs), rules (RuleSet), summaries (keys, merge, frame, references). Used by
the engine.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .checks import needs
from .rules.ruleset import RuleSet
from .summaries.frame import FrameSummaries
from .summaries.keys import UNKNOWN, SummaryKey
from .summaries.merge import compute
from .summaries.references import ReferenceStore

#: passes at most (levels of summaries that depend on others: 3 in practice)
MAX_PASSES = 6


def declared(ruleset: RuleSet, refs: ReferenceStore, known, rules=None) -> list[SummaryKey]:
    """Every summary the rules (default: all of the rule set) declare, given ``known``
    (key -> value, or UNKNOWN), without duplicates, in rule order."""
    keys: dict = {}
    for rule in ruleset.rules if rules is None else rules:
        for key in needs(rule, ruleset, refs, known):
            keys.setdefault(key, None)
    return list(keys)


def run_passes(summaries, ruleset: RuleSet, refs: ReferenceStore) -> None:
    """Passes over the data (``summaries``: StreamedSummaries or DaskSummaries) until every
    summary the rules declare is known; at least one pass (it counts the rows)."""
    while summaries.passes < MAX_PASSES:
        missing = [k for k in declared(ruleset, refs, summaries.lookup) if summaries.lookup(k) is UNKNOWN]
        if not missing and summaries.passes:
            return
        summaries.compute_pass(missing)


def prefetch(summaries: FrameSummaries, ruleset: RuleSet, refs: ReferenceStore) -> None:
    """Compute the declared summaries of a frame in memory, level by level, on two threads
    (one column group per task: numpy and pyarrow release the GIL), into the frame's cache
    where the rules find them. Text summaries are left to the rules (Python-bound work that
    the GIL would serialise); rules with ``where`` or ``group_by`` read subsets, left too.
    A summary that fails here is not cached: its rule computes it again and reports the error."""
    rules = [r for r in ruleset.rules if not r.where and not r.group_by]
    failed: dict = {}

    def known(key):
        if key in failed:
            return failed[key]
        return summaries.lookup(key)

    def run(keys):
        for key in keys:
            try:
                value = compute(summaries, key)
            except Exception as exc:  # noqa: BLE001 - computed again, and reported, by its rule
                value = exc
            if isinstance(value, Exception):
                failed[key] = value

    for _ in range(MAX_PASSES):
        level = [k for k in declared(ruleset, refs, known, rules)
                 if known(k) is UNKNOWN and not k.on_texts and k.kind != "dtype"]
        if not level:
            return
        groups: dict = {}
        for key in level:
            groups.setdefault(frozenset(key.reads), []).append(key)
        if len(groups) < 2:
            run(level)
            continue
        with ThreadPoolExecutor(max_workers=2) as pool:
            # row samples first: the longest single task
            list(pool.map(run, sorted(groups.values(), key=lambda ks: ks[0].kind != "row_sample")))
