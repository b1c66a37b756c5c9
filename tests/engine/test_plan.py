"""The plan comes from each rule's declaration (validator.checks needs, validator.plan), never
from running evaluate; streaming runs exactly the passes the declarations require.

References: the pass counts follow from the declarations' levels, by hand: one pass for a
summary with fixed parameters; two when a histogram's edges come from the data's range (the
range, then the counts), one of them saved when Parquet footers give the range exactly; three
for a Wasserstein/KS rule past its distinct-value cap (distinct counts, then the range and a
sample, then cell counts and extremes). Values are compared with the in-memory engine, which
computes every summary on demand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import assert_same
from validator import load_rules, validate
from validator.checks import core
from validator.metrics import distribution
from validator.plan import declared, run_passes
from validator.summaries.keys import UNKNOWN, SummaryKey
from validator.summaries.references import ReferenceStore
from validator.summaries.stream import StreamedSummaries


def frame(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "lang": rng.choice(["en", "de", "fr", "ja"], size=n),
        "x": rng.normal(size=n).round(6),
        "w": rng.integers(1, 9, size=n),
        "text": [f"doc {i % 37} about {['cats', 'dogs', 'birds'][i % 3]} number {i}" for i in range(n)],
        "e0": rng.normal(size=n),
        "e1": rng.normal(size=n),
    })


REFERENCE = {"en": 0.4, "de": 0.3, "fr": 0.2, "ja": 0.1}
#: rule -> passes over a CSV file (and over Parquet, whose footers give a column's range)
KINDS = [
    ({"metric": "entropy", "column": "lang"}, 1, 1),
    ({"metric": "entropy", "column": "lang", "weight": "w"}, 1, 1),
    ({"metric": "hill_number", "column": "x", "bins": {"edges": [-1, 0, 1]}}, 1, 1),
    ({"metric": "entropy", "column": "x", "bins": {"count": 8}}, 2, 1),
    ({"metric": "js_divergence", "column": "text", "text_length": "words", "bins": {"count": 4},
      "reference": {"file": "REF", "column": "text"}}, 1, 1),
    ({"metric": "kl_divergence", "column": "lang", "reference": {"categories": REFERENCE}}, 1, 1),
    ({"metric": "js_divergence", "column": "lang", "reference": {"file": "REF", "column": "lang"}}, 1, 1),
    ({"metric": "js_divergence", "column": "x", "bins": {"count": 5}, "reference": {"file": "REF", "column": "x"}}, 1, 1),
    ({"metric": "wasserstein_distance", "column": "x", "reference": {"file": "REF", "column": "x"}}, 1, 1),
    ({"metric": "distance_spread", "columns": ["e0", "e1"], "statistic": "mean"}, 1, 1),
    ({"metric": "vendi_score", "columns": ["e0", "e1"], "min": 1}, 1, 1),
    ({"metric": "duplicate_fraction", "column": "text"}, 1, 1),
    # band keys, then the texts of the candidate rows only (the frame has near duplicates)
    ({"metric": "near_duplicate_fraction", "column": "text"}, 2, 2),
    ({"metric": "ngram_entropy", "column": "text", "unit": "char", "n": 3}, 1, 1),
    ({"metric": "type_token_ratio", "column": "text", "window": 5}, 1, 1),
]


def _rules(tmp_path, rule: dict):
    ref = tmp_path / "ref.csv"
    frame(300).iloc[::-1].to_csv(ref, index=False)
    rule = {"min": 0, **rule, "id": "r"}
    if "reference" in rule and rule["reference"].get("file") == "REF":
        rule["reference"] = dict(rule["reference"], file=str(ref))
    return load_rules({"version": 1, "rules": [rule]})


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("rule,csv_passes,parquet_passes", KINDS, ids=[r[0]["metric"] + str(i) for i, r in enumerate(KINDS)])
def test_streaming_runs_exactly_the_passes_the_declarations_require(tmp_path, rule, csv_passes, parquet_passes, fmt):
    data = tmp_path / f"data.{fmt}"
    df = frame()
    df.to_csv(data, index=False) if fmt == "csv" else df.to_parquet(data, index=False)
    rules = _rules(tmp_path, rule)
    memory = validate(data, rules)
    stream = validate(data, rules, engine="stream", batch_rows=64)
    passes = csv_passes if fmt == "csv" else parquet_passes
    result = stream["r"]
    assert result.outcome in ("passed", "failed"), result.reason  # measured: every summary it read was declared
    assert result.details["engine"].startswith(f"stream: {passes} pass(es)"), result.details["engine"]
    assert_same(memory, stream)


def test_past_the_distinct_cap_wasserstein_takes_three_passes(tmp_path, monkeypatch):
    monkeypatch.setattr(distribution, "EXACT_DISTINCT_CAP", 10)  # x has ~400 distinct values
    data = tmp_path / "data.csv"
    frame().to_csv(data, index=False)
    rules = _rules(tmp_path, {"metric": "wasserstein_distance", "column": "x", "grid": 64, "reference": {"file": "REF", "column": "x"}})
    memory, stream = validate(data, rules), validate(data, rules, engine="stream", batch_rows=50)
    assert "quantile cells" in stream["r"].details["method"]
    assert stream["r"].details["engine"].startswith("stream: 3 pass(es)")
    assert_same(memory, stream)


def test_a_rule_whose_evaluation_would_raise_is_planned_from_its_declaration(tmp_path, monkeypatch):
    data = tmp_path / "data.csv"
    frame().to_csv(data, index=False)
    rules = load_rules({"version": 1, "rules": [
        {"id": "h", "metric": "entropy", "column": "x", "bins": {"count": 4}, "min": 0},
        {"id": "d", "metric": "duplicate_fraction", "column": "text", "max": 1},
    ]})

    def explode(*args, **kwargs):
        raise AssertionError("planning evaluated a rule")

    monkeypatch.setattr(core, "evaluate", explode)
    monkeypatch.setattr(core, "_measure", explode)
    summaries = StreamedSummaries([data], "data", rules.text_columns(), batch_rows=100)
    refs = ReferenceStore(rules, [data], [data])
    run_passes(summaries, rules, refs)
    assert summaries.passes == 2  # the range, then the histogram on edges from it
    lo, hi = summaries.lookup(SummaryKey("value_range", "x"))
    x = frame()["x"].to_numpy()
    assert (lo, hi) == (x.min(), x.max())  # the data's own range (numpy)
    (histogram,) = [k for k in declared(rules, refs, summaries.lookup) if k.kind == "histogram"]
    assert np.allclose(histogram.edges, np.linspace(lo, hi, 5), rtol=0, atol=1e-12)  # 4 equal-width bins
    counts, nulls = summaries.lookup(histogram)
    assert counts[1:-1].tolist() == np.histogram(x, bins=np.asarray(histogram.edges))[0].tolist() and nulls == 0
    (text,) = [k for k in declared(rules, refs, summaries.lookup) if k.kind == "text_keys"]
    assert text.column == "text" and summaries.lookup(text).keys.size == len(frame())  # one key per text


def test_declarations_depend_only_on_what_is_known(tmp_path):
    rules = _rules(tmp_path, {"metric": "entropy", "column": "x", "bins": {"count": 2}})
    refs = ReferenceStore(rules)
    span = SummaryKey("value_range", "x")
    assert declared(rules, refs, lambda key: UNKNOWN) == [span]  # the edges wait for the range
    assert declared(rules, refs, lambda key: (0.0, 1.0) if key == span else UNKNOWN) == [
        span, SummaryKey("histogram", "x", edges=(0.0, 0.5, 1.0)), SummaryKey("numeric_count", "x")]
    assert declared(rules, refs, lambda key: None if key == span else UNKNOWN) == [span, SummaryKey("numeric_count", "x")]


def test_summary_keys_are_named_and_hashable():
    a = SummaryKey("histogram", "x", edges=np.array([0, 1]), weight="w")
    assert a == SummaryKey("histogram", "x", edges=[0.0, 1.0], weight="w") and hash(a) == hash(SummaryKey("histogram", "x", edges=(0, 1), weight="w"))
    assert a.reads == {"x", "w"} and a.on_view("x", "chars").reads == {"x", "w"}
    assert SummaryKey("row_sample", columns=("e0", "e1"), rows=5, seed=0).reads == {"e0", "e1"}
    with pytest.raises(ValueError, match="unknown summary kind"):
        SummaryKey("bogus", "x")
