"""From a rule and the data's summaries to a :class:`~validator.result.Result`.

This module measures (summaries -> metric functions) and then applies the bounds. It never
reads files itself: data comes as :class:`~validator.summaries.frame.FrameSummaries`, reference
files through :class:`ReferenceStore`.
"""

from __future__ import annotations

import os
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ReferenceMissing
from .metrics._log import log_base, unit
from .metrics.distance import distance_statistic, nearest_neighbour_distances, nearest_neighbours, standardize
from .metrics.divergence import (
    chi_square_gof,
    chi_square_p_value,
    epsilon_smooth,
    hellinger_distance,
    js_distance,
    js_divergence,
    kl_contributions,
    kl_divergence,
    laplace_smooth,
    linf_distance,
    population_stability_index,
    shares,
    total_variation,
)
from .metrics.diversity import coverage, distinct_count, distinct_ratio, dominance, gini_simpson, hill_number, imbalance_ratio
from .metrics.distribution import ks_p_value
from .metrics.entropy import shannon_entropy
from .metrics.text import clusters_from_labels, duplicate_fraction
from .metrics.vendi import RBF_MAX_ROWS, vendi_score
from .result import Result
from .rules.model import (
    NULL_CATEGORY,
    CountRule,
    DistanceSpreadRule,
    DuplicateFractionRule,
    EmbedSpec,
    NearDuplicateFractionRule,
    NgramEntropyRule,
    NumericReferenceRule,
    Reference,
    ReferenceRule,
    TypeTokenRatioRule,
    VendiScoreRule,
)
from .rules.ruleset import RuleSet
from .summaries.frame import BOOL_TEXT, FrameSummaries, MeasurementError, category_key
from .summaries.histogram import cell_labels, equal_width_edges
from .summaries.io import DataReadError, read_table
from .summaries.normalize import merge_normalized, normalize_counts, normalize_text

TOP = 5  # categories listed in details (largest contributions, unseen categories)


LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"  # first line of every git LFS pointer file


def _git_show(path: Path, rev: str) -> bytes | None:
    """The content of ``path`` at ``rev``, or None when the revision does not have the file.

    Read through git's own filters (``git cat-file --filters``), so a file tracked with git LFS
    is its real content, as a checkout would write it, not the pointer text."""
    import subprocess

    path = Path(path).resolve()
    try:
        proc = subprocess.run(["git", "cat-file", "--filters", f"{rev}:./{path.name}"], cwd=path.parent, capture_output=True)
    except FileNotFoundError:
        raise MeasurementError("a git reference needs git, which is not installed") from None
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode == 0 and not proc.stdout.startswith(LFS_POINTER):
        return proc.stdout
    if proc.returncode == 0 or "git-lfs" in err or "smudge" in err:
        raise MeasurementError(_lfs_missing(path.name, rev))
    if "does not exist in" in err or "exists on disk, but not in" in err:
        return None
    first = err.splitlines()[0] if err else f"exit code {proc.returncode}"
    raise MeasurementError(f"git show {rev}:{path.name} (in {path.parent}) failed: {first}")


def _lfs_missing(name: str, rev: str) -> str:
    """One line saying why a git LFS file's content at ``rev`` cannot be read, and what to run."""
    import shutil

    if shutil.which("git-lfs") is None:
        return (f"{name} at {rev} is a git LFS pointer and git-lfs is not installed: install git-lfs "
                "(Debian package git-lfs), then run `git lfs install` and `git lfs pull`")
    return (f"{name} at {rev} is a git LFS pointer whose content is not in this clone: run `git lfs install` "
            f"(git's LFS filters) and `git lfs fetch origin {rev}`")


def _git_ls(folder: Path, rev: str) -> list[str] | None:
    """Names of the files directly in ``folder`` at ``rev``; None when the revision lacks the folder."""
    import subprocess

    folder = Path(folder).resolve()
    try:
        proc = subprocess.run(["git", "ls-tree", "-z", "--name-only", rev, "--", "./"], cwd=folder, capture_output=True)
    except FileNotFoundError:
        raise MeasurementError("a git reference needs git, which is not installed") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise MeasurementError(f"git ls-tree {rev} (in {folder}) failed: {err.splitlines()[0] if err else proc.returncode}")
    # -z: NUL-separated, unquoted names (without it git quotes non-ASCII, quotes, tabs, newlines)
    names = [os.fsdecode(n) for n in proc.stdout.split(b"\0") if n]
    return names or None


def _effective(rule, ref: Reference, refs: "ReferenceStore") -> Reference:
    """A git reference reads the rule's own column unless it names another; a profile reference
    becomes the counts or histogram it holds."""
    if ref.kind == "profile":
        resolved = refs.profile_reference(ref)
        if resolved.kind == "bins" and getattr(rule, "bins", None) is not None:
            raise MeasurementError(f"the profile's edges for {ref.column!r} are frozen: remove the rule's 'bins'")
        return resolved
    if ref.kind == "git" and ref.column is None:
        return ref.model_copy(update={"column": rule.column})
    return ref


def _describe_reference(rule) -> str:
    """How a result names its reference: the name under 'references', or what an inline one reads."""
    if isinstance(rule.reference, str):
        return rule.reference
    ref = rule.reference
    if ref.kind == "git":
        return f"git {ref.git}" + (f" (column {ref.column})" if ref.column else "")
    if ref.kind in ("file", "profile"):
        return f"{ref.kind} {getattr(ref, ref.kind)} (column {ref.column})"
    return f"inline {ref.kind}"


def _ref_name(ref: Reference) -> str:
    return ref.file if ref.kind == "file" else f"git {ref.git}"


