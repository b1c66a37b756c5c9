"""Bad input found by trying to break the tool: each gets a clear message and the documented exit code."""

from __future__ import annotations

import gzip
import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from validator import RuleFileError, load_rules, validate
from validator.cli import run

ENTROPY_K = "version: 1\nrules:\n  - {id: h, metric: entropy, column: k, min: 0}\n"


@pytest.fixture
def k_rules(tmp_path):
    p = tmp_path / "k.yaml"
    p.write_text(ENTROPY_K)
    return p


def digest(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def observed(capsys, args):
    code = run(args + ["--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)["results"][0] if code in (0, 1) else out


@pytest.mark.parametrize("target", ["data", "rules"])
def test_output_never_overwrites_an_input(tmp_path, k_rules, capsys, target):
    data = tmp_path / "d.csv"
    data.write_text("k\na\nb\n")
    victim = data if target == "data" else k_rules
    before = digest(victim)
    assert run(["--rules", str(k_rules), str(data), "--format", "json", "--output", str(victim)]) == 2
    assert "one of the input files" in capsys.readouterr().err
    assert digest(victim) == before


def test_deeply_nested_rule_file_is_exit_2_not_a_traceback(tmp_path, capsys):
    p = tmp_path / "deep.yaml"
    p.write_text("version: 1\nrules: " + "[" * 3000 + "]" * 3000 + "\n")
    data = tmp_path / "d.csv"
    data.write_text("k\na\n")
    assert run(["--rules", str(p), str(data)]) == 2
    assert "nested too deeply" in capsys.readouterr().err


def test_categories_are_counted_as_written_in_text_files(tmp_path, k_rules, capsys):
    data = tmp_path / "d.csv"
    data.write_text("k\n01\n1\n001\n")
    code, r = observed(capsys, ["--rules", str(k_rules), str(data)])
    assert r["observed"] == pytest.approx(1.5849625, abs=1e-7)  # three categories: log2 3


def test_shards_read_a_column_the_same_way(tmp_path, k_rules, capsys):
    (tmp_path / "sh").mkdir()
    (tmp_path / "sh" / "a.csv").write_text("k\n1\n2\n")
    (tmp_path / "sh" / "b.csv").write_text("k\nx\n1\n")
    code, r = observed(capsys, ["--rules", str(k_rules), str(tmp_path / "sh")])
    assert r["observed"] == pytest.approx(1.5)  # counts {1: 2, 2: 1, x: 1}


def test_reference_keys_match_text_as_written(tmp_path, capsys):
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\nreferences:\n  r: {categories: {'01': 0.5, 'True': 0.5}}\n"
        "rules:\n  - {id: kl, metric: kl_divergence, column: k, reference: r, max: 0.01}\n"
    )
    data = tmp_path / "d.csv"
    data.write_text("k\n01\nTrue\n")
    code, r = observed(capsys, ["--rules", str(rules), str(data)])
    assert code == 0 and r["observed"] == 0.0


def test_repeated_header_name_is_exit_3(tmp_path, k_rules, capsys):
    data = tmp_path / "d.csv"
    data.write_text("k,x,x\na,1,2\n")
    assert run(["--rules", str(k_rules), str(data)]) == 3
    assert "names a column more than once: 'x'" in capsys.readouterr().err


def test_not_utf8_names_line_and_offset(tmp_path, k_rules, capsys):
    data = tmp_path / "d.csv"
    data.write_bytes(b"k,x\nen,1\nd\xe9,1\n")
    assert run(["--rules", str(k_rules), str(data)]) == 3
    assert "invalid byte 0xe9 at line 3, byte offset 10" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content, message",
    [('{"k": 1}\n{"k": \n', "line 2: not valid JSON"), ('{"k": 1}\n[1]\n', "line 2: expected a JSON object per line, found list")],
)
def test_bad_json_lines_name_the_line(tmp_path, k_rules, capsys, content, message):
    data = tmp_path / "d.jsonl"
    data.write_text(content)
    assert run(["--rules", str(k_rules), str(data)]) == 3
    assert message in capsys.readouterr().err


def test_directory_of_gzipped_shards_and_one_file_named_twice(tmp_path, k_rules, capsys):
    shards = tmp_path / "gz"
    shards.mkdir()
    for name, rows in (("a.csv.gz", "k\na\n"), ("b.csv.gz", "k\nb\n")):
        with gzip.open(shards / name, "wt") as f:
            f.write(rows)
    code, r = observed(capsys, ["--rules", str(k_rules), str(shards)])
    assert code == 0 and r["n"] == 2 and r["observed"] == 1.0
    same = str(shards / "a.csv.gz"), str(shards / ".." / "gz" / "a.csv.gz")
    code, r = observed(capsys, ["--rules", str(k_rules), *same])
    assert r["n"] == 1


def test_seed_out_of_range_is_a_rule_file_error():
    with pytest.raises(RuleFileError, match=r"rule 'd': 'rules\[0\]\.sample\.seed'"):
        load_rules(text="version: 1\nrules:\n  - {id: d, metric: distance_spread, columns: [a], sample: {seed: 99999999999999999999999}, min: 0}\n")


@pytest.mark.parametrize(
    "rule, message",
    [
        ("{id: d, metric: distance_spread, columns: [a], epsilon: 0.5, min: 0}", "'epsilon' only applies to statistic 'duplicate_fraction'"),
        ("{id: h, metric: entropy, column: '', min: 0}", "'rules[0].column': expected non-empty text"),
        ("{id: 'column:k', metric: entropy, column: k, min: 0}", "reserved for declared columns"),
    ],
)
def test_more_rule_file_errors(rule, message):
    with pytest.raises(RuleFileError) as info:
        load_rules(text=f"version: 1\nrules:\n  - {rule}\n")
    assert message in str(info.value)


def test_inline_reference_errors_carry_no_library_internals():
    with pytest.raises(RuleFileError) as info:
        load_rules(text="version: 1\nrules:\n  - {id: k, metric: kl_divergence, column: x, reference: {categories: {a: 0.5, b: 0.45}}, max: 1}\n")
    text = str(info.value)
    assert len(info.value.problems) == 1 and "sum to 0.95" in text
    assert "function-after" not in text and ".str" not in text


def test_numeric_text_column_with_literal_nan_is_numbers_with_missing_values(tmp_path, capsys):
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: d, metric: distance_spread, columns: [a, b], min: 0}\n")
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\nNaN,3\n4,5\n7,8\n")
    code, r = observed(capsys, ["--rules", str(rules), str(data)])
    assert code == 0 and r["details"]["dropped_rows"] == 1 and r["n"] == 3
    data.write_text("a,b\n1,2\nlots,3\n4,5\n")
    code, r = observed(capsys, ["--rules", str(rules), str(data)])
    assert r["outcome"] == "error" and "value 'lots' at row 2" in r["reason"]


