"""The engine: pandera schema compilation, shared summaries, severities, the Python API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from validator import ValidationFailure, load_rules, validate
from validator.checks import evaluate
from validator.summaries.references import ReferenceStore
from validator.summaries.frame import FrameSummaries

DOC = {
    "version": 1,
    "columns": {"lang": {"dtype": "str", "nullable": False}, "score": {"dtype": "float"}},
    "references": {"langs": {"categories": {"en": 0.5, "de": 0.5}}},
    "rules": [
        {"id": "h", "metric": "entropy", "column": "lang", "min": 0.5},
        {"id": "h-mm", "metric": "entropy", "column": "lang", "estimator": "miller_madow", "min": 0.5},
        {"id": "kl", "metric": "kl_divergence", "column": "lang", "reference": "langs", "max": 0.2},
        {"id": "score-bins", "metric": "entropy", "column": "score", "bins": {"edges": [0, 0.5, 1]}, "min": 0.5},
        {"id": "score-count", "metric": "entropy", "column": "score", "bins": {"count": 4}, "min": 0.5},
        {"id": "d1", "metric": "distance_spread", "columns": ["score", "x"], "min": 0.1},
        {"id": "d2", "metric": "distance_spread", "columns": ["score", "x"], "statistic": "duplicate_fraction", "max": 0.5},
        {"id": "warn", "metric": "entropy", "column": "lang", "min": 5, "severity": "warning"},
    ],
}


def frame(n=40):
    rng = np.random.default_rng(1)
    return pd.DataFrame({"lang": ["en", "de"] * (n // 2), "score": rng.uniform(0, 1, n), "x": rng.normal(size=n)})


def test_each_summary_is_computed_once_per_run(monkeypatch):
    seen = []
    original = FrameSummaries.__init__

    def spy(self, *a, **k):
        original(self, *a, **k)
        seen.append(self)

    monkeypatch.setattr(FrameSummaries, "__init__", spy)
    report = validate(frame(), load_rules(DOC))
    assert report.passed
    data_summaries = [s for s in seen if s.name == "DataFrame"]
    assert len(data_summaries) == 1
    computed = data_summaries[0].computed
    # 3 rules on 'lang' share one value count; 2 distance rules share one sample
    assert computed["value_counts"] == 1
    assert computed["row_sample"] == 1
    assert computed["numeric_values"] == 1  # 'score', shared by both binned rules


def test_warning_severity_fails_without_failing_the_report():
    report = validate(frame(), load_rules(DOC))
    assert report["warn"].outcome == "failed" and report.passed and report.exit_code == 0


def test_declared_columns_are_checked_by_pandera():
    df = frame()
    df.loc[3, "lang"] = None
    df["score"] = df["score"].astype(str)
    df.loc[5, "score"] = "high"
    report = validate(df, load_rules(DOC))
    assert report["column:lang"].outcome == "failed" and "1 null values" in report["column:lang"].reason
    assert report["column:score"].outcome == "failed" and "expected dtype float" in report["column:score"].reason
    assert report["score-bins"].outcome == "error"
    assert "not numeric (dtype str): value 'high' at row 6 (1 non-numeric values)" in report["score-bins"].reason
    assert not report.passed
    missing = validate(frame().drop(columns="score"), load_rules(DOC))
    assert missing["column:score"].reason == "column is missing"


def test_to_pandera_is_a_real_schema_with_measured_messages():
    ruleset = load_rules(DOC)
    schema = ruleset.to_pandera()
    assert isinstance(schema, pa.DataFrameSchema)
    assert [c.name for c in schema.checks] == [r.id for r in ruleset.rules]
    assert set(schema.columns) == {"lang", "score"}
    skewed = frame()
    skewed["lang"] = ["en"] * 39 + ["de"]
    with pytest.raises(pa.errors.SchemaErrors) as info, pytest.warns(UserWarning, match="warn: entropy observed"):
        schema.validate(skewed, lazy=True)
    failing = set(info.value.failure_cases["check"].astype(str))
    assert any(c.startswith("h: entropy observed 0.16866") for c in failing)  # H(1/40) bits
    assert any(c.startswith("kl: kl_divergence observed") for c in failing)

    @pa.check_input(schema)
    def step(df):
        return len(df)

    with pytest.warns(UserWarning, match="warn: entropy observed 1 bits, expected >= 5"):
        assert step(frame()) == 40


def test_report_api():
    report = validate(frame(), load_rules(DOC))
    d = report.to_dict()
    assert d["passed"] is True and len(d["results"]) == 2 + len(DOC["rules"])
    assert report.raise_for_failures() is report
    bad = frame()
    bad["lang"] = "en"
    failing = validate(bad, load_rules(DOC))
    with pytest.raises(ValidationFailure, match="h \\(failed\\)") as info:
        failing.raise_for_failures()
    assert info.value.report is failing


def test_reference_file_binned_and_categorical(tmp_path):
    ref = pd.DataFrame({"lang": ["en"] * 5 + ["de"] * 5, "score": np.linspace(0, 1, 10)})
    ref.to_parquet(tmp_path / "ref.parquet")
    doc = {
        "version": 1,
        "rules": [
            {"id": "kl-cat", "metric": "kl_divergence", "column": "lang", "reference": {"file": "ref.parquet", "column": "lang"}, "max": 0.1},
            {"id": "kl-num", "metric": "kl_divergence", "column": "score", "bins": {"edges": [0, 0.5, 1]},
             "reference": {"file": "ref.parquet", "column": "score"}, "max": 0.1},
            {"id": "kl-count", "metric": "kl_divergence", "column": "score", "bins": {"count": 2},
             "reference": {"file": "ref.parquet", "column": "score"}, "max": 0.1},
        ],
    }
    (tmp_path / "r.yaml").write_text(__import__("yaml").safe_dump(doc))
    ruleset = load_rules(tmp_path / "r.yaml")  # the file path resolves next to the rule file
    data = pd.DataFrame({"lang": ["en", "de"], "score": [0.25, 0.75]})
    report = validate(data, ruleset)
    assert [r.observed for r in report.results] == [0.0, 0.0, 0.0]
    skew = pd.DataFrame({"lang": ["en", "en", "en", "de"], "score": [0.1, 0.2, 0.3, 2.0]})
    r = validate(skew, ruleset)["kl-num"]
    assert r.observed == float("inf") and r.details["missing_in_reference"] == ["> 1"]


def test_missing_reference_file_raises_data_read_error(tmp_path):
    from validator import DataReadError

    doc = {"version": 1, "rules": [{"id": "k", "metric": "kl_divergence", "column": "lang",
                                     "reference": {"file": "nope.csv", "column": "lang"}, "max": 1}]}
    with pytest.raises(DataReadError, match="nope.csv: no such file"):
        validate(frame(), load_rules(doc))


def test_catch_all_other_category_lists_what_it_absorbed():
    doc = {"version": 1, "references": {"r": {"categories": {"en": 0.5, "other": 0.5}, "other": "other"}},
           "rules": [{"id": "k", "metric": "kl_divergence", "column": "lang", "reference": "r", "max": 0.01}]}
    df = pd.DataFrame({"lang": ["en", "en", "fr", "ja"]})
    r = validate(df, load_rules(doc))["k"]
    assert r.observed == 0.0 and r.details["counted_as_other"] == {"fr": 1, "ja": 1}


def test_epsilon_smoothing_is_reported_and_finite():
    doc = {"version": 1, "references": {"r": {"categories": {"en": 1.0}}},
           "rules": [{"id": "k", "metric": "kl_divergence", "column": "lang", "reference": "r", "max": 5,
                      "smoothing": {"epsilon": 0.1}}]}
    r = validate(pd.DataFrame({"lang": ["en", "fr"]}), load_rules(doc))["k"]
    # q' = (0.95, 0.05): D = .5 log2(.5/.95) + .5 log2(.5/.05)
    assert r.observed == pytest.approx(0.5 * np.log2(0.5 / 0.95) + 0.5 * np.log2(10))
    assert "epsilon 0.1" in r.details["smoothing"]


def test_sampled_distance_rule_reports_sample_and_seed():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(3000, 3)), columns=["a", "b", "c"])
    doc = {"version": 1, "rules": [{"id": "d", "metric": "distance_spread", "columns": ["a", "b", "c"],
                                     "sample": {"rows": 500, "seed": 7}, "min": 0}]}
    r = validate(df, load_rules(doc))["d"]
    assert r.details["sampling"] == "sampled" and r.details["sample_size"] == 500 and r.details["seed"] == 7
    # mean distance between two iid N(0, I_3) points: 2 * sqrt(2) / sqrt(pi) * ... = E chi_3 * sqrt 2 = 2.2568
    assert r.observed == pytest.approx(2 * np.sqrt(2) * np.sqrt(2 / np.pi) * 1.0, rel=0.05)
    again = validate(df, load_rules(doc))["d"]
    assert again.observed == r.observed


def test_validate_keeps_no_reference_to_the_frame():
    import gc
    import weakref

    ruleset = load_rules(DOC)
    df = frame()
    ref = weakref.ref(df)
    validate(df, ruleset)
    del df
    gc.collect()
    assert ref() is None  # pandera's schema registry must not keep validated frames alive
