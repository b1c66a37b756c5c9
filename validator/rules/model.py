"""The typed rule-file model (version 1): the single source of truth for rule semantics.

Every key is checked here (pydantic, ``extra="forbid"``); ``schemas/rules.schema.json`` is
generated from these classes and never written by hand. Rules are a tagged union on ``metric``
so that an error stays on the rule type the user meant. No pandas here.
"""

from __future__ import annotations

import math
import typing
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Sum-to-one tolerance for reference probabilities (docs/DESIGN.md: within 1e-6, never renormalised).
PROBABILITY_TOLERANCE = 1e-6

#: The category label under which ``nulls: category`` counts missing values.
NULL_CATEGORY = "<null>"

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
ColumnName = Annotated[str, Field(min_length=1)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class StrictModel(BaseModel):
    """Base: unknown keys are errors; no coercion of strings into numbers."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class ColumnSpec(StrictModel):
    """Presence, dtype and nullability of one column, compiled into a pandera ``Column``."""

    dtype: Literal["str", "int", "float", "bool", "numeric", "category", "datetime"] | None = Field(
        None, description="Expected kind of the column's values; omitted = any."
    )
    nullable: bool = Field(True, description="Whether missing values are allowed.")
    required: bool = Field(True, description="Whether the column must be present.")


class BinsSpec(StrictModel):
    """Numeric binning: frozen ``edges`` or a ``count`` of equal-width bins over the observed range."""

    edges: list[FiniteFloat] | None = Field(
        None, min_length=2, description="Strictly increasing bin edges; bins are [a, b) but the last [a, b]."
    )
    count: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        None, description="Number of equal-width bins over the observed range [min, max]."
    )

    @model_validator(mode="after")
    def _one_of(self):
        if (self.edges is None) == (self.count is None):
            raise ValueError("give exactly one of 'edges' or 'count'")
        if self.edges is not None and any(b <= a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError(f"edges must be strictly increasing, got {self.edges}")
        return self


class SampleSpec(StrictModel):
    """Cap and seed of the row sample used by distance rules."""

    rows: Annotated[int, Field(ge=2)] = Field(20_000, description="Rows kept; exact when the data has at most this many.")
    seed: Annotated[int, Field(ge=0, le=2**64 - 1)] = Field(0, description="Seed of the hash that picks the rows (0 to 2**64 - 1).")


class Smoothing(StrictModel):
    """Explicit smoothing for divergences (reported in every result)."""

    laplace: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None, description="Add alpha to every cell of the union in the data counts and reference counts."
    )
    epsilon: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] | None = Field(
        None, description="Mix the reference with the uniform distribution: q' = (1 - e) q + e / K."
    )

    @model_validator(mode="after")
    def _one_of(self):
        if (self.laplace is None) == (self.epsilon is None):
            raise ValueError("give exactly one of 'laplace' or 'epsilon'")
        return self


class HistogramReference(StrictModel):
    """A binned numeric reference: frozen edges and the probability (or count) of each bin."""

    edges: list[FiniteFloat] = Field(..., min_length=2, description="Strictly increasing bin edges.")
    probabilities: list[NonNegativeFloat] | None = Field(None, description="One per bin, summing to 1.")
    counts: list[NonNegativeFloat] | None = Field(None, description="One per bin, any finite reals >= 0.")

    @model_validator(mode="after")
    def _check(self):
        if any(b <= a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError(f"edges must be strictly increasing, got {self.edges}")
        if (self.probabilities is None) == (self.counts is None):
            raise ValueError("give exactly one of 'probabilities' or 'counts'")
        values = self.probabilities if self.probabilities is not None else self.counts
        if len(values) != len(self.edges) - 1:
            raise ValueError(
                f"{len(self.edges)} edges make {len(self.edges) - 1} bins, but {len(values)} values were given"
            )
        if self.probabilities is not None:
            _check_sum(self.probabilities)
        elif sum(self.counts) <= 0:
            raise ValueError("counts must not all be 0")
        return self


def _check_sum(values) -> None:
    try:
        total = math.fsum(values)
    except OverflowError:  # e.g. 1e308 + 1e308: an OverflowError is not a validation error to pydantic
        raise ValueError("probabilities must sum to 1, their sum is past float64's largest value (1.8e308)") from None
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        raise ValueError(
            f"probabilities must sum to 1 (within {PROBABILITY_TOLERANCE:g}), they sum to {total:.10g}; "
            "nothing is renormalised silently: fix them, or give them as 'counts'"
        )


class Reference(StrictModel):
    """A distribution "the real world" is expected to follow.

    Exactly one of: ``categories`` (probabilities), ``counts``, ``bins`` (a histogram),
    ``file`` + ``column`` (a reference data file measured with the rule's own binning; paths
    resolve relative to the rule file), or ``git`` (the data files' own version at a git
    revision, read with ``git show``: a gate on how much a change moves a distribution).
    """

    categories: dict[str, NonNegativeFloat] | None = Field(None, description="Category probabilities summing to 1.")
    counts: dict[str, NonNegativeFloat] | None = Field(None, description="Category counts (finite reals >= 0).")
    bins: HistogramReference | None = Field(None, description="A histogram on frozen edges.")
    file: str | None = Field(None, description="Reference data file (CSV, TSV, Parquet, JSON Lines).")
    profile: str | None = Field(None, description="A profile written by validate-profile; with 'column'.")
    git: Annotated[str, Field(min_length=1, pattern=r"^[^\s:]+$")] | None = Field(
        None, description="A git revision (HEAD, a branch, a tag, a commit): the data files' own committed version there."
    )
    column: ColumnName | None = Field(None, description="Column of the reference file (with 'git': default the rule's column).")
    on_missing: Literal["skip", "fail"] | None = Field(
        None, description="With 'git': a data file absent at that revision skips the rule (default) or fails it."
    )
    other: str | None = Field(
        None, description="Catch-all category: data categories absent from the reference count into it."
    )

    @model_validator(mode="after")
    def _check(self):
        given = [k for k in ("categories", "counts", "bins", "file", "profile", "git") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a reference needs exactly one of 'categories', 'counts', 'bins', 'file', 'profile' or 'git'"
                + (f", got {', '.join(given)}" if given else "")
            )
        if (self.file is not None or self.profile is not None) and self.column is None:
            raise ValueError(f"'{'file' if self.file is not None else 'profile'}' needs 'column'")
        if self.column is not None and self.file is None and self.git is None and self.profile is None:
            raise ValueError("'column' goes with 'file', 'profile' or 'git'")
        if self.on_missing is not None and self.git is None:
            raise ValueError("'on_missing' goes with 'git'")
        if self.categories is not None:
            if not self.categories:
                raise ValueError("'categories' is empty")
            _check_sum(self.categories.values())
        if self.counts is not None:
            if not self.counts or sum(self.counts.values()) <= 0:
                raise ValueError("'counts' must have at least one category with a count > 0")
        if self.other is not None:
            keys = self.categories if self.categories is not None else self.counts
            if keys is None:
                raise ValueError("'other' names a category of 'categories' or 'counts'")
            if self.other not in keys:
                raise ValueError(f"'other' is {self.other!r}, which is not one of the reference's categories")
        return self

    @property
    def kind(self) -> str:
        for k in ("categories", "counts", "bins", "file", "profile", "git"):
            if getattr(self, k) is not None:
                return k
        raise AssertionError("unreachable")


class Condition(StrictModel):
    """One row condition of a rule's ``where``: a column and exactly one comparison."""

    column: ColumnName = Field(..., description="The column the condition reads.")
    equals: str | float | bool | None = Field(None, description="Value equal to this.")
    not_equals: str | float | bool | None = Field(None, description="Value different from this (nulls excluded).")
    in_: list[str | float | bool] | None = Field(None, alias="in", description="Value one of these.")
    not_in: list[str | float | bool] | None = Field(None, description="Value none of these (nulls excluded).")
    gt: FiniteFloat | None = Field(None, description="Number greater than this.")
    ge: FiniteFloat | None = Field(None, description="Number greater than or equal to this.")
    lt: FiniteFloat | None = Field(None, description="Number less than this.")
    le: FiniteFloat | None = Field(None, description="Number less than or equal to this.")
    is_null: bool | None = Field(None, description="true: the value is missing; false: it is present.")

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in OPERATORS if getattr(self, "in_" if k == "in" else k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a condition needs exactly one of {', '.join(OPERATORS)}" + (f", got {', '.join(given)}" if given else "")
            )
        return self

    @property
    def operator(self) -> str:
        return next(k for k in OPERATORS if getattr(self, "in_" if k == "in" else k) is not None)

    @property
    def operand(self):
        return getattr(self, "in_" if self.operator == "in" else self.operator)


OPERATORS = ("equals", "not_equals", "in", "not_in", "gt", "ge", "lt", "le", "is_null")


#: distance statistics that change with the number of rows (nearest neighbours, the minimum)
SIZE_DEPENDENT = ("min", "mean_nn", "quantile_nn", "duplicate_fraction")

#: Rules on the texts of a column (no bootstrap intervals for them).
TEXT_METRICS = ("duplicate_fraction", "near_duplicate_fraction", "ngram_entropy", "type_token_ratio")


class BootstrapSpec(StrictModel):
    """Seeded bootstrap settings."""

    resamples: Annotated[int, Field(ge=20, le=100_000)] | None = Field(
        None, description="Resamples: default 200 (50 for distance and Vendi rules, which are costlier)."
    )
    seed: Annotated[int, Field(ge=0, le=2**64 - 1)] = Field(0, description="Seed of the resampling.")


class _RuleBase(StrictModel):
    id: Annotated[str, Field(min_length=1, pattern=r"^\S(.*\S)?$")] = Field(
        ..., description="Unique rule id (no surrounding spaces; 'column:' is reserved for declared columns)."
    )
    description: str | None = Field(None, description="Free text shown in reports.")
    severity: Literal["error", "warning"] = Field("error", description="A failing warning does not change the exit code.")
    min: FiniteFloat | None = Field(None, description="Inclusive lower bound on the observed value.")
    max: FiniteFloat | None = Field(None, description="Inclusive upper bound on the observed value.")
    min_rows: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Fewer rows than this (after dropping nulls) is an error result, never a pass or fail."
    )
    where: list[Condition] | None = Field(
        None, min_length=1, description="Measure only the rows that meet every condition."
    )
    group_by: ColumnName | None = Field(
        None, description="Measure the rule within each value of this column: one result per group, all must pass."
    )
    confidence: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] | None = Field(
        None, description="Report a seeded bootstrap interval at this level (e.g. 0.95): basic for count and divergence rules."
    )
    bootstrap: BootstrapSpec | None = Field(None, description="Resamples and seed of the bootstrap.")
    decide_on: Literal["estimate", "lower", "upper"] = Field(
        "estimate", description="Compare the bounds with the estimate, or with the interval's lower or upper end."
    )

    @model_validator(mode="after")
    def _interval(self):
        if self.confidence is not None and self.metric in TEXT_METRICS:
            raise ValueError(
                f"'confidence' is not available for {self.metric}: duplicate shares and type-token ratios depend on the"
                " number of rows, and the n-grams of one text are not independent draws, so row or n-gram resamples"
                " would not give a valid interval"
            )
        size_dependent = getattr(self, "statistic", None) in SIZE_DEPENDENT or self.metric == "vendi_score"
        if self.confidence is not None and size_dependent:
            what = f"statistic '{self.statistic}'" if getattr(self, "statistic", None) else self.metric
            raise ValueError(
                f"'confidence' is not available for {what}: its value depends on the number of rows, so intervals "
                "from subsamples would describe a different quantity"
            )
        if self.decide_on != "estimate" and self.confidence is None:
            raise ValueError(f"decide_on '{self.decide_on}' needs 'confidence' (the interval's level)")
        if self.bootstrap is not None and self.confidence is None:
            raise ValueError("'bootstrap' needs 'confidence'")
        return self

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.startswith("column:"):
            raise ValueError(f"rule ids starting with 'column:' are reserved for declared columns, found {value!r}")
        return value

    @model_validator(mode="after")
    def _bounds(self):
        if self.min is None and self.max is None:
            raise ValueError("a rule needs 'min' and/or 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min:g}) is greater than 'max' ({self.max:g})")
        for name in ("min", "max"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"'{name}' is {value:g}, but this metric is never negative")
        return self