def test_header_only_numeric_rule_says_zero_rows(tmp_path, capsys):
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: d, metric: distance_spread, columns: [a], min: 0}\n")
    data = tmp_path / "d.csv"
    data.write_text("a\n")
    code, r = observed(capsys, ["--rules", str(rules), str(data)])
    assert code == 1 and r["reason"].startswith("0 rows")


def test_cosine_with_an_all_zero_row_names_the_data_row():
    rules = load_rules({"version": 1, "rules": [{"id": "c", "metric": "distance_spread", "columns": ["a", "b"], "distance": "cosine", "min": 0}]})
    r = validate(pd.DataFrame({"a": [1.0, 0.0, 2.0], "b": [1.0, 0.0, 1.0]}), rules)["c"]
    assert r.outcome == "error" and "all-zero feature vector: 1 such row(s), the first at data row 2" in r.reason


def test_missing_reference_file_says_reference(tmp_path, capsys):
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: k, metric: kl_divergence, column: k, reference: {file: ref.csv, column: k}, max: 1}\n")
    data = tmp_path / "d.csv"
    data.write_text("k\na\n")
    assert run(["--rules", str(rules), str(data)]) == 3
    err = capsys.readouterr().err
    assert "cannot read reference file" in err and "ref.csv: no such file" in err


def test_api_rejects_data_that_is_not_a_table():
    rules = load_rules(text=ENTROPY_K)
    with pytest.raises(TypeError, match="must be a pandas DataFrame, a path or a non-empty list of paths. Got Series"):
        validate(pd.Series([1, 2]), rules)
    with pytest.raises(TypeError, match="load_rules must be a non-empty path or a dict"):
        load_rules(42)


