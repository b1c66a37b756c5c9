"""Feature rules: distance spread, nearest neighbours and the Vendi score of a seeded row
sample (numeric columns, a list-valued column, or texts embedded by a frozen embedder).

Imports: metrics, result, rules.model, summaries (references among them), progress,
checks.bounds/bootstrap.
"""

from __future__ import annotations

import math

import numpy as np
import scipy  # scipy.sparse loads on first use

from ..embed.models import ExtraMissing
from ..metrics import ann  # its caps are read at run time (tests lower them)
from ..metrics.distance import distance_statistic, nearest_neighbours, standardize
from ..metrics.text import clusters_from_labels
from ..metrics.vendi import RBF_MAX_ROWS, vendi_score
from ..progress import Progress
from ..result import Result
from ..rules.model import DistanceSpreadRule, VendiScoreRule
from ..summaries.frame import FrameSummaries, MeasurementError
from ..summaries.keys import SummaryKey
from ..summaries.references import ReferenceStore
from .bootstrap import subsampler
from .bounds import straddled


def sample_rows(rule) -> int:
    """Rows of the rule's sample (the RBF Vendi kernel is capped at RBF_MAX_ROWS)."""
    if isinstance(rule, VendiScoreRule) and rule.kernel != "linear":
        return min(rule.sample.rows, RBF_MAX_ROWS)
    return rule.sample.rows


def needs(rule, known) -> list[SummaryKey]:
    """The one summary a feature rule reads: the seeded sample of its texts (embedded after
    the pass, only the sampled rows) or of its feature columns."""
    if rule.embed is not None:
        return [SummaryKey("text_sample", rule.embed.column, rows=sample_rows(rule), seed=rule.sample.seed)]
    return [SummaryKey("row_sample", columns=tuple(rule.columns), rows=sample_rows(rule), seed=rule.sample.seed)]


# -- distance spread ---------------------------------------------------------------------------


def _features(rule, data: FrameSummaries, refs: ReferenceStore, result: Result, rows: int, need: int, zero_rows: str | None):
    """The rule's seeded feature sample (reported in details), scaled; ``zero_rows`` names the
    measure that an all-zero row makes undefined (cosine), or None."""
    if rule.embed is not None:

        embedder = refs.embedder(rule.embed)
        with Progress(f"embedding {rule.embed.column!r} ({rule.embed.embedder})") as progress:
            try:
                sample = data.embedding_sample(rule.embed.column, embedder, rows, rule.sample.seed, progress=progress,
                                               cache=refs.embedding_cache())
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


def measure_distance(rule: DistanceSpreadRule, data: FrameSummaries, refs: ReferenceStore, result: Result) -> None:
    """A distance_spread statistic of the rule's seeded feature (or embedding) sample."""
    zero_rows = "cosine distance" if rule.distance == "cosine" else None
    X, row_ids = _features(rule, data, refs, result, rule.sample.rows, need=2, zero_rows=zero_rows)
    nn = neighbour = approximate_details = None
    approximate = rule.statistic in NN_STATISTICS and (
        rule.nn_search == "approximate" or (rule.nn_search == "auto" and X.shape[0] > ann.EXACT_NN_CAP)
    )
    if approximate:
        value, nn, neighbour, low, high = _approximate_nn_statistic(rule, X, result)
        bound = straddled(rule, low, high)
        if bound is not None:
            # an approximation whose own error could flip the verdict: exact search, or no verdict
            why = (f"the approximate {rule.statistic} {value:.6g} only bounds the true value (in [{low:.6g}, {high:.6g}]),"
                   f" and the bound {bound} passes part of that interval and fails the rest")
            if X.shape[0] > ann.NN_EXACT_FALLBACK_CAP:
                raise MeasurementError(
                    f"undecided: {why}; exact search is capped at {ann.NN_EXACT_FALLBACK_CAP:,} rows and the sample has "
                    f"{X.shape[0]:,} (set sample.rows to at most {ann.NN_EXACT_FALLBACK_CAP:,} for an exact value)"
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
        result.resample = subsampler(X, statistic)
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
            close = np.flatnonzero(nn <= (rule.epsilon or 0.0))
            n = X.shape[0]
            graph = scipy.sparse.coo_matrix((np.ones(close.size), (close, neighbour[close])), shape=(n, n))
            _, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
            result.details["duplicates"] = clusters_from_labels(labels, row_ids)
    result.observed = float(value)
    result.units = "fraction of rows" if rule.statistic == "duplicate_fraction" else f"{rule.distance} distance"
    result.n = int(X.shape[0])


def _approximate_nn_statistic(rule: DistanceSpreadRule, X: np.ndarray, result: Result):
    """A nearest-neighbour statistic from the approximate index, with its measured recall."""
    try:
        found = ann.approximate_nearest_neighbours(X, rule.distance, seed=rule.sample.seed)
    except ImportError:  # pragma: no cover - faiss-cpu is a dependency
        raise MeasurementError("nn_search 'approximate' needs faiss: pip install faiss-cpu") from None
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


def measure_vendi(rule: VendiScoreRule, data: FrameSummaries, refs: ReferenceStore, result: Result) -> None:
    """The Vendi score of the rule's seeded feature (or embedding) sample."""
    rows = sample_rows(rule)
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
    result.resample = subsampler(X, score)
    result.units = "effective distinct rows"
    result.n = int(X.shape[0])