Base = Literal[2, 10, "e"]
Nulls = Literal["drop", "category"]


class NormalizeValues(StrictModel):
    """How text categories are normalised before counting (applied alike to reference keys)."""

    strip: bool = Field(True, description="Remove leading and trailing white space.")
    collapse_whitespace: bool = Field(True, description="Turn every run of white space into one space.")
    unicode: Literal["NFC", "NFKC", "NFD", "NFKD", "none"] = Field("NFC", description="Unicode normalisation form.")
    casefold: bool = Field(False, description="Compare case-insensitively (str.casefold).")


class CountRule(_RuleBase):
    """Base of the rules measured on one column's value counts (or its histogram)."""

    column: ColumnName = Field(..., description="Column whose value counts (or histogram) are measured.")
    nulls: Nulls = Field("drop", description="Drop nulls, or count them as one category.")
    bins: BinsSpec | None = Field(None, description="Histogram a numeric column instead of counting values.")
    normalize_values: NormalizeValues | None = Field(
        None, description="Normalise text categories first (white space, Unicode form, case); none by default."
    )
    weight: ColumnName | None = Field(
        None, description="Row weights (e.g. token counts; finite, >= 0): shares of weight instead of rows."
    )


class EntropyRule(CountRule):
    """Shannon entropy H(X) = -sum p_i log p_i of a column's empirical distribution."""

    metric: Literal["entropy"]
    base: Base = Field(2, description="Logarithm base: 2 (bits), 'e' (nats), 10 (hartleys).")
    normalize: bool = Field(False, description="Report H / log K (K observed categories; 0 when K = 1).")
    estimator: Literal["plugin", "miller_madow"] = Field("plugin", description="Plug-in or Miller-Madow bias-corrected.")

    @model_validator(mode="after")
    def _normalized_bound(self):
        if self.normalize and self.min is not None and self.min > 1:
            raise ValueError(f"'min' is {self.min:g}, but normalised entropy is at most 1")
        return self