def test_integer_column_names_in_a_dataframe_match_rule_text():
    r = validate(pd.DataFrame({0: ["a", "b"]}), load_rules({"version": 1, "rules": [{"id": "h", "metric": "entropy", "column": "0", "min": 0}]}))["h"]
    assert r.observed == 1.0


# -- second hunt ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "dtype, series",
    [
        ("int", pd.Series([1, 2, 3], dtype="int32")),
        ("int", pd.Series([1, None, 3], dtype="Int64")),
        ("int", pd.Series([1.0, np.nan, 3.0])),  # an int CSV column with a missing value
        ("int", pd.Series(["01", "1", None], dtype="str")),  # kept as text for a categorical rule
        ("float", pd.Series([1.5, 2.5], dtype="float32")),
        ("float", pd.Series([1, 2, 3])),
        ("numeric", pd.Series(["1.5", "nan", "2"], dtype="str")),
        ("bool", pd.Series([True, None, False], dtype="boolean")),
        ("bool", pd.Series(["True", "False"], dtype="str")),
        ("datetime", pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"]).tz_localize("UTC"))),
        ("datetime", pd.Series(["2024-01-01", "2024-02-01T10:00:00"], dtype="str")),
        ("category", pd.Series(["a", "b"], dtype="str")),
        ("category", pd.Series(["a", "b"], dtype="category")),
    ],
)
def test_declared_dtype_kinds_accept_ordinary_data(dtype, series):
    rules = load_rules({"version": 1, "columns": {"c": {"dtype": dtype}}, "rules": [{"id": "h", "metric": "entropy", "column": "c", "min": 0}]})
    report = validate(pd.DataFrame({"c": series}), rules)
    assert report["column:c"].outcome == "passed", report["column:c"].reason


@pytest.mark.parametrize(
    "dtype, series",
    [("int", pd.Series([1.5, 2.0])), ("float", pd.Series(["a", "1"], dtype="str")), ("bool", pd.Series([1, 0])),
     ("datetime", pd.Series(["yesterday"], dtype="str")), ("str", pd.Series([1, 2]))],
)
def test_declared_dtype_kinds_reject_other_data(dtype, series):
    rules = load_rules({"version": 1, "columns": {"c": {"dtype": dtype}}, "rules": [{"id": "h", "metric": "entropy", "column": "c", "min": 0}]})
    r = validate(pd.DataFrame({"c": series}), rules)["column:c"]
    assert r.outcome == "failed" and f"expected dtype {dtype}, found" in r.reason


