"""pretrain-validator: gate datasets on diversity and representativeness.

>>> from validator import load_rules, validate
>>> report = validate(df, load_rules("rules/pretrain.yaml"))   # doctest: +SKIP
>>> report.passed, [r.observed for r in report.results]        # doctest: +SKIP

The public face: ``validate``, ``load_rules``, ``RuleSet``, ``Report``, ``Result``, ``read_table``,
``to_pandera`` and the error names (defined in :mod:`validator.errors`). Rooms: ``rules/`` (the
rule file) -> ``summaries/`` (reading data) -> ``metrics/`` (numeric kernels) -> ``checks``
(rule + summaries -> Result) -> ``pandera_schema`` and ``engine`` (``validate``) -> ``report/``
(rendering) and ``cli/`` (every command's ``main``); ``errors`` and ``_version`` import nothing
of the package. This module imports only what it exports.
"""

from __future__ import annotations

from ._version import __version__
from .engine import validate
from .errors import DataReadError, MeasurementError, RuleFileError, ValidationFailure
from .pandera_schema import to_pandera
from .result import Report, Result
from .rules.loader import load_rules
from .rules.ruleset import RuleSet
from .summaries.io import read_table

__all__ = [
    "DataReadError",
    "MeasurementError",
    "Report",
    "Result",
    "RuleFileError",
    "RuleSet",
    "ValidationFailure",
    "__version__",
    "load_rules",
    "read_table",
    "to_pandera",
    "validate",
]