class HillNumberRule(CountRule):
    """Hill number of order q: the effective number of categories (q = 1: exp of H in nats)."""

    metric: Literal["hill_number"]
    order: Annotated[float, Field(ge=0)] = Field(
        1.0, description="Order q >= 0 (0: categories, 1: exp(Shannon), 2: inverse Simpson, .inf: 1 / largest share)."
    )


class GiniSimpsonRule(CountRule):
    """Gini-Simpson index 1 - sum p_i^2: the chance that two rows differ."""

    metric: Literal["gini_simpson"]


class DistinctCountRule(CountRule):
    """Number of distinct values (categories observed)."""

    metric: Literal["distinct_count"]


class DistinctRatioRule(CountRule):
    """Distinct values per row, K / N."""

    metric: Literal["distinct_ratio"]

    @model_validator(mode="after")
    def _unweighted(self):
        _refuse(self, "weight", "distinct_ratio (distinct values per row)")
        return self


class DominanceRule(CountRule):
    """Share of the most common value (Berger-Parker index)."""

    metric: Literal["dominance"]


class ImbalanceRatioRule(CountRule):
    """Count of the most common over the least common observed value (>= 1)."""

    metric: Literal["imbalance_ratio"]


class EmbedSpec(StrictModel):
    """Vectors computed from a text column by a frozen embedder (never refitted on the data)."""

    column: ColumnName = Field(..., description="Text column to embed.")
    embedder: Literal["hashing", "minilm", "e5"] = Field(
        "hashing",
        description="'hashing': char n-gram hashing + TF-IDF + SVD from 'artefact' (no model, every script);"
        " 'minilm': English all-MiniLM-L6-v2 (extra [minilm]); 'e5': multilingual-e5-small (extra [e5]).",
    )
    artefact: Annotated[str, Field(min_length=1)] | None = Field(
        None, description="hashing only: the .npz written by 'validate-embed fit', relative to the rule file."
    )

    @model_validator(mode="after")
    def _artefact(self):
        if self.embedder == "hashing" and self.artefact is None:
            raise ValueError("embedder 'hashing' needs 'artefact' (fit one with: validate-embed fit REFERENCE --column TEXT --output FILE.npz)")
        if self.embedder != "hashing" and self.artefact is not None:
            raise ValueError(f"'artefact' only applies to embedder 'hashing'; '{self.embedder}' is a pretrained model")
        return self