class ReferenceStore:
    """Reference data (files, and the data files' versions at git revisions), each read once per
    run and summarised like the data.

    Parameters
    ----------
    ruleset : RuleSet
    data_paths : list of Path, optional
        The data files being validated (sorted shards); needed by ``git`` references.
    """

    def __init__(self, ruleset: RuleSet, data_paths: list[Path] | None = None, data_args: list | None = None):
        self.ruleset = ruleset
        self.data_paths = data_paths
        self.data_args = data_args  # the DATA arguments as given: a directory means its files at the revision
        self._frames: dict[Path, FrameSummaries] = {}
        self._revisions: dict[str, FrameSummaries | Exception] = {}
        self._profiles: dict[Path, dict] = {}
        self._embedders: dict[tuple, object] = {}

    def embedder(self, spec: EmbedSpec):
        """The frozen embedder a rule names, loaded once per run.

        Raises
        ------
        DataReadError
            A hashing artefact that is missing, corrupt or of another format version (exit 3).
        MeasurementError
            A pretrained model whose optional extra is not installed (the message is the
            ``pip install`` hint).
        """
        key = (spec.embedder, spec.artefact)
        if key not in self._embedders:
            if spec.embedder == "hashing":
                from .embed.hashing import EmbedderError, HashingEmbedder

                try:
                    self._embedders[key] = HashingEmbedder.load(self.ruleset.resolve(spec.artefact))
                except EmbedderError as exc:
                    raise DataReadError(exc.path, exc.message, kind="embedder") from None
            else:
                from .embed.models import ExtraMissing, load_pretrained

                try:
                    self._embedders[key] = load_pretrained(spec.embedder)
                except ExtraMissing as exc:
                    raise MeasurementError(str(exc)) from None
        return self._embedders[key]

    def preload(self) -> None:
        """Read every reference file, profile and embedder artefact now, so an unreadable one
        stops the run (exit 3)."""
        for path in self.files():
            self.summaries(str(path))
        for rule in self.ruleset.rules:
            embed = getattr(rule, "embed", None)
            if embed is not None and embed.embedder == "hashing":
                self.embedder(embed)
        for rule in self.ruleset.rules:
            if isinstance(rule, (ReferenceRule, NumericReferenceRule)):
                ref = self.ruleset.reference_for(rule)
                if ref.kind == "profile":
                    try:
                        self.profile_reference(ref)
                    except MeasurementError:
                        pass  # a column the profile lacks is the rule's own error, reported with it

    def profile_reference(self, ref: Reference) -> Reference:
        """A ``profile`` reference as the counts (or histogram) reference it stands for."""
        from .profile import load_profile

        path = self.ruleset.resolve(ref.profile)
        if path not in self._profiles:
            try:
                self._profiles[path] = load_profile(path)
            except OSError as exc:
                raise DataReadError(path, f"cannot be read: {exc.strerror or exc}", kind="reference") from None
            except ValueError as exc:
                raise DataReadError(path, str(exc), kind="reference") from None
        columns = self._profiles[path]["columns"]
        if ref.column not in columns:
            skipped = (self._profiles[path].get("skipped") or {}).get(ref.column)
            why = f": it was not profiled ({skipped})" if skipped else f" (profiled: {', '.join(columns)})"
            raise MeasurementError(f"column {ref.column!r} is not in the profile {ref.profile}{why}")
        col = columns[ref.column]
        if col["kind"] == "numeric":
            return Reference(bins={"edges": col["edges"], "counts": [float(c) for c in col["counts"]]})
        return Reference(counts={k: float(v) for k, v in col["counts"].items()}, other=col.get("other"))

    def for_reference(self, ref: Reference) -> FrameSummaries:
        """Summaries of a ``file`` or ``git`` reference."""
        if ref.kind == "file":
            return self.summaries(ref.file)
        return self.at_revision(ref.git, ref.on_missing or "skip")

    def at_revision(self, rev: str, on_missing: str) -> FrameSummaries:
        """The data files as committed at ``rev`` (``git show``; no checkout is touched).

        Raises
        ------
        ReferenceMissing
            A data file is not in ``rev`` (e.g. its first commit) and ``on_missing`` is skip.
        MeasurementError
            The same with ``on_missing: fail``; no data files (a DataFrame); git errors.
        """
        key = f"{rev}\0{on_missing}"
        if key not in self._revisions:
            try:
                self._revisions[key] = self._read_revision(rev, on_missing)
            except (ReferenceMissing, MeasurementError) as exc:
                self._revisions[key] = exc
        found = self._revisions[key]
        if isinstance(found, Exception):
            raise found
        return found

    def _paths_at(self, rev: str) -> list[Path]:
        """The dataset's files at ``rev``: a directory argument lists its data files as committed
        there (a shard deleted since still counts; one added since does not); a file argument is
        itself; a glob, the files it matches now."""
        import glob as globbing

        from .summaries.io import SUPPORTED, extension

        if not self.data_args:
            return list(self.data_paths)
        out: list[Path] = []
        for arg in self.data_args:
            p = Path(arg)
            if p.is_dir():
                listed = _git_ls(p, rev)
                if listed is None:  # the directory is not in the revision: its files count as missing
                    out.extend(q for q in self.data_paths if q.resolve().parent == p.resolve())
                else:
                    out.extend(p / name for name in listed if extension(Path(name)) in SUPPORTED)
            elif globbing.has_magic(str(arg)) and not p.exists():
                out.extend(Path(m) for m in globbing.glob(str(arg), recursive=True))
            else:
                out.append(p)
        unique = {q.resolve(): q for q in out}
        return sorted(unique.values(), key=str)

    def _read_revision(self, rev: str, on_missing: str) -> FrameSummaries:
        import tempfile

        import pandas as pd

        if not self.data_paths:
            raise MeasurementError(
                "a git reference compares data files with their committed version: validate files, not a DataFrame"
            )
        frames, missing = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for i, path in enumerate(self._paths_at(rev)):
                content = _git_show(path, rev)
                if content is None:
                    missing.append(str(path))
                    continue
                copy = Path(tmp) / f"{i}_{path.name}"  # same suffixes: read as the same format
                copy.write_bytes(content)
                try:
                    frames.append(read_table(copy, self.ruleset.text_columns()))
                except DataReadError as exc:
                    raise MeasurementError(f"{path} at {rev} cannot be read: {exc.message}") from None
        if missing:
            shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
            message = f"{len(missing)} data file(s) not in git revision {rev} (e.g. a first commit): {shown}"
            if on_missing == "skip":
                raise ReferenceMissing(message + "; skipped (on_missing: skip)")
            raise MeasurementError(message + " (on_missing: fail)")
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return FrameSummaries(frame, name=f"git {rev}")

    def files(self) -> list[Path]:
        """Every reference file the rule set names (resolved), for reading up front."""
        out = []
        for rule in self.ruleset.rules:
            if isinstance(rule, (ReferenceRule, NumericReferenceRule)):
                ref = self.ruleset.reference_for(rule)
                if ref.file is not None:
                    out.append(self.ruleset.resolve(ref.file))
        return out

    def _text_columns(self, path: Path) -> set[str]:
        """Reference columns compared by category: kept as written, like the data's."""
        out = set()
        for rule in self.ruleset.rules:
            if isinstance(rule, (ReferenceRule, NumericReferenceRule)) and (rule.text_length is not None or getattr(rule, "bins", 0) is None):
                ref = self.ruleset.reference_for(rule)
                if ref.file is not None and self.ruleset.resolve(ref.file) == path:
                    out.add(ref.column)
        return out

    def summaries(self, path: str) -> FrameSummaries:
        """The summaries of a reference file (raises DataReadError when unreadable)."""
        p = self.ruleset.resolve(path)
        if p not in self._frames:
            try:
                frame = read_table(p, self._text_columns(p))
            except DataReadError as exc:
                exc.kind = "reference"
                raise
            self._frames[p] = FrameSummaries(frame, name=f"reference file {path}")
        return self._frames[p]


def evaluate(rule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore) -> Result:
    """Measure one rule and compare it with its bounds.

    Returns a Result whose outcome is ``error`` (with the reason) when the rule cannot be
    measured: a missing or non-numeric column, no rows left after dropping nulls, ...
    A ``where`` restricts the rows first; a ``group_by`` measures each group and gives one
    result whose details list the groups. Reference files that cannot be read raise
    :class:`~validator.summaries.io.DataReadError`.
    """
    where = None
    if rule.where:
        try:
            mask = data.where_mask(rule.where)
        except MeasurementError as exc:
            return _failed_to_measure(rule, str(exc))
        where = _where_text(rule.where)
        if not mask.any():
            result = _failed_to_measure(rule, f"no rows meet the where conditions ({where}) among the {data.n_rows} rows")
            result.details.update(where=where, rows_matching_where=0)
            return result
        data = data.subset(mask, where)
    if rule.group_by:
        result = _grouped(rule, ruleset, data, refs)
    else:
        result = _evaluate_one(rule, ruleset, data, refs)
    if where is not None:
        result.details.update(where=where, rows_matching_where=data.n_rows)
    return result


def _new_result(rule) -> Result:
    params = rule.model_dump(exclude={"id", "metric", "min", "max", "severity", "description"}, by_alias=True)
    return Result(
        rule_id=rule.id,
        metric=rule.metric,
        outcome="error",
        severity=rule.severity,
        min=rule.min,
        max=rule.max,
        params=params,
        description=rule.description,
    )


def _failed_to_measure(rule, reason: str) -> Result:
    result = _new_result(rule)
    result.reason = reason
    return result


def _measure(rule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore, result: Result, resample_rows: bool = True) -> None:
    """Measure a rule into ``result``; for a weighted rule also set up the row resampler (not
    when measuring a resample itself, ``resample_rows=False``)."""
    if getattr(rule, "text_length", None) is not None:
        data = data.length_view(rule.column, rule.text_length)
        result.details["text_length"] = "Unicode code points" if rule.text_length == "chars" else "words (\\w+ runs)"
        excluded = {k: v for k, v in data.excluded_texts.items() if v}
        if excluded:
            first = excluded.pop("first_not_text_row", None)
            result.details["excluded_rows"] = excluded
            if first is not None:
                result.details["first_not_text_row"] = first
    if isinstance(rule, CountRule):
        _count_metric(rule, data, result)
    elif isinstance(rule, (DuplicateFractionRule, NearDuplicateFractionRule, NgramEntropyRule, TypeTokenRatioRule)):
        _text_metric(rule, data, refs, result)
    elif isinstance(rule, ReferenceRule):
        _divergence(rule, ruleset, data, refs, result)
    elif isinstance(rule, DistanceSpreadRule):
        _distance(rule, data, refs, result)
    elif isinstance(rule, VendiScoreRule):
        _vendi(rule, data, refs, result)
    elif isinstance(rule, NumericReferenceRule):
        _numeric_distance(rule, ruleset, data, refs, result)
    else:  # pragma: no cover - the model's union is closed
        raise MeasurementError(f"unknown metric {rule.metric!r}")
    weight = getattr(rule, "weight", None)
    if weight is not None and resample_rows and getattr(rule, "confidence", None) is not None:
        # only an interval needs the rows themselves (a streamed run has none, and needs none)
        result.resample = _row_resampler(rule, ruleset, data, refs, [rule.column, weight])


