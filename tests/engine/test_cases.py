"""Handed failure cases from other tools' bug trackers (../shared/cases/README.md), one test each.

Every expected value is the one given in the case table; the hand computation is repeated in
a comment where it is short.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import pytest

from validator import RuleFileError, load_rules, validate
from validator.cli import run
from validator.summaries.io import read_table


def rules(*rule_list, references=None, columns=None):
    doc = {"version": 1, "rules": list(rule_list)}
    if references:
        doc["references"] = references
    if columns:
        doc["columns"] = columns
    return load_rules(doc)


def entropy_rule(column="x", **kw):
    return {"id": "h", "metric": "entropy", "column": column, "min": 0, **kw}


def kl_rule(reference, column="x", **kw):
    return {"id": "kl", "metric": "kl_divergence", "column": column, "reference": reference, "max": 100, **kw}


def observe(df, *rule_list, **kw):
    return validate(df, rules(*rule_list, **kw)).results[-1]


def frame_from_shares(shares: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"x": [k for k, c in shares.items() for _ in range(c)]})


# H01 ------------------------------------------------------------------------------------------
def test_H01_reference_not_summing_to_one_is_a_rule_file_error():
    with pytest.raises(RuleFileError, match=r"references\.ref.*sum to 1.*they sum to 0\.6"):
        rules(kl_rule("ref"), references={"ref": {"categories": {"x": 0.3, "y": 0.3}}})


def test_H01_same_values_as_counts_are_accepted_with_kl_zero():
    df = pd.DataFrame({"x": ["x", "y"]})
    r = observe(df, kl_rule("ref"), references={"ref": {"counts": {"x": 0.3, "y": 0.3}}})
    # data shares (1/2, 1/2) = reference counts (0.3, 0.3) / 0.6: D = 0
    assert r.outcome == "passed" and r.observed == 0.0


# H02 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "column, expected",
    [([1, 1, 1, 1], 0.0), ([1, 2, 2, 5], 1.5), ([1, 2, 3, 4], 2.0)],  # counts [4]; [1,2,1]; [1,1,1,1]
)
def test_H02_entropy_of_value_counts_not_of_raw_values(column, expected):
    r = observe(pd.DataFrame({"x": column}), entropy_rule())
    assert r.observed == pytest.approx(expected, abs=1e-12)


# H03 ------------------------------------------------------------------------------------------
def test_H03_zero_data_cell_is_finite():
    df = frame_from_shares({"b": 1, "c": 9})  # shares (0, .1, .9)
    r = observe(df, kl_rule({"categories": {"a": 0.1, "b": 0.1, "c": 0.8}}))
    assert r.observed == pytest.approx(0.1529325, abs=1e-7)
    r = observe(df, kl_rule({"categories": {"a": 0.1, "b": 0.1, "c": 0.8}}, base="e"))
    assert r.observed == pytest.approx(0.1060047, abs=1e-7)


def test_H03_zero_reference_cell_is_infinite_and_named():
    df = frame_from_shares({"a": 3, "b": 3, "c": 4})
    r = observe(df, kl_rule({"categories": {"a": 0.5, "b": 0.5, "c": 0.0}}))
    assert r.observed == math.inf and r.outcome == "failed"
    assert r.details["missing_in_reference"] == ["c"]
    assert "'c'" in r.reason


def test_H03_reference_mass_where_data_has_none():
    df = frame_from_shares({"a": 5, "b": 5})
    r = observe(df, kl_rule({"categories": {"a": 0.3, "b": 0.3, "c": 0.4}}))
    # 2 * 0.5 * log2(0.5 / 0.3) = log2(5/3)
    assert r.observed == pytest.approx(0.7369656, abs=1e-7)


# H04 ------------------------------------------------------------------------------------------
def test_H04_nan_in_reference_is_a_rule_file_error():
    text = textwrap.dedent(
        """\
        version: 1
        references:
          ref:
            categories: {a: .nan, b: 0.1}
        rules:
          - {id: kl, metric: kl_divergence, column: x, reference: ref, max: 1}
        """
    )
    with pytest.raises(RuleFileError, match=r"<text>:4:.*categories\.a.*finite number"):
        load_rules(text=text)


# H05 ------------------------------------------------------------------------------------------
def test_H05_unseen_category_is_infinite_without_smoothing_and_exact_with_laplace():
    df = frame_from_shares({"a": 99999, "c": 1})
    ref = {"counts": {"a": 99999, "b": 1}}
    r = observe(df, kl_rule(ref))
    assert r.observed == math.inf and r.details["missing_in_reference"] == ["c"]
    r = observe(df, kl_rule(ref, smoothing={"laplace": 0.5}))
    # p = (99999.5, .5, 1.5)/100001.5, q = (99999.5, 1.5, .5)/100001.5: D = log2(3)/100001.5
    assert r.observed == pytest.approx(math.log2(3) / 100001.5, rel=1e-9)
    assert r.observed == pytest.approx(1.58494e-5, rel=1e-5)
    assert "laplace 0.5" in r.details["smoothing"]


# H07 ------------------------------------------------------------------------------------------
def test_H07_category_only_in_reference_raises_the_divergence():
    df = frame_from_shares({"a": 8, "b": 3})
    ref = {"counts": {"a": 5, "b": 5, "c": 5}}
    r = observe(df, kl_rule(ref))
    # (8/11) log2(24/11) + (3/11) log2(9/11)
    assert r.observed == pytest.approx(0.7396, abs=1e-4)
    assert observe(df, kl_rule(ref, base="e")).observed == pytest.approx(0.5126597, abs=1e-7)


# H08 ------------------------------------------------------------------------------------------
def test_H08_null_policy():
    df = pd.DataFrame({"x": ["A", "B", "A", "B", None]})
    assert observe(df, entropy_rule()).observed == pytest.approx(1.0)
    r = observe(df, entropy_rule(nulls="category"))
    assert r.observed == pytest.approx(1.5219281, abs=1e-7)  # shares (2/5, 2/5, 1/5)
    assert sum(r.details["top_categories"].values()) == pytest.approx(1.0)


# H09 ------------------------------------------------------------------------------------------
def test_H09_values_on_bin_edges_counted_once():
    df = pd.DataFrame({"x": [0, 0.5, 1, 1.5, 2]})
    ref = {"bins": {"edges": [0, 1, 2], "probabilities": [0.4, 0.6]}}
    r = observe(df, kl_rule(ref))
    assert r.observed == 0.0 and r.outcome == "passed"
    from validator.summaries.histogram import cell_counts

    assert cell_counts(df["x"], [0, 1, 2]).tolist() == [0, 2, 3, 0]  # no tail mass


# H10, H12 (distance cases, end to end; the metric-level tests are in test_distance.py) ----------
def distance_rule(columns, statistic, **kw):
    return {"id": "d", "metric": "distance_spread", "columns": columns, "statistic": statistic, "min": 0, **kw}


def test_H10_duplicate_rows_have_distance_exactly_zero():
    row1 = (1, 1, 1, 1.2, 1.4, 4.4, -1, -22)
    row2 = (0, 1, 0, 3.2, 1.4, 4.4, -188, -72)
    df = pd.DataFrame([row1, row1, row2], columns=[f"f{i}" for i in range(8)])
    cols = list(df.columns)
    assert observe(df, distance_rule(cols, "min")).observed == 0.0
    assert observe(df, distance_rule(cols, "duplicate_fraction")).observed == pytest.approx(2 / 3)


def test_H12_nearest_neighbour_metrics_with_duplicates():
    df = pd.DataFrame({"a": [1, 1, 3, 0], "b": [2, 2, 4, 0]})
    got = {s: observe(df, distance_rule(["a", "b"], s)).observed for s in ("min", "mean", "mean_nn", "duplicate_fraction")}
    assert got["min"] == 0.0
    assert got["mean"] == pytest.approx(2.5214984, abs=1e-7)
    assert got["mean_nn"] == pytest.approx(1.2661238, abs=1e-7)
    assert got["duplicate_fraction"] == 0.5


# H11 ------------------------------------------------------------------------------------------
def test_H11_nan_mixed_with_strings():
    df = pd.DataFrame({"x": pd.Series([None, "a", "a", "b"], dtype=object)})
    assert observe(df, entropy_rule()).observed == pytest.approx(0.9182958, abs=1e-7)
    assert observe(df, entropy_rule(nulls="category")).observed == pytest.approx(1.5, abs=1e-12)
    mixed = pd.DataFrame({"x": pd.Series([1, "1", None, 2, "2", 2], dtype=object)})
    assert observe(mixed, entropy_rule()).observed == pytest.approx(1.9219281, abs=1e-7)
    assert observe(mixed, entropy_rule(nulls="category")).observed == pytest.approx(2.2516292, abs=1e-7)


# H13 ------------------------------------------------------------------------------------------
def test_H13_all_null_column_is_an_error_result(tmp_path, capsys):
    df = pd.DataFrame({"x": [None, None]})
    r = observe(df, entropy_rule())
    assert r.outcome == "error" and r.observed is None
    assert "0 non-null values" in r.reason
    data = tmp_path / "d.csv"
    data.write_text("x,y\n,1\n,2\n")
    rule_file = tmp_path / "r.yaml"
    rule_file.write_text("version: 1\nrules:\n  - {id: h, metric: entropy, column: x, min: 0}\n")
    assert run(["--rules", str(rule_file), str(data)]) == 1
    assert "0 non-null values" in capsys.readouterr().out


# H15 ------------------------------------------------------------------------------------------
def test_H15_rule_null_policy_wins_over_pandera_ignore_na():
    df = pd.DataFrame({"x": ["a", "a", "b", None]})
    ruleset = rules(entropy_rule(nulls="category"))
    assert validate(df, ruleset).results[0].observed == pytest.approx(1.5)
    schema = ruleset.to_pandera()
    assert all(c.ignore_na is False for c in schema.checks)
    schema.validate(df)  # min 0: passes, and the check saw the null row
    assert "1.5 bits" in schema.checks[0].error


# H16 ------------------------------------------------------------------------------------------
def test_H16_yaml_11_boolean_words_stay_category_keys():
    text = textwrap.dedent(
        """\
        version: 1
        references:
          langs:
            categories: {en: 0.5, no: 0.2, nb: 0.1, de: 0.2}
          more:
            counts: {NO: 1, yes: 1, on: 1, off: 1, y: 1, n: 1}
        rules:
          - {id: kl, metric: kl_divergence, column: lang, reference: langs, max: 0.01}
        """
    )
    ruleset = load_rules(text=text)
    assert list(ruleset.model.references["langs"].categories) == ["en", "no", "nb", "de"]
    assert list(ruleset.model.references["more"].counts) == ["NO", "yes", "on", "off", "y", "n"]
    df = frame_from_shares({"en": 50, "no": 20, "nb": 10, "de": 20}).rename(columns={"x": "lang"})
    r = validate(df, ruleset).results[0]
    assert r.observed == 0.0 and r.outcome == "passed"


# H17 ------------------------------------------------------------------------------------------
def test_H17_duplicate_reference_key_exits_2_naming_both_lines(tmp_path, capsys):
    rule_file = tmp_path / "r.yaml"
    rule_file.write_text(
        textwrap.dedent(
            """\
            version: 1
            references:
              langs:
                categories:
                  en: 0.5
                  de: 0.3
                  en: 0.2
            rules:
              - {id: kl, metric: kl_divergence, column: lang, reference: langs, max: 0.1}
            """
        )
    )
    data = tmp_path / "d.csv"
    data.write_text("lang\n" + "en\n" * 50 + "de\n" * 30 + "fr\n" * 20)
    before = data.read_bytes()
    assert run(["--rules", str(rule_file), str(data)]) == 2
    err = capsys.readouterr()
    assert "duplicate key 'en': first at line 5, again at line 7" in err.err
    assert f"{rule_file}:7:" in err.err
    assert err.out == ""  # no data check ran
    assert data.read_bytes() == before


# H18 ------------------------------------------------------------------------------------------
def test_H18_real_categories_are_not_read_as_missing(tmp_path):
    csv1 = tmp_path / "c1.csv"
    csv1.write_text("country\nNA\nNO\nDE\nUS\nNA\nFR\n")
    df = read_table(csv1)
    counts = df["country"].value_counts().to_dict()
    assert counts == {"NA": 2, "NO": 1, "DE": 1, "US": 1, "FR": 1}
    r = validate(csv1, rules(entropy_rule("country"))).results[0]
    assert r.observed == pytest.approx(2.2516291, abs=1e-7)
    csv2 = tmp_path / "c2.csv"
    csv2.write_text("tag\nen\nnan\nnan\nNone\nnull\nn/a\nen\n")
    r = validate(csv2, rules(entropy_rule("tag"))).results[0]
    assert validate(csv2, rules(entropy_rule("tag"))).n_rows == 7
    assert r.n == 7 and r.observed == pytest.approx(2.2359264, abs=1e-7)


def test_H18_empty_field_is_the_only_default_null(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("tag,v\nen,1\n,2\nNA,3\n")
    df = read_table(csv)
    assert df["tag"].isna().tolist() == [False, True, False]
    assert np.issubdtype(df["v"].dtype, np.integer)
