"""The rule set: a validated rule file (:class:`RuleSet`) and what it says about the data (which
columns the rules read, which of them to read as text, the reference of a rule).

Imports only the rule model. ``RuleSet.to_pandera`` calls the compiler that
:mod:`validator.pandera_schema` registers with :func:`set_schema_compiler` on import (rules/
sits below the schema compiler and never imports it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .model import TEXT_METRICS, CountRule, NumericReferenceRule, Reference, ReferenceRule, RuleFile


@dataclass(frozen=True)
class RuleSet:
    """A validated rule file.

    Attributes
    ----------
    model : RuleFile
        The typed rule file.
    source : str
        Where it came from (a path, or ``<text>`` / ``<dict>``).
    base_dir : Path
        Folder that relative reference paths resolve against (the rule file's folder).
    """

    model: RuleFile
    source: str
    base_dir: Path

    @property
    def rules(self):
        return self.model.rules

    @property
    def columns(self):
        return self.model.columns

    def data_columns(self) -> set[str]:
        """Every data column the rules and the declared columns read: a rule's ``column``,
        ``weight``, ``group_by``, the columns of its ``where`` conditions, its feature
        ``columns`` or its ``embed`` column. A reference's own ``column`` (a column of another
        file) is not one of them. Readers may leave every other column unread."""
        out = set(self.columns)
        for rule in self.rules:
            for name in ("column", "weight", "group_by"):
                if (value := getattr(rule, name, None)) is not None:
                    out.add(value)
            out.update(getattr(rule, "columns", None) or ())
            out.update(condition.column for condition in getattr(rule, "where", None) or ())
            if (embed := getattr(rule, "embed", None)) is not None:
                out.add(embed.column)
        return out

    def reference_for(self, rule: ReferenceRule | NumericReferenceRule) -> Reference:
        """The reference a divergence rule compares against (named or inline)."""
        if isinstance(rule.reference, str):
            return self.model.references[rule.reference]
        return rule.reference

    def resolve(self, path: str) -> Path:
        """A path from the rule file, relative to the rule file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def category_columns(self) -> set[str]:
        """Columns counted by value (categorical rules) and those declared ``str`` or ``category``:
        typed as numbers by some shards and as text by others, they are compared as text."""
        out = set()
        for rule in self.rules:
            if isinstance(rule, CountRule) and rule.bins is None:
                out.add(rule.column)
            elif isinstance(rule, ReferenceRule) and self.reference_for(rule).kind != "bins" and rule.bins is None \
                    and getattr(rule, "text_length", None) is None:
                out.add(rule.column)
        out.update(c for c, spec in self.columns.items() if spec.dtype in ("str", "category"))
        return out

    def text_columns(self) -> set[str]:
        """Columns that text files should keep as written: those counted by value (categorical rules)
        and those declared ``str`` or ``category``.

        Declared dtypes still hold for such columns: number text is int/float/numeric, ``True``
        text is bool, ISO dates are datetime (see ``validator.pandera_schema.DTYPE_KINDS``).
        """
        out = set()
        for rule in self.rules:
            if isinstance(rule, CountRule) and rule.bins is None:
                out.add(rule.column)
            elif isinstance(rule, ReferenceRule) and self.reference_for(rule).kind != "bins" and rule.bins is None:
                out.add(rule.column)
            elif rule.metric in TEXT_METRICS or getattr(rule, "text_length", None) is not None:
                out.add(rule.column)  # texts: "007" is three characters, not the number 7
            elif getattr(rule, "embed", None) is not None:
                out.add(rule.embed.column)
        # a column declared as text (zip codes, ids) is read as text whatever rules use it
        out.update(c for c, spec in self.columns.items() if spec.dtype in ("str", "category"))
        return out

    def to_pandera(self):
        """Compile into a pandera ``DataFrameSchema`` whose checks compute the same metrics.

        See :func:`validator.pandera_schema.to_pandera` (the compiler registered with
        :func:`set_schema_compiler` when the package is imported).
        """
        return _SCHEMA_COMPILER[0](self)


#: the compiler of ``RuleSet.to_pandera``: validator.pandera_schema registers its ``to_pandera``
#: here when imported (which ``import validator`` always does), so that rules/ needs no import
#: of the modules above it (docs/DESIGN.md, dependency direction)
_SCHEMA_COMPILER: list = [None]


def set_schema_compiler(compile_schema) -> None:
    """Register the function behind :meth:`RuleSet.to_pandera` (``ruleset -> DataFrameSchema``)."""
    _SCHEMA_COMPILER[0] = compile_schema