def _row_resampler(rule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore, columns: list[str]):
    """Resampler for weighted rules: rows (with their weights) drawn with replacement, and the
    rule measured again on them; exact, but each resample re-counts the rows."""
    frame = data.df[list(dict.fromkeys(columns))]

    def resample(rng):
        idx = rng.integers(0, len(frame), size=len(frame))
        again = _new_result(rule)
        _measure(rule, ruleset, FrameSummaries(frame.iloc[idx].reset_index(drop=True)), refs, again, resample_rows=False)
        return again.observed

    return resample


def _evaluate_one(rule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore) -> Result:
    result = _new_result(rule)
    try:
        _measure(rule, ruleset, data, refs, result)
    except MeasurementError as exc:
        result.outcome = "error"
        result.reason = str(exc)
        return result
    except ReferenceMissing as exc:
        result.outcome = "skipped"  # documented: a file's first commit has no previous version
        result.reason = str(exc)
        return result
    except (ValueError, TypeError, ArithmeticError, MemoryError) as exc:
        # an unforeseen fault in one rule must not hide the others' results
        result.outcome = "error"
        result.reason = f"could not be measured: {type(exc).__name__}: {exc}"
        return result
    min_rows = rule.min_rows or ruleset.model.defaults.min_rows
    rows_used = result.details.get("rows_with_finite_features", result.n)
    if min_rows is not None and rows_used is not None and rows_used < min_rows:
        result.outcome = "error"  # never a pass or a fail on too little data
        result.reason = f"insufficient data: {rows_used:g} rows, need {min_rows}"
        return result
    if rule.confidence is not None and result.resample is not None:
        _bootstrap(rule, result)
        result.decided_on = rule.decide_on
    _apply_bounds(result)
    return result


MAX_GROUPS = 1000


def _grouped(rule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore) -> Result:
    """One result for a ``group_by`` rule: passed only when every group passes."""
    result = _new_result(rule)
    try:
        column = data.column(rule.group_by)
    except MeasurementError as exc:
        result.reason = f"group_by: {exc}"
        return result
    codes, groups = pd.factorize(column, sort=True, use_na_sentinel=True)
    if len(groups) > MAX_GROUPS:
        result.reason = f"group_by {rule.group_by!r} makes {len(groups)} groups; at most {MAX_GROUPS} are measured"
        return result
    if len(groups) == 0:
        result.reason = f"group_by {rule.group_by!r}: no rows with a value to group by"
        return result
    entries = []
    for k, value in enumerate(groups):
        label = f"{rule.group_by}={category_key(value)}"
        one = _evaluate_one(rule, ruleset, data.subset(codes == k, label), refs)
        entries.append(
            {"group": category_key(value), "outcome": one.outcome, "observed": one.observed, "n": one.n,
             "units": one.units, "reason": one.reason}
        )
        result.units = result.units or one.units
    outcomes = [e["outcome"] for e in entries]
    result.outcome = "passed" if all(o == "passed" for o in outcomes) else ("failed" if "failed" in outcomes else "error")
    result.n = int(sum(e["n"] or 0 for e in entries))
    result.details["groups"] = entries
    result.details["group_by"] = rule.group_by
    null_rows = int((codes < 0).sum())
    if null_rows:
        result.details["rows_without_group"] = null_rows
    bad = [e for e in entries if e["outcome"] != "passed"]
    if bad:
        shown = ", ".join(f"{e['group']} ({e['outcome']}" + (f" {e['observed']:.4g})" if e["observed"] is not None else ")") for e in bad[:TOP])
        result.reason = f"{len(bad)} of {len(entries)} groups did not pass: {shown}" + (" ..." if len(bad) > TOP else "")
    return result


def _where_text(conditions) -> str:
    return " and ".join(f"{c.column} {c.operator} {c.operand!r}" for c in conditions)


#: resamples by default; distance and Vendi rules cost a full statistic per resample
BOOTSTRAP_RESAMPLES = 200
BOOTSTRAP_RESAMPLES_ROWS = 50
#: rows of each subsample of distance and Vendi rules: half the sample, at most this many
BOOTSTRAP_SUBSAMPLE_MAX = 1000