class _FeatureRule(_RuleBase):
    """Base of the rules on rows' feature vectors: numeric ``columns`` or ``embed``."""

    columns: list[ColumnName] | None = Field(
        None, min_length=1, description="Numeric feature columns, or one list-valued embedding column."
    )
    embed: EmbedSpec | None = Field(None, description="Embed a text column instead of giving feature columns.")
    scale: Literal["none", "standard"] = Field("none", description="'standard' z-scores each feature first.")
    sample: SampleSpec = Field(default_factory=SampleSpec, description="Row cap and seed; exact below the cap.")

    @model_validator(mode="after")
    def _features(self):
        if (self.columns is None) == (self.embed is None):
            raise ValueError("give exactly one of 'columns' (feature columns) or 'embed' (a text column and an embedder)")
        if self.columns is not None and len(set(self.columns)) != len(self.columns):
            raise ValueError(f"'columns' lists a column twice: {self.columns}")
        return self

    @property
    def feature_columns(self) -> list[str]:
        return [self.embed.column] if self.embed is not None else list(self.columns)


class DistanceSpreadRule(_FeatureRule):
    """A statistic of the pairwise (or nearest-neighbour) distances between rows' feature vectors."""

    metric: Literal["distance_spread"]
    distance: Literal["euclidean", "cosine"] = Field("euclidean", description="Distance between two rows.")
    statistic: Literal["mean", "median", "quantile", "min", "mean_nn", "quantile_nn", "duplicate_fraction"] = Field(
        "mean", description="Which statistic of the distances is bounded."
    )
    q: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = Field(
        None, description="Quantile level for 'quantile' and 'quantile_nn'."
    )
    epsilon: NonNegativeFloat | None = Field(
        None, description="duplicate_fraction only: a nearest-neighbour distance <= epsilon counts as a duplicate (default 0)."
    )
    nn_search: Literal["auto", "exact", "approximate"] = Field(
        "auto",
        description="Nearest-neighbour statistics: exact blocked search, or an approximate HNSW index (faiss) with its"
        " recall measured and reported; 'auto' is exact up to 50,000 sampled rows.",
    )
    @model_validator(mode="after")
    def _q(self):
        needs_q = self.statistic in ("quantile", "quantile_nn")
        if needs_q and self.q is None:
            raise ValueError(f"statistic '{self.statistic}' needs 'q' (a level in [0, 1])")
        if not needs_q and self.q is not None:
            raise ValueError(f"'q' only applies to statistic 'quantile' or 'quantile_nn', not '{self.statistic}'")
        if self.epsilon is not None and self.statistic != "duplicate_fraction":
            raise ValueError(f"'epsilon' only applies to statistic 'duplicate_fraction', not '{self.statistic}'")
        if self.nn_search != "auto" and self.statistic not in ("mean_nn", "quantile_nn", "duplicate_fraction"):
            raise ValueError(f"'nn_search' only applies to nearest-neighbour statistics, not '{self.statistic}'")
        if self.statistic == "duplicate_fraction" and self.max is not None and self.max > 1:
            raise ValueError(f"'max' is {self.max:g}, but a fraction is at most 1")
        return self