def test_declared_int_column_still_counts_categories_as_written(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("i\n01\n1\n2\n")
    rules = load_rules({"version": 1, "columns": {"i": {"dtype": "int"}}, "rules": [{"id": "h", "metric": "entropy", "column": "i", "min": 0}]})
    report = validate(data, rules)
    assert report["column:i"].outcome == "passed"
    assert report["h"].observed == pytest.approx(np.log2(3))


def test_a_categorical_rule_does_not_change_a_distance_rule_on_the_same_boolean_column(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("b\nTrue\nFalse\nTrue\n")
    alone = {"id": "d", "metric": "distance_spread", "columns": ["b"], "min": 0}
    both = load_rules({"version": 1, "rules": [alone, {"id": "h", "metric": "entropy", "column": "b", "min": 0}]})
    assert validate(data, both)["d"].observed == validate(data, load_rules({"version": 1, "rules": [alone]}))["d"].observed == pytest.approx(2 / 3)


def test_typed_values_match_reference_keys_that_mean_the_same_value():
    df = pd.DataFrame({"f": [1.0, 1.0, 0.5, 2.5], "b": [True, False, True, False]})
    rules = load_rules({
        "version": 1,
        "references": {"r": {"categories": {"1.0": 0.5, "0.5": 0.25, "2.5": 0.25}}, "t": {"categories": {"True": 0.5, "False": 0.5}}},
        "rules": [{"id": "f", "metric": "kl_divergence", "column": "f", "reference": "r", "max": 0.1},
                  {"id": "b", "metric": "kl_divergence", "column": "b", "reference": "t", "max": 0.1}],
    })
    report = validate(df, rules)
    assert report["f"].observed == 0.0 and report["b"].observed == 0.0


def test_each_reports_readable_files_when_one_is_not(tmp_path, k_rules, capsys):
    (tmp_path / "a.csv").write_text("k\nx\ny\n")
    (tmp_path / "b.csv").write_text("")
    assert run(["--rules", str(k_rules), "--each", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--format", "json"]) == 3
    cap = capsys.readouterr()
    payload = json.loads(cap.out)
    assert [r["dataset"] for r in payload["reports"]] == [str(tmp_path / "a.csv")]
    assert payload["unreadable"][0]["dataset"] == str(tmp_path / "b.csv") and payload["passed"] is False
    assert "empty (0 bytes)" in cap.err


def test_extreme_values():
    # subnormal features: the distance is the subnormal itself (no OverflowError)
    r = validate(pd.DataFrame({"x": [5e-324, 0.0]}), load_rules({"version": 1, "rules": [{"id": "d", "metric": "distance_spread", "columns": ["x"], "min": 0}]}))["d"]
    assert r.observed == 5e-324
    # equal-width bins over [-1e308, 1e308]: cells (1, 2, 1) -> 1.5 bits, no overflow
    r = validate(pd.DataFrame({"x": [1e308, 0.0, -1e308, 1.0]}), load_rules({"version": 1, "rules": [{"id": "h", "metric": "entropy", "column": "x", "bins": {"count": 4}, "min": 0}]}))["h"]
    assert r.observed == pytest.approx(1.5) and all(np.isfinite(r.details["edges"]))
    # reference counts near the float64 maximum: shares without overflow
    ref = {"counts": {"a": 1e308, "b": 1e308, "z": 1e308}}
    r = validate(pd.DataFrame({"x": ["a", "b"]}), load_rules({"version": 1, "rules": [{"id": "k", "metric": "kl_divergence", "column": "x", "reference": ref, "max": 1}]}))["k"]
    assert r.observed == pytest.approx(np.log2(1.5))  # 2 * 0.5 log2(0.5 / (1/3))


def test_text_table_shows_bounds_with_the_digits_that_tell_them_apart():
    from validator.report.text import render_text

    rules = load_rules({"version": 1, "rules": [{"id": "h", "metric": "entropy", "column": "x", "min": 1.0000000000000002}]})
    text = render_text(validate(pd.DataFrame({"x": ["a", "b"]}), rules))
    assert ">= 1.0000000000000002" in text and "FAIL" in text


def test_shards_typing_a_categorical_column_differently_count_the_same_categories(tmp_path, k_rules, capsys):
    pd.DataFrame({"k": [1, 2, 1]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"k": ["1", "2", "1"]}).to_parquet(tmp_path / "b.parquet")
    code, r = observed(capsys, ["--rules", str(k_rules), str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")])
    assert r["observed"] == pytest.approx(0.9182958, abs=1e-7)  # {1: 4, 2: 2}


def test_declared_text_column_keeps_leading_zeros_whatever_rules_use_it(tmp_path):
    data = tmp_path / "z.csv"
    data.write_text("zip,v\n01234,1\n12345,2\n")
    rules = load_rules({"version": 1, "columns": {"zip": {"dtype": "str"}}, "rules": [{"id": "h", "metric": "entropy", "column": "v", "min": 0}]})
    report = validate(data, rules)
    assert report["column:zip"].outcome == "passed"


def test_blank_line_in_a_one_column_file_is_an_empty_field(tmp_path, capsys):
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: h, metric: entropy, column: c, nulls: category, min: 0}\n")
    data = tmp_path / "d.csv"
    data.write_text("c\na\n\nb\n")
    code, r = observed(capsys, ["--rules", str(rules), str(data)])
    assert r["n"] == 3 and r["observed"] == pytest.approx(np.log2(3))


def test_output_is_refused_as_an_input_even_beside_a_missing_path(tmp_path, k_rules, capsys):
    data = tmp_path / "d.csv"
    data.write_text("k\na\nb\n")
    before = digest(data)
    args = ["--rules", str(k_rules), "--each", str(data), str(tmp_path / "nosuch.csv"), "--format", "json", "--output", str(data)]
    assert run(args) == 2
    assert "one of the input files" in capsys.readouterr().err and digest(data) == before