def _subsampler(X: np.ndarray, statistic):
    """Resampler for row statistics: subsamples of half the rows (<= 1,000), without replacement
    (resampling with replacement would create exact duplicate rows, biasing every distance)."""
    m = min(max(X.shape[0] // 2, 2), BOOTSTRAP_SUBSAMPLE_MAX)
    return lambda rng: statistic(X[rng.choice(X.shape[0], size=m, replace=False)])


#: 2N D_KL and 8N JS (nats) of N rows drawn from a fixed reference of K cells are asymptotically
#: chi-square(K - 1) when the truth is 0, noncentral with lambda = c N D near it
CHI2_SCALE = {"kl_divergence": 2.0, "js_divergence": 8.0}
#: the range of values a metric can take (the bias-corrected interval is clipped to it)
_UNIT_RANGE = {"gini_simpson", "dominance", "distinct_ratio", "total_variation", "hellinger_distance", "linf_distance",
               "coverage"}


def _value_range(rule) -> tuple[float, float]:
    if rule.metric in _UNIT_RANGE or (rule.metric == "entropy" and rule.normalize) or getattr(rule, "value", "") == "p_value":
        return 0.0, 1.0
    if rule.metric == "js_divergence":
        return 0.0, math.log(2.0) / log_base(rule.base)
    if rule.metric in ("hill_number", "imbalance_ratio", "distinct_count"):
        return 1.0, math.inf
    return 0.0, math.inf


def basic_interval(estimate: float, values: np.ndarray, confidence: float, value_range=(-math.inf, math.inf)) -> tuple[float, float]:
    """The basic (pivotal) bootstrap interval [2 t - t*_(1-a/2), 2 t - t*_(a/2)] of an estimate t,
    clipped to the metric's range and widened to contain t.

    The bootstrap's own bias (a plug-in divergence's resamples sit above the estimate by about
    the estimate's bias above the truth) is reflected, not copied: the percentile interval
    [t*_(a/2), t*_(1-a/2)] of a KL estimate of 0 lies entirely above 0. The order statistics
    at the tails are used without interpolation, as for the percentile interval; when the
    estimate or one of them is infinite, they are the interval's ends (the percentile interval).
    """
    tail = (1.0 - confidence) / 2.0
    low_q = float(np.quantile(values, tail, method="lower"))
    high_q = float(np.quantile(values, 1.0 - tail, method="higher"))
    if not (math.isfinite(estimate) and math.isfinite(low_q) and math.isfinite(high_q)):
        low, high = low_q, high_q  # an infinite estimate or resample: the percentile ends, infinity kept
    else:
        low, high = 2.0 * estimate - high_q, 2.0 * estimate - low_q
    low, high = max(low, value_range[0]), min(high, value_range[1])
    return min(low, estimate), max(high, estimate)


def chi2_interval(estimate: float, scale: float, df: int, confidence: float) -> tuple[float, float]:
    """Asymptotic interval of a divergence D from T = scale x D ~ noncentral chi-square(df,
    lambda = scale x D_true) (scale = 2N ln(base) for KL, 8N ln(base) for JS): the lambdas
    whose central ``confidence`` range holds T, over scale. When T does not reject D = 0 at
    level 1 - confidence (scipy.stats.chi2), the interval starts at 0 and reaches at least the
    chi-square's ``confidence`` quantile over scale (the estimate's size when the truth is 0)."""
    import scipy.optimize
    import scipy.stats

    tail = (1.0 - confidence) / 2.0
    t = scale * estimate

    def solve(f):  # the lambda where a decreasing f crosses 0
        top = max(t, 1.0)
        while f(top) > 0:
            top *= 2.0
        return scipy.optimize.brentq(f, 0.0, top, xtol=1e-12 * max(top, 1.0))

    low = 0.0 if scipy.stats.chi2.sf(t, df) >= tail else solve(lambda lam: tail - scipy.stats.ncx2.sf(t, df, lam))
    high = 0.0 if scipy.stats.chi2.cdf(t, df) <= tail else solve(lambda lam: scipy.stats.ncx2.cdf(t, df, lam) - tail)
    if scipy.stats.chi2.sf(t, df) >= 1.0 - confidence:
        low, high = 0.0, max(high, float(scipy.stats.chi2.ppf(confidence, df)))
    return low / scale, high / scale


def _bootstrap(rule, result: Result) -> None:
    """A seeded interval of the value at the rule's confidence level: basic (bias-reflecting)
    for count and categorical-divergence rules, with the asymptotic chi-square interval joined
    in for KL and JS; percentile (containing the estimate) for the rest."""
    spec = rule.bootstrap
    rows_statistic = rule.metric in ("distance_spread", "vendi_score")
    resamples = (spec.resamples if spec and spec.resamples else None) or (
        BOOTSTRAP_RESAMPLES_ROWS if rows_statistic else BOOTSTRAP_RESAMPLES
    )
    seed = spec.seed if spec else 0
    rng = np.random.default_rng(seed)
    values = np.array([result.resample(rng) for _ in range(resamples)], dtype=np.float64)
    values = values[~np.isnan(values)]
    tail = (1.0 - rule.confidence) / 2.0
    estimate = result.observed
    kind = "percentile (widened to contain the estimate)"
    if rule.metric in COUNT_METRICS or isinstance(rule, ReferenceRule):
        low, high = basic_interval(estimate, values, rule.confidence, _value_range(rule))
        kind = "basic (2 x estimate - resample quantiles), clipped to the metric's range, containing the estimate"
    else:
        # the order statistics at the tails (no interpolation: an infinite resample stays infinite)
        low = min(float(np.quantile(values, tail, method="lower")), estimate)
        high = max(float(np.quantile(values, 1.0 - tail, method="higher")), estimate)
    chi2 = getattr(result.resample, "chi2", None)
    if chi2 is not None and math.isfinite(estimate):
        a, b = chi2_interval(estimate, chi2[0], chi2[1], rule.confidence)
        low, high = min(low, a), max(high, b)
        kind += f", joined with the asymptotic noncentral chi-square({chi2[1]}) interval"
    result.interval, result.confidence = (low, high), rule.confidence
    if rows_statistic:
        m = min(max(result.n // 2, 2), BOOTSTRAP_SUBSAMPLE_MAX)
        method = f"{kind}; {resamples} subsamples of {m} of the {result.n} sampled rows, without replacement"
    else:
        method = f"{kind}; {resamples} multinomial resamples of the {result.n} rows over the categories (cells)"
        if getattr(rule, "weight", None) is not None:
            method = f"{kind}; {resamples} resamples of the rows with their weights, with replacement"
    result.details["bootstrap"] = {"resamples": resamples, "seed": seed, "method": method}


def _apply_bounds(result: Result) -> None:
    v = {"estimate": result.observed, "lower": (result.interval or (None, None))[0],
         "upper": (result.interval or (None, None))[1]}[result.decided_on]
    low_ok = result.min is None or v >= result.min
    high_ok = result.max is None or v <= result.max
    if math.isinf(v) and result.metric in DIVERGENCES:
        result.outcome = "failed"  # an infinite divergence fails by default (docs/DESIGN.md)
        return
    result.outcome = "passed" if (low_ok and high_ok) else "failed"
    if result.outcome == "failed" and not result.reason:
        bound = f">= {result.min:g}" if not low_ok else f"<= {result.max:g}"
        what = "observed" if result.decided_on == "estimate" else f"the interval's {result.decided_on} end"
        result.reason = f"{what} {v:.6g} {result.units or ''}".rstrip() + f", expected {bound}"


def _nonempty(n: int, data: FrameSummaries, column: str, nulls: int) -> None:
    if n <= 0:
        if data.n_rows == 0:
            raise MeasurementError(f"0 non-null values: the data has 0 rows")
        excluded = getattr(data, "excluded_texts", None)  # a text-length view: nulls and non-text values
        if isinstance(excluded, dict) and excluded.get("not_text"):
            raise MeasurementError(
                f"no text in column {column!r}: {excluded.get('null', 0)} null and {excluded['not_text']} non-text values"
                f" of {data.n_rows} rows"
            )
        raise MeasurementError(f"0 non-null values in column {column!r} ({nulls} null of {data.n_rows} rows)")


# -- entropy -----------------------------------------------------------------------------------


def _binned_counts(rule, data: FrameSummaries, column: str, edges, weight: str | None = None):
    """Histogram cells (with a null cell under ``nulls: category``), their labels, and the rows used."""
    cells, null_mass = data.histogram(column, edges, weight)
    rows, null_rows = data.numeric_count(column)
    counts = cells.astype(np.float64)
    labels = cell_labels(edges)
    if rule.nulls == "category" and null_rows:
        counts = np.append(counts, null_mass)
        labels = labels + ["<null>"]
        rows += null_rows
    return counts, labels, rows, null_rows


def _mass(counts: np.ndarray, rows: int, rule, data: FrameSummaries, nulls: int, result: Result) -> float:
    """Checks that the rows left carry mass; reports n and, with weights, their total."""
    _nonempty(rows, data, rule.column, nulls)
    total = float(counts.sum())
    if getattr(rule, "weight", None) is not None:
        result.details.update(weight=rule.weight, weight_total=total)
        if not total > 0:
            raise MeasurementError(f"the weights in {rule.weight!r} of the {rows} rows used sum to 0")
    result.n = rows
    return total


#: count-based metric name -> (kernel(counts, rule), units(rule)); see validator.metrics.
COUNT_METRICS = {
    "entropy": (
        lambda c, r: shannon_entropy(c, base=r.base, estimator=r.estimator, normalize=r.normalize),
        lambda r: "normalized (H / log K)" if r.normalize else unit(r.base),
    ),
    "hill_number": (lambda c, r: hill_number(c, order=r.order), lambda r: "effective categories"),
    "gini_simpson": (lambda c, r: gini_simpson(c), lambda r: "probability"),
    "distinct_count": (lambda c, r: distinct_count(c), lambda r: "categories"),
    "distinct_ratio": (lambda c, r: distinct_ratio(c), lambda r: "categories per row"),
    "dominance": (lambda c, r: dominance(c), lambda r: "share of rows"),
    "imbalance_ratio": (lambda c, r: imbalance_ratio(c), lambda r: "ratio"),
}


def _count_metric(rule: CountRule, data: FrameSummaries, result: Result) -> None:
    if rule.bins is not None:
        if rule.bins.edges is not None:
            edges = np.asarray(rule.bins.edges)
        else:
            rng = data.value_range(rule.column)
            if rng is None:
                _, nulls = data.numeric_count(rule.column)
                _nonempty(0, data, rule.column, nulls)
                raise MeasurementError(f"column {rule.column!r} has no finite values to bin")
            edges = equal_width_edges(rng[0], rng[1], rule.bins.count)
        counts, labels, rows, nulls = _binned_counts(rule, data, rule.column, edges, rule.weight)
        result.details["edges"] = [float(e) for e in edges]
    else:
        cc = data.value_counts(rule.column, rule.weight)
        keys, counts = cc.with_nulls(rule.nulls)
        if rule.normalize_values is not None:
            keys, counts = merge_normalized(keys, counts, rule.normalize_values, keep=(NULL_CATEGORY,))
        rows, nulls = cc.rows_used(rule.nulls), cc.null_rows
        labels = keys
    total = _mass(counts, rows, rule, data, nulls, result)
    kernel, units = COUNT_METRICS[rule.metric]
    result.observed = kernel(counts, rule)
    probabilities = counts / total
    result.resample = lambda rng: kernel(rng.multinomial(rows, probabilities), rule)
    result.units = units(rule)
    nz = counts > 0
    result.details.update(categories=int(nz.sum()), nulls=int(nulls), null_policy=rule.nulls)
    # labelled as categories are matched (true, 3 for a JSON true and an integer 3.0 with nulls);
    # ties in label order, so that every engine (whatever order it met the values in) lists the same
    shown = [label if isinstance(label, str) else category_key(label) for label in labels]
    order = np.lexsort((np.asarray(shown, dtype=object).astype(str), -counts))[:TOP] if len(shown) else []
    result.details["top_categories"] = {shown[i]: float(counts[i] / total) for i in order if counts[i] > 0}


# -- KL divergence -----------------------------------------------------------------------------


def _divergence(rule: ReferenceRule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore, result: Result) -> None:
    ref = _effective(rule, ruleset.reference_for(rule), refs)
    result.params["reference"] = _describe_reference(rule)
    ref_data = refs.for_reference(ref) if ref.kind in ("file", "git") else None
    if ref_data is not None and rule.text_length is not None:
        ref_data = ref_data.length_view(ref.column, rule.text_length)
    edges = _kl_edges(rule, ref, ref_data)
    if edges is not None:
        labels, p, q, q_is_prob, rows, nulls = _binned_cells(rule, ref, data, ref_data, edges)
        result.details["edges"] = [float(e) for e in edges]
    else:
        labels, p, q, q_is_prob, rows, nulls = _category_cells(rule, ref, data, ref_data, result)

    _mass(p, rows, rule, data, nulls, result)
    if not q.sum() > 0:
        raise MeasurementError(f"the reference has no mass (column {ref.column!r} of {_ref_name(ref)} is empty)")
    keep = (p > 0) | (q > 0)  # cells where neither side has mass are not part of the union
    p, q = p[keep], q[keep]
    labels = [l for l, k in zip(labels, keep) if k]

    def smoothed(p):
        if rule.smoothing is not None and rule.smoothing.laplace is not None:
            return laplace_smooth(p, q, rule.smoothing.laplace)
        q_use = q if q_is_prob else shares(q)  # counts become shares, explicitly
        if rule.smoothing is not None and rule.smoothing.epsilon is not None:
            q_use = epsilon_smooth(q_use, rule.smoothing.epsilon)
        return p, q_use

    smoothing = "none"
    if rule.smoothing is not None and rule.smoothing.laplace is not None:
        smoothing = f"laplace {rule.smoothing.laplace:g} added to each of {p.size} cells of the union"
    elif rule.smoothing is not None and rule.smoothing.epsilon is not None:
        smoothing = f"epsilon {rule.smoothing.epsilon:g} uniform mixing over {p.size} cells of the union"
    p_use, q_use = smoothed(p)
    value = _measure_divergence(rule, p_use, q_use, result.details)
    shares_data = p / p.sum()
    resample = lambda rng: _measure_divergence(rule, *smoothed(rng.multinomial(rows, shares_data).astype(np.float64)), {})
    laplace = rule.smoothing is not None and rule.smoothing.laplace is not None
    if rule.metric in CHI2_SCALE and not laplace and p.size >= 2:
        # c N D (nats) is asymptotically noncentral chi-square(K - 1) with the reference fixed
        resample.chi2 = (CHI2_SCALE[rule.metric] * rows * log_base(rule.base), p.size - 1)
    result.resample = resample
    result.observed = value
    if rule.metric == "coverage":
        result.units = f"share of reference {rule.of}"
    elif rule.metric == "chi_square":
        result.units = "p-value" if rule.value == "p_value" else "chi-square statistic"
    else:
        result.units = unit(rule.base) if hasattr(rule, "base") else "unitless, 0 to 1"
    result.details["smoothing"] = smoothing
    result.details["cells"] = len(labels)
    shares_p = shares(p_use)
    if math.isinf(value) or (rule.metric == "chi_square" and math.isinf(result.details["statistic"])):
        only_data = (shares_p > 0) & (q_use == 0)
        only_reference = (q_use > 0) & (shares_p == 0)
        if getattr(rule, "direction", "") == "reference_to_data":
            only_data[:] = False
        elif rule.metric in ("kl_divergence", "chi_square"):
            only_reference[:] = False
        missing = [labels[i] for i in np.flatnonzero(only_data)]
        absent = [labels[i] for i in np.flatnonzero(only_reference)]
        reasons = []
        if missing:
            result.details["missing_in_reference"] = [str(m) for m in missing]
            reasons.append(f"the data has {_few(missing)} the reference gives probability 0")
        if absent:
            result.details["missing_in_data"] = [str(m) for m in absent]
            reasons.append(f"the reference has {_few(absent)} the data lacks")
        binned = "edges" in result.details
        fixes = ["widen the reference's edges" if binned else "add them to the reference"]
        if not binned and missing:
            fixes.append("name a catch-all 'other' category")
        if rule.metric != "chi_square":
            fixes.append("smooth explicitly")
        result.reason = (
            ("infinite chi-square statistic: " if rule.metric == "chi_square" else "infinite divergence: ")
            + "; ".join(reasons) + "; " + ", ".join(fixes[:-1]) + (" or " if len(fixes) > 1 else "") + fixes[-1]
        )
    else:
        diff = shares_p - q_use
        order = np.argsort(-np.abs(diff), kind="stable")[:TOP]
        top = [
            {"category": str(labels[i]), "data_share": float(shares_p[i]), "reference_share": float(q_use[i])}
            for i in order
        ]
        if rule.metric == "kl_divergence" and rule.direction == "data_to_reference":
            terms = kl_contributions(p_use, q_use, base=rule.base)
            for cell, i in zip(top, order):
                cell["contribution"] = float(terms[i])
        result.details["largest_differences"] = top
    # both distributions, for plots: the 40 cells with the most mass on either side
    shown = np.argsort(-np.maximum(shares_p, q_use), kind="stable")[:40]
    result.details["distribution"] = [
        {"category": str(labels[i]), "data_share": float(shares_p[i]), "reference_share": float(q_use[i])} for i in shown
    ]


def _few(labels: list) -> str:
    shown = ", ".join(repr(str(m)) for m in labels[:TOP]) + (" ..." if len(labels) > TOP else "")
    return f"{len(labels)} categor{'y' if len(labels) == 1 else 'ies'} ({shown})"


#: divergence metric name -> kernel(p_counts, q_probabilities[, base]); see validator.metrics.
DIVERGENCES = {
    "kl_divergence": kl_divergence,
    "js_divergence": js_divergence,
    "js_distance": js_distance,
    "population_stability_index": population_stability_index,
    "total_variation": total_variation,
    "hellinger_distance": hellinger_distance,
    "linf_distance": linf_distance,
    "chi_square": chi_square_p_value,
}


def _measure_divergence(rule: ReferenceRule, p: np.ndarray, q: np.ndarray, details: dict) -> float:
    if rule.metric == "coverage":
        return coverage(p, q, of=rule.of)
    if rule.metric == "chi_square":
        statistic, p_value, dof = chi_square_gof(p, q)  # p: counts, never smoothed
        details.update(statistic=statistic, p_value=p_value, degrees_of_freedom=dof)
        return p_value if rule.value == "p_value" else statistic
    kernel = DIVERGENCES[rule.metric]
    if rule.metric == "kl_divergence" and rule.direction == "reference_to_data":
        return kl_divergence(q, shares(p), base=rule.base)  # D(Q || P)
    if hasattr(rule, "base"):
        return kernel(p, q, base=rule.base)
    return kernel(p, q)


def _kl_edges(rule: ReferenceRule, ref: Reference, ref_data: FrameSummaries | None):
    """Frozen bin edges of a numeric divergence rule, or None for a categorical one."""
    if ref.kind == "bins":
        return np.asarray(ref.bins.edges)
    if ref_data is None or rule.bins is None:
        return None
    if rule.bins.edges is not None:
        return np.asarray(rule.bins.edges)
    rng = ref_data.value_range(ref.column)  # count bins are frozen on the reference's range
    if rng is None:
        raise MeasurementError(f"reference column {ref.column!r} of {_ref_name(ref)} has no finite values to bin")
    return equal_width_edges(rng[0], rng[1], rule.bins.count)


def _binned_cells(rule, ref: Reference, data: FrameSummaries, ref_data, edges):
    """Cells (tails, bins, optional null cell) with the data's counts and the reference's mass."""
    p, labels, rows, nulls = _binned_counts(rule, data, rule.column, edges, rule.weight)
    if ref_data is None:
        values = ref.bins.probabilities if ref.bins.probabilities is not None else ref.bins.counts
        q = np.concatenate([[0.0], np.asarray(values, dtype=np.float64), [0.0]])
        q_is_prob = ref.bins.probabilities is not None
    else:
        q = _binned_counts(rule, ref_data, ref.column, edges)[0]
        q_is_prob = False
    if q.size < p.size:  # the data has a null cell the reference lacks
        q = np.append(q, 0.0)
    elif p.size < q.size:
        p = np.append(p, 0.0)
        labels = labels + ["<null>"]
    return labels, p, q, q_is_prob, rows, nulls


def _category_cells(rule, ref: Reference, data: FrameSummaries, ref_data, result: Result):
    """The union of data and reference categories, with the data's counts and the reference's mass."""
    p_dict = data.category_counts(rule.column, rule.nulls, rule.weight)
    cc = data.value_counts(rule.column, rule.weight)
    rows, nulls = cc.rows_used(rule.nulls), cc.null_rows
    typed = {_value_kind(data, rule.column)}
    other = ref.other
    if ref_data is not None:
        q_dict = ref_data.category_counts(ref.column, rule.nulls)
        typed.add(_value_kind(ref_data, ref.column))
        q_is_prob = False
    else:
        q_dict = dict(ref.categories if ref.kind == "categories" else ref.counts)
        q_is_prob = ref.kind == "categories"
    if rule.normalize_values is not None:  # the same normalisation on both sides
        spec = rule.normalize_values
        p_dict = normalize_counts(p_dict, spec, keep=(NULL_CATEGORY,))
        q_dict = normalize_counts(q_dict, spec, keep=(NULL_CATEGORY,))
        other = None if other is None else normalize_text(other, spec)
    if typed & {"number", "bool"}:
        # typed values (Parquet 1.0, JSON true) match keys that mean the same value: YAML's
        # '1.0' and '1', 'True' and 'true'; text read as written is compared as text
        p_dict, q_dict = _canonical_keys(p_dict, typed), _canonical_keys(q_dict, typed)
        other = None if other is None else _canonical_key(other, typed)
    if other is not None:
        unseen = {k: c for k, c in p_dict.items() if k not in q_dict}
        if unseen:
            p_dict = {k: c for k, c in p_dict.items() if k in q_dict}
            p_dict[other] = p_dict.get(other, 0) + sum(unseen.values())
            top = sorted(unseen.items(), key=lambda kv: -kv[1])
            result.details["counted_as_other"] = {str(k): int(c) for k, c in top[:20]}
            result.details["categories_counted_as_other"] = len(unseen)
    labels = list(q_dict) + [k for k in p_dict if k not in q_dict]
    p = np.array([p_dict.get(k, 0) for k in labels], dtype=np.float64)
    q = np.array([q_dict.get(k, 0.0) for k in labels], dtype=np.float64)
    return labels, p, q, q_is_prob, rows, nulls


def _value_kind(data: FrameSummaries, column: str) -> str:
    values = data.column(column)
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if dtype == object and len(values):
        # booleans with nulls (Parquet, JSON Lines) come as an object column: still booleans
        present = values.dropna()
        if len(present) and all(isinstance(v, (bool, np.bool_)) for v in present.head(1000)) and \
                present.map(lambda v: isinstance(v, (bool, np.bool_))).all():
            return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "text"


_TRUTH = {text: "true" if value else "false" for text, value in BOOL_TEXT.items()}


def _canonical_key(key: str, kinds: set[str]) -> str:
    if "bool" in kinds and key in _TRUTH:
        return _TRUTH[key]
    if "number" in kinds:
        try:
            return str(int(key))  # an integer key stays exact: float would make 2**53 + 1 into 2**53
        except ValueError:
            pass
        try:
            value = float(key)
        except ValueError:
            return key
        if math.isfinite(value):
            return category_key(value)
    return key


def _canonical_keys(counts: dict, kinds: set[str]) -> dict:
    out: dict = {}
    for k, c in counts.items():
        key = k if k == NULL_CATEGORY else _canonical_key(k, kinds)
        out[key] = out.get(key, 0) + c
    return out


# -- distance spread ---------------------------------------------------------------------------


def _features(rule, data: FrameSummaries, refs: ReferenceStore, result: Result, rows: int, need: int, zero_rows: str | None):
    """The rule's seeded feature sample (reported in details), scaled; ``zero_rows`` names the
    measure that an all-zero row makes undefined (cosine), or None."""
    if rule.embed is not None:
        from .progress import Progress

        from .embed.models import ExtraMissing

        embedder = refs.embedder(rule.embed)
        with Progress(f"embedding {rule.embed.column!r} ({rule.embed.embedder})") as progress:
            try:
                sample = data.embedding_sample(rule.embed.column, embedder, rows, rule.sample.seed, progress=progress)
            except ExtraMissing as exc:  # a pretrained model's extra, loaded lazily: the install hint
                raise MeasurementError(str(exc)) from None
        identity = dict(embedder.identity)
        if identity.get("artefact"):
            identity["artefact"] = rule.embed.artefact  # as the rule file names it, not machine-specific
        result.details["embedder"] = identity
        result.details["embedding_dimension"] = int(sample.X.shape[1])
        result.details.update(data.text_sample(rule.embed.column, rows, rule.sample.seed).describe())
        if sample.zero_rows:
            result.details.setdefault("excluded_rows", {})["zero_embedding"] = sample.zero_rows
    else:
        sample = data.row_sample(rule.columns, rows, rule.sample.seed)
        if len(rule.columns) == 1 and sample.X.ndim == 2 and sample.X.shape[1] > 1:
            result.details["embedding_dimension"] = int(sample.X.shape[1])  # a list-valued column
    result.details.update(
        sampling="exact" if sample.exact else "sampled",
        sample_size=int(sample.X.shape[0]),
        seed=rule.sample.seed,
        rows_with_finite_features=sample.n_valid,
        dropped_rows=sample.n_dropped,
    )
    if sample.n_dropped:
        result.details["dropped_reason"] = (
            "no text (null, empty or not a string) or a zero embedding (no n-gram the embedder knows)"
            if rule.embed is not None else "a feature was null, NaN or infinite"
        )
    if sample.X.shape[0] < need:
        what = f"texts in {rule.embed.column!r}" if rule.embed is not None else f"rows with finite values in {rule.columns}"
        raise MeasurementError(
            f"needs at least {need} {what}; found {sample.n_valid}"
            + (f" ({sample.n_dropped} rows dropped: {result.details['dropped_reason']})" if sample.n_dropped else "")
        )
    X = standardize(sample.X) if rule.scale == "standard" else sample.X
    if zero_rows is not None:
        zero = np.flatnonzero(~np.any(X != 0, axis=1))
        if zero.size:
            raise MeasurementError(
                f"the {zero_rows} is undefined for an all-zero feature vector: {zero.size} such row(s)"
                f"{' after scaling' if rule.scale == 'standard' else ''}, the first at data row {int(sample.indices[zero[0]]) + 1}"
                + (" (its embedding is the zero vector)" if rule.embed is not None else "")
            )
    return X, sample.indices


NN_STATISTICS = ("mean_nn", "quantile_nn", "duplicate_fraction")


def _distance(rule: DistanceSpreadRule, data: FrameSummaries, refs: ReferenceStore, result: Result) -> None:
    from .metrics.ann import EXACT_NN_CAP, NN_EXACT_FALLBACK_CAP

    zero_rows = "cosine distance" if rule.distance == "cosine" else None
    X, row_ids = _features(rule, data, refs, result, rule.sample.rows, need=2, zero_rows=zero_rows)
    nn = neighbour = approximate_details = None
    approximate = rule.statistic in NN_STATISTICS and (
        rule.nn_search == "approximate" or (rule.nn_search == "auto" and X.shape[0] > EXACT_NN_CAP)
    )
    if approximate:
        value, nn, neighbour, low, high = _approximate_nn_statistic(rule, X, result)
        bound = _straddled(rule, low, high)
        if bound is not None:
            # an approximation whose own error could flip the verdict: exact search, or no verdict
            why = (f"the approximate {rule.statistic} {value:.6g} only bounds the true value (in [{low:.6g}, {high:.6g}]),"
                   f" and the bound {bound} passes part of that interval and fails the rest")
            if X.shape[0] > NN_EXACT_FALLBACK_CAP:
                raise MeasurementError(
                    f"undecided: {why}; exact search is capped at {NN_EXACT_FALLBACK_CAP:,} rows and the sample has "
                    f"{X.shape[0]:,} (set sample.rows to at most {NN_EXACT_FALLBACK_CAP:,} for an exact value)"
                )
            approximate_details = dict(result.details.pop("nn_search"), observed=value)
            approximate = False
    if not approximate:
        def statistic(rows):
            return distance_statistic(rows, rule.statistic, metric=rule.distance, q=rule.q, epsilon=rule.epsilon or 0.0)

        try:
            value = statistic(X)
        except ValueError as exc:
            raise MeasurementError(str(exc)) from None
        result.resample = _subsampler(X, statistic)
        if rule.statistic in NN_STATISTICS:
            nn, neighbour = nearest_neighbours(X, metric=rule.distance)
            result.details["nn_search"] = {"method": "exact" + (" (KD-tree)" if X.shape[1] <= 16 else " (blocked brute force)")}
            if approximate_details is not None:
                result.details["nn_search"].update(fallback=why, approximate=approximate_details)
    if nn is not None:
        # the nearest-neighbour distances behind the value, as a histogram for reports
        counts, edges = np.histogram(nn, bins=30)
        result.details["nn_histogram"] = {"edges": edges.tolist(), "counts": counts.tolist()}
        if rule.statistic == "duplicate_fraction":
            # clusters: connected components of the graph joining each row to its nearest
            # neighbour when they are within epsilon
            from scipy.sparse import coo_matrix
            from scipy.sparse.csgraph import connected_components

            close = np.flatnonzero(nn <= (rule.epsilon or 0.0))
            n = X.shape[0]
            graph = coo_matrix((np.ones(close.size), (close, neighbour[close])), shape=(n, n))
            _, labels = connected_components(graph, directed=False)
            result.details["duplicates"] = clusters_from_labels(labels, row_ids)
    result.observed = float(value)
    result.units = "fraction of rows" if rule.statistic == "duplicate_fraction" else f"{rule.distance} distance"
    result.n = int(X.shape[0])


def _approximate_nn_statistic(rule: DistanceSpreadRule, X: np.ndarray, result: Result):
    """A nearest-neighbour statistic from the approximate index, with its measured recall."""
    try:
        from .metrics.ann import approximate_nearest_neighbours
    except ImportError:  # pragma: no cover - faiss-cpu is a dependency
        raise MeasurementError("nn_search 'approximate' needs faiss: pip install faiss-cpu") from None
    try:
        found = approximate_nearest_neighbours(X, rule.distance, seed=rule.sample.seed)
    except ValueError as exc:
        raise MeasurementError(str(exc)) from None
    nn = found.distances
    epsilon = rule.epsilon or 0.0
    if rule.statistic == "mean_nn":
        value = math.fsum(nn) / nn.size
    elif rule.statistic == "quantile_nn":
        value = float(np.quantile(nn, rule.q))
    else:
        value = int(np.count_nonzero(nn <= epsilon)) / nn.size
    # what the true value can be: a missed neighbour only makes a row's distance larger, and a
    # row with an exact copy (distance 0) is exact
    if found.duplicated_rows == nn.size:
        low = high = value
    elif rule.statistic == "duplicate_fraction":
        exact = epsilon == 0 and rule.distance == "euclidean"  # exact copies are found without the index
        low, high = value, (value if exact else 1.0)
    else:
        low, high = 0.0, value
    result.details["nn_search"] = {
        "method": "approximate: " + found.method,
        "recall_estimate": found.recall_estimate,
        "recall_queries": found.recall_queries,
        "distinct_rows": found.distinct_rows,
        "rows_with_an_exact_copy": found.duplicated_rows,
        "note": "a missed neighbour can only make a distance larger: mean_nn and quantile_nn are upper bounds,"
        " duplicate_fraction a lower bound (exact for epsilon 0, euclidean: exact copies are found without the index)",
    }
    return value, nn, found.neighbours, low, high


def _vendi(rule: VendiScoreRule, data: FrameSummaries, refs: ReferenceStore, result: Result) -> None:
    rows = rule.sample.rows if rule.kernel == "linear" else min(rule.sample.rows, RBF_MAX_ROWS)
    zero_rows = "cosine similarity of the linear kernel" if rule.kernel == "linear" else None
    X, _ = _features(rule, data, refs, result, rows, need=2, zero_rows=zero_rows)
    if rule.kernel == "rbf":
        result.details["rbf_row_cap"] = RBF_MAX_ROWS
    def score(rows):
        return vendi_score(rows, kernel=rule.kernel, length_scale=rule.length_scale)

    try:
        result.observed = score(X)
    except ValueError as exc:
        raise MeasurementError(str(exc)) from None
    result.resample = _subsampler(X, score)
    result.units = "effective distinct rows"
    result.n = int(X.shape[0])


# -- text statistics ---------------------------------------------------------------------------


def _minhash(texts, **kw):
    from .metrics.minhash import minhash_near_duplicates

    try:
        return minhash_near_duplicates(texts, **kw)
    except ValueError as exc:  # LSH bands datasketch cannot build for these parameters
        raise MeasurementError(f"MinHash LSH cannot be built with threshold {kw['threshold']:g} and num_perm {kw['num_perm']}: {exc}") from None


def _describe_texts(n_texts: int, excluded: dict, first) -> dict:
    from .summaries.text import _describe

    return _describe(n_texts, excluded, first)


def _has_text(rule, n_texts: int, excluded: dict) -> None:
    if not n_texts:
        raise MeasurementError(
            f"column {rule.column!r} holds no text (" + (", ".join(f"{k} {v}" for k, v in excluded.items() if v) or "no rows") + ")"
        )


def _text_metric(rule, data: FrameSummaries, refs: ReferenceStore, result: Result) -> None:
    """Exact and MinHash duplicates, n-gram entropy and type-token ratios of a text column."""

    if isinstance(rule, DuplicateFractionRule):
        # 64-bit keys, not the texts: 16 bytes per row when streamed
        found = data.text_keys(rule.column, rule.normalize_values)
        result.details.update(found.describe())
        _has_text(rule, found.keys.size, found.excluded)
        result.n = int(found.keys.size)
        result.observed = duplicate_fraction(found.keys)
        result.units = "fraction of rows"
        result.details["duplicates"] = clusters_from_labels(found.keys, found.row_ids)
        result.details["method"] = "exact: 64-bit hash of the normalised text"
        return
    if isinstance(rule, (NgramEntropyRule, TypeTokenRatioRule)):
        # mergeable counts (n-gram table, word types, MATTR windows), not the texts: what a stream keeps
        if isinstance(rule, NgramEntropyRule):
            what = ("ngrams", rule.unit, rule.n)
        else:
            what = ("words",) if rule.window is None else ("windows", rule.window)
        table, n_texts, excluded, first = data.text_counts(rule.column, rule.normalize_values, what)
        result.details.update(_describe_texts(n_texts, excluded, first))
        _has_text(rule, n_texts, excluded)
        result.n = n_texts
        if isinstance(rule, NgramEntropyRule):
            # sorted: the same order however the table was merged (sums equal to the last bit)
            counts = np.sort(np.fromiter(table.values(), dtype=np.int64, count=len(table)))
            if counts.size == 0:
                raise MeasurementError(f"column {rule.column!r} has no {rule.unit} {rule.n}-gram: every text is shorter than {rule.n} {rule.unit}s")
            result.observed = shannon_entropy(counts, base=rule.base, estimator=rule.estimator)
            result.units = unit(rule.base)
            result.details.update(ngrams=int(counts.sum()), distinct_ngrams=int(counts.size))
        else:
            types, tokens = (table.types, table.n) if rule.window is not None else table
            if tokens == 0:
                raise MeasurementError(f"column {rule.column!r} has no words (\\w+ runs)")
            result.details.update(tokens=tokens, types=len(types))
            if rule.window is None:
                result.observed = len(types) / tokens  # type_token_ratio, from the counts
                result.details["length_bias"] = (
                    "TTR falls as the number of words grows; compare only sets of similar size, or set 'window' (MATTR)"
                )
            else:
                if tokens < rule.window:
                    raise MeasurementError(f"MATTR with window {rule.window} needs at least {rule.window} words; found {tokens}")
                result.observed = float(table.total / ((tokens - rule.window + 1) * rule.window))  # mattr, from its windows
                result.details["estimator"] = f"MATTR, window {rule.window} words over the column's words in row order"
            result.units = "types per token"
        return
    # near duplicates (MinHash): the texts themselves
    rows = data.text_rows(rule.column, rule.normalize_values)
    result.details.update(rows.describe())
    _has_text(rule, len(rows.texts), rows.excluded)
    row_ids = data.row_ids[rows.positions]
    result.n = len(rows.texts)
    if isinstance(rule, NearDuplicateFractionRule):
        from .progress import Progress

        with Progress(f"MinHash {rule.column!r} (signing, then querying: 2 steps per text)", unit="steps") as progress:
            found = _minhash(
                rows.texts, threshold=rule.threshold, unit=rule.shingles.unit, size=rule.shingles.size,
                num_perm=rule.num_perm, seed=rule.seed, progress=progress,
            )
        result.observed = found.fraction
        result.units = "fraction of rows"
        result.details["duplicates"] = clusters_from_labels(found.labels, row_ids)
        result.details["method"] = (
            f"MinHash LSH (datasketch), {rule.num_perm} permutations, {rule.shingles.unit} {rule.shingles.size}-gram shingles;"
            " candidate pairs kept when the exact Jaccard similarity of their shingle sets reaches the threshold."
            " Pairs the LSH index does not propose are missed: a lower bound of the all-pairs value"
        )
        result.details["texts_without_shingles"] = found.no_shingles


def _numeric_distance(rule: NumericReferenceRule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore, result: Result) -> None:
    from .metrics import distribution as dist

    ref = _effective(rule, ruleset.reference_for(rule), refs)
    ref_data = refs.for_reference(ref)
    if rule.text_length is not None:
        ref_data = ref_data.length_view(ref.column, rule.text_length)
    result.params["reference"] = _describe_reference(rule)
    # counts, not the values: exact from the counts of the distinct values (mergeable, up to a
    # cap), else bounded from counts in quantile cells (streamed, the column is never held)
    n_values, nulls = data.numeric_count(rule.column, rule.metric)
    _nonempty(n_values, data, rule.column, nulls)
    n_ref, _ = ref_data.numeric_count(ref.column, rule.metric)
    if n_ref == 0:
        raise MeasurementError(f"reference column {ref.column!r} of {_ref_name(ref)} has no values")
    cap = dist.EXACT_DISTINCT_CAP
    mine, theirs = data.numeric_distinct(rule.column, cap), ref_data.numeric_distinct(ref.column, cap)
    ks = rule.metric == "ks_test"
    if mine is not None and theirs is not None:
        if not (mine[0].size and theirs[0].size):
            raise MeasurementError("no finite values to compare")
        (xv, xc), (yv, yc) = mine, theirs
        n, m = int(xc.sum()), int(yc.sum())
        kernel = dist.ks_from_counts if ks else dist.wasserstein_from_counts
        low = high = kernel(xv, xc, yv, yc)
        result.details.update(method=f"exact, from the counts of the distinct values ({xv.size} in the data, {yv.size} in the reference;"
                              f" exact up to {cap:,} per side)")
        shares = xc / n
        estimate = lambda c: kernel(xv, c, yv, yc) if c.sum() else float("nan")  # noqa: E731
    else:
        size = dist.QUANTILE_SAMPLE_ROWS
        ranges = _together(lambda: data.value_range(rule.column), lambda: ref_data.value_range(ref.column),
                           lambda: data.row_sample([rule.column], size, 0), lambda: ref_data.row_sample([ref.column], size, 0))[:2]
        if None in ranges:
            raise MeasurementError("no finite values to compare")
        samples = [data.row_sample([rule.column], size, 0).X[:, 0], ref_data.row_sample([ref.column], size, 0).X[:, 0]]
        hi = max(r[1] for r in ranges)
        edges, frequent = _quantile_edges(np.concatenate(samples), min(r[0] for r in ranges), hi, rule.grid)
        # per cell: the counts, and the smallest and largest value (a far-off value alone in its
        # cell is then known exactly); the cells span both sides: no tail mass (inf aside)
        (p, _), (q, _), (p_min, p_max), (q_min, q_max) = _together(
            lambda: data.histogram(rule.column, edges), lambda: ref_data.histogram(ref.column, edges),
            lambda: data.cell_extremes(rule.column, edges), lambda: ref_data.cell_extremes(ref.column, edges))
        p, q = p[1:-1], q[1:-1]
        extremes = (p_min[1:-1], p_max[1:-1], q_min[1:-1], q_max[1:-1])
        n, m = int(p.sum()), int(q.sum())
        if ks:
            kernel = lambda c: dist.ks_bounds_from_cells(c, q, edges=edges, extremes=extremes)  # noqa: E731
        else:
            kernel = lambda c: dist.wasserstein_bounds_from_cells(c, q, edges, extremes=extremes)  # noqa: E731
        low, high = kernel(p)
        more = "the data" if mine is None else "the reference"
        result.details.update(
            method=f"quantile cells: {more} has more than {cap:,} distinct values, so both are counted in {edges.size - 1} cells"
            f" whose edges are quantiles of seeded samples (seed 0, up to {size:,} rows each), with a"
            f" single-value cell for each of the {frequent} values holding at least 1/{rule.grid} of the samples;"
            " each cell's count and smallest and largest value bound the statistic",
            cells=int(edges.size - 1), cell_range=[float(edges[0]), float(edges[-1])],
        )
        shares = p / n
        estimate = lambda c: sum(kernel(c)) / 2 if c.sum() else float("nan")  # noqa: E731
    result.n = n
    result.details["reference_rows"] = m
    if result.n < n_values:
        result.details["infinite_values_left_out"] = int(n_values - result.n)
    if ks:
        result.details.update(statistic=(low + high) / 2, statistic_bounds=[low, high], p_value_method="two-sample, effective size n m / (n + m)")
        if rule.value == "p_value":  # decreasing in D
            low, high = ks_p_value(high, n, m), ks_p_value(low, n, m)
            measure = lambda c: ks_p_value(estimate(c), int(c.sum()), m)  # noqa: E731
        else:
            measure = estimate
        result.details["p_value"] = ks_p_value((result.details["statistic_bounds"][0] + result.details["statistic_bounds"][1]) / 2, n, m)
        result.units = "KS statistic (0 to 1)" if rule.value == "statistic" else "p-value"
    else:
        measure = estimate
        result.units = f"units of {rule.column}"
    result.details["approximation_error_bound"] = (high - low) / 2
    if high > low:
        result.details["value_bounds"] = [low, high]
    _decidable(rule, low, high)
    result.resample = lambda rng: measure(rng.multinomial(n, shares))
    result.observed = (low + high) / 2


def _together(*asks):
    """The values of several summaries, all asked for before any is used: an engine that
    computes missing summaries in passes over the data (stream, dask) then records them all
    for one pass, instead of one pass each."""
    for ask in asks:
        try:
            ask()
        except Exception:  # noqa: BLE001 - raised again, with its message, by the call below
            pass
    return [ask() for ask in asks]


def _quantile_edges(pooled: np.ndarray, lo: float, hi: float, k: int) -> tuple[np.ndarray, int]:
    """Cell edges from the quantiles of a pooled sample, spanning [lo, hi]: a single-value cell
    [v, next float after v) for each value holding at least 1/k of the sample, and the other
    cells at equal shares of the rest of the sample (a frequent value never shares a cell, and
    one far-off value cannot squeeze the others into one cell). Returns the edges and the count
    of such frequent values."""
    values, counts = np.unique(pooled, return_counts=True)
    often = counts * k >= pooled.size
    frequent = values[often]
    # the other cells spread over the other values (a value that fills 40 % of the sample would
    # otherwise take 40 % of the quantiles, all equal to it)
    rest = np.repeat(values[~often], counts[~often])
    cells = max(k - frequent.size, 1)
    inner = np.quantile(rest, np.linspace(0.0, 1.0, cells + 1)[1:-1], method="inverted_cdf") if rest.size else np.empty(0)
    edges = np.unique(np.concatenate([[lo, hi], inner, frequent, np.nextafter(frequent, np.inf)]) + 0.0)
    if edges.size < 2:  # one value on both sides
        edges = np.array([lo, np.nextafter(lo, np.inf)])
    return edges, int(frequent.size)


def _straddled(rule, low: float, high: float) -> str | None:
    """The rule's bound (as text) when a value known only to lie in [low, high] would pass for
    part of that interval and fail for the rest; None when every value there gets one verdict."""
    if high <= low:
        return None

    def passes(v):
        return (rule.min is None or v >= rule.min) and (rule.max is None or v <= rule.max)

    if (passes(low) and passes(high)) or (rule.min is not None and high < rule.min) or (rule.max is not None and low > rule.max):
        return None
    return " and ".join(b for b in (rule.min is not None and f">= {rule.min:g}", rule.max is not None and f"<= {rule.max:g}") if b)


def _decidable(rule, low: float, high: float) -> None:
    """Raise MeasurementError when the bound straddles [low, high]: no verdict on an
    approximation whose own error could flip it (issue 11)."""
    bound = _straddled(rule, low, high)
    if bound is not None:
        raise MeasurementError(
            f"undecided: the value lies between {low:.6g} and {high:.6g} (the approximation's own error bound), and the bound "
            f"{bound} passes part of that interval and fails the rest; raise 'grid' for finer cells"
        )