class VendiScoreRule(_FeatureRule):
    """Vendi score: the effective number of distinct rows (exp of the entropy of a kernel's spectrum)."""

    metric: Literal["vendi_score"]
    kernel: Literal["linear", "rbf"] = Field(
        "linear", description="'linear': cosine similarity (d x d dual form, exact up to the sample cap); 'rbf' on at most 2,000 sampled rows."
    )
    length_scale: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None, description="RBF length scale; default the median pairwise distance of the sample."
    )

    @model_validator(mode="after")
    def _check(self):
        if self.length_scale is not None and self.kernel != "rbf":
            raise ValueError("'length_scale' only applies to kernel 'rbf'")
        if self.min is not None and self.min < 1 or self.max is not None and self.max < 1:
            raise ValueError("a Vendi score is at least 1 (one distinct item); bounds below 1 cannot be meant")
        return self


def _text_normalization() -> "NormalizeValues":
    return NormalizeValues()


class _TextRule(_RuleBase):
    """Base of the rules measured on the texts of one column (nulls, empty texts and non-text
    values are excluded, counted and reported)."""

    column: ColumnName = Field(..., description="Text column.")
    normalize_values: NormalizeValues = Field(
        default_factory=_text_normalization,
        description="Text normalisation first: by default Unicode NFC, white space collapsed and stripped, case kept.",
    )


