"""The checks: from a rule and the computed summaries to a :class:`~validator.result.Result`.

``core`` (evaluate, and each rule's declared needs), ``bootstrap`` (intervals), ``bounds``
(verdicts and their helpers), and one module per rule family: ``counts``, ``divergence``
(reference rules), ``features`` (distance spread, Vendi), ``text``. The checks never read
files (references come through summaries.references.ReferenceStore) and never decide how the
data is read (the engine and the plan do).

May import: metrics, result, rules, summaries, embed, progress. Never: plan, engine,
pandera_schema, report, cli.
"""

from .bootstrap import basic_interval, chi2_interval
from .bounds import failed_to_measure, new_result
from .core import evaluate, needs

__all__ = ["basic_interval", "chi2_interval", "evaluate", "failed_to_measure", "needs", "new_result"]