class _DuplicateRule(_TextRule):
    """Base of the duplicate rules: their value is a fraction of rows."""

    @model_validator(mode="after")
    def _fraction(self):
        if self.max is not None and self.max > 1:
            raise ValueError(f"'max' is {self.max:g}, but a fraction is at most 1")
        return self


class DuplicateFractionRule(_DuplicateRule):
    """Exact duplicates: share of rows whose normalised text equals another row's (both copies count)."""

    metric: Literal["duplicate_fraction"]


class Shingles(StrictModel):
    """Shingles (overlapping n-grams) a text is turned into for Jaccard similarity."""

    unit: Literal["char", "word"] = Field("char", description="Character or word n-grams.")
    size: Annotated[int, Field(ge=1, le=64)] = Field(5, description="n of the n-grams.")


class NearDuplicateFractionRule(_DuplicateRule):
    """Near duplicates by MinHash LSH: share of rows with another row of shingle Jaccard >= threshold."""

    metric: Literal["near_duplicate_fraction"]
    threshold: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(
        0.8, description="Jaccard similarity of the shingle sets at or above which two rows are near duplicates."
    )
    shingles: Shingles = Field(default_factory=Shingles, description="How texts become sets.")
    num_perm: Annotated[int, Field(ge=32, le=1024)] = Field(128, description="MinHash permutations (more: fewer missed pairs).")
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = Field(1, description="Seed of the MinHash permutations.")


class NgramEntropyRule(_TextRule):
    """Shannon entropy of the pooled character or word n-gram frequencies of a text column."""

    metric: Literal["ngram_entropy"]
    unit: Literal["char", "word"] = Field("char", description="Character n-grams, or word n-grams (words = Unicode \\w+ runs).")
    n: Annotated[int, Field(ge=1, le=16)] = Field(3, description="n-gram order; n-grams never cross two rows.")
    base: Base = Field(2, description="Logarithm base: 2 (bits), 'e' (nats), 10 (hartleys).")
    estimator: Literal["plugin", "miller_madow"] = Field("plugin", description="Plug-in or Miller-Madow bias-corrected.")


class TypeTokenRatioRule(_TextRule):
    """Type-token ratio V / N of the column's words; with 'window', MATTR (no length bias)."""

    metric: Literal["type_token_ratio"]
    window: Annotated[int, Field(ge=2, le=1_000_000)] | None = Field(
        None,
        description="MATTR: mean TTR of every window of this many consecutive words (rows in order). Without it the"
        " plain TTR, which falls as the number of words grows: compare only sets of similar size.",
    )

    @model_validator(mode="after")
    def _ratio(self):
        if self.max is not None and self.max > 1 or self.min is not None and self.min > 1:
            raise ValueError("a type-token ratio is at most 1")
        return self


TextLength = Literal["chars", "words"]


class ReferenceRule(_RuleBase):
    """Base of the rules that compare a column's distribution P with a reference Q.

    P and Q are taken over the union of categories (or bins) of both; see ``Reference``.
    """

    column: ColumnName = Field(..., description="Column measured against the reference.")
    reference: str | Reference = Field(..., description="Name of a reference in 'references', or one inline.")
    bins: BinsSpec | None = Field(None, description="Binning of a numeric column (with a 'file' reference).")
    smoothing: Smoothing | None = Field(None, description="Explicit smoothing; none by default.")
    nulls: Nulls = Field("drop", description=f"Drop nulls, or count them as category '{NULL_CATEGORY}'.")
    normalize_values: NormalizeValues | None = Field(
        None, description="Normalise text categories of the data and the reference's keys alike; none by default."
    )
    weight: ColumnName | None = Field(
        None, description="Row weights of the data (e.g. token counts; finite, >= 0): shares of weight instead of rows."
    )
    text_length: TextLength | None = Field(
        None,
        description="Measure the length of each text (Unicode code points, or words = \\w+ runs) instead of the"
        " value; needs 'bins' or a binned reference.",
    )

    @model_validator(mode="after")
    def _length(self):
        if self.text_length is not None and self.normalize_values is not None:
            raise ValueError("'normalize_values' does not apply with 'text_length' (lengths are numbers)")
        return self


class KLDivergenceRule(ReferenceRule):
    """KL divergence D(P || Q) of the column's distribution P from a reference Q (or D(Q || P))."""

    metric: Literal["kl_divergence"]
    base: Base = Field(2, description="Logarithm base: 2 (bits), 'e' (nats), 10 (hartleys).")
    direction: Literal["data_to_reference", "reference_to_data"] = Field(
        "data_to_reference", description="D(data || reference) (default) or D(reference || data)."
    )


class JSDivergenceRule(ReferenceRule):
    """Jensen-Shannon divergence JS(P, Q) = 1/2 D(P || M) + 1/2 D(Q || M), M = (P + Q) / 2."""

    metric: Literal["js_divergence"]
    base: Base = Field(2, description="Logarithm base: 2 gives bits, in [0, 1].")


class JSDistanceRule(ReferenceRule):
    """Jensen-Shannon distance sqrt(JS(P, Q)), a metric; in [0, 1] with base 2."""

    metric: Literal["js_distance"]
    base: Base = Field(2, description="Logarithm base of the divergence under the square root.")


class PSIRule(ReferenceRule):
    """Population stability index PSI = sum (p_i - q_i) log(p_i / q_i) (symmetric KL)."""

    metric: Literal["population_stability_index"]
    base: Base = Field(2, description="Logarithm base; the customary 0.1 / 0.25 thresholds are in nats: base e.")


class TotalVariationRule(ReferenceRule):
    """Total variation distance 1/2 sum |p_i - q_i|, in [0, 1]."""

    metric: Literal["total_variation"]


class HellingerRule(ReferenceRule):
    """Hellinger distance sqrt(1 - sum sqrt(p_i q_i)), in [0, 1]."""

    metric: Literal["hellinger_distance"]


class LInfinityRule(ReferenceRule):
    """L-infinity distance max |p_i - q_i|: the largest difference of one share, in [0, 1]."""

    metric: Literal["linf_distance"]


class NumericReferenceRule(_RuleBase):
    """Base of the rules comparing a numeric column with the raw values of a reference file:
    exact from the counts of both sides' distinct values (mergeable) up to a cap, else bounded
    from counts in quantile cells (the bound is reported; a bound across the threshold is an error)."""

    column: ColumnName = Field(..., description="Numeric column measured against the reference.")
    reference: str | Reference = Field(..., description="A reference with 'file' and 'column' (raw values).")
    grid: Annotated[int, Field(ge=16, le=1_000_000)] = Field(
        4096, description="Quantile cells used when a side has more distinct values than the exact cap (100,000); more cells, smaller error bound."
    )
    text_length: TextLength | None = Field(
        None, description="Measure the length of each text (code points, or words) in both, instead of the value."
    )


class WassersteinRule(NumericReferenceRule):
    """Wasserstein-1 (earth mover's) distance between the column and the reference, in the column's units."""

    metric: Literal["wasserstein_distance"]


class KSRule(NumericReferenceRule):
    """Two-sample Kolmogorov-Smirnov test of the column against the reference's values."""

    metric: Literal["ks_test"]
    value: Literal["statistic", "p_value"] = Field(
        "statistic", description="Bound the statistic D = sup |F - G| (in [0, 1]) or its p-value; both are reported."
    )

    @model_validator(mode="after")
    def _range(self):
        if self.max is not None and self.max > 1:
            raise ValueError(f"'max' is {self.max:g}, but the KS statistic and its p-value are at most 1")
        return self


class ChiSquareRule(ReferenceRule):
    """Pearson's chi-square goodness of fit of the column's counts to the reference."""

    metric: Literal["chi_square"]
    value: Literal["p_value", "statistic"] = Field(
        "p_value", description="Bound the p-value (e.g. min: 0.05) or the X^2 statistic; both are reported."
    )

    @model_validator(mode="after")
    def _no_smoothing(self):
        _refuse(self, "smoothing", "chi_square (it tests the observed counts)")
        _refuse(self, "weight", "chi_square (the test needs counts of rows)")
        if self.value == "p_value" and self.max is not None and self.max > 1:
            raise ValueError(f"'max' is {self.max:g}, but a p-value is at most 1")
        return self


class CoverageRule(ReferenceRule):
    """How much of the reference the data covers: its categories, or its probability mass."""

    metric: Literal["coverage"]
    of: Literal["categories", "mass"] = Field(
        "categories", description="Share of reference categories present in the data, or the reference mass they hold."
    )

    @model_validator(mode="after")
    def _no_smoothing(self):
        _refuse(self, "smoothing", "coverage (smoothing would make every category present)")
        return self


def _refuse(rule, key: str, where: str) -> None:
    if getattr(rule, key) is not None:
        raise ValueError(f"'{key}' does not apply to {where}")


Rule = Annotated[
    Union[
        EntropyRule,
        HillNumberRule,
        GiniSimpsonRule,
        DistinctCountRule,
        DistinctRatioRule,
        DominanceRule,
        ImbalanceRatioRule,
        DistanceSpreadRule,
        VendiScoreRule,
        DuplicateFractionRule,
        NearDuplicateFractionRule,
        NgramEntropyRule,
        TypeTokenRatioRule,
        KLDivergenceRule,
        JSDivergenceRule,
        JSDistanceRule,
        PSIRule,
        TotalVariationRule,
        HellingerRule,
        LInfinityRule,
        ChiSquareRule,
        CoverageRule,
        WassersteinRule,
        KSRule,
    ],
    Field(discriminator="metric"),
]

#: metric name -> rule class; the registry the loader, docs and tests read.
RULE_TYPES: dict[str, type[_RuleBase]] = {
    cls.model_fields["metric"].annotation.__args__[0]: cls for cls in typing.get_args(typing.get_args(Rule)[0])
}


class Defaults(StrictModel):
    """Settings that apply to every rule that does not set its own."""

    min_rows: Annotated[int, Field(ge=1)] | None = Field(None, description="Default 'min_rows' of every rule.")


class RuleFile(StrictModel):
    """A whole rule file (``version: 1``)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        title="pretrain-validator rule file",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    version: Literal[1] = Field(..., description="Rule file format version.")
    columns: dict[str, ColumnSpec] = Field(default_factory=dict, description="Declared columns, checked by pandera.")
    references: dict[str, Reference] = Field(default_factory=dict, description="Named reference distributions.")
    defaults: Defaults = Field(default_factory=lambda: Defaults(), description="Defaults for every rule.")
    rules: list[Rule] = Field(..., min_length=1, description="The rules, measured in order.")

    @field_validator("references")
    @classmethod
    def _names(cls, value):
        for name in value:
            if not name.strip():
                raise ValueError("a reference name must not be blank")
        return value
