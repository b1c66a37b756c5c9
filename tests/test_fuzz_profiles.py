"""Profiles under fuzzing and odd columns (issue 17): validate-suggest, a rule's profile reference
and validate-profile end in the project's one-line errors, never a traceback.

A profile is checked where it is read (validator.profile.load_profile): every key validate-suggest
and a profile reference use, with the constraints of a reference in a rule file; a bad one is exit
3 naming the key (the code's convention for a profile that cannot be used, like an unreadable one).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator.cli import run
from validator.cli.profile import main_profile, main_suggest


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzzprof")
    rng = np.random.default_rng(0)
    data = folder / "d.csv"
    pd.DataFrame({"lang": rng.choice(["en", "de", "fr"], 60), "x": rng.normal(size=60).round(3)}).to_csv(data, index=False)
    assert main_profile([str(data), "--output", str(folder / "p.yaml")]) == 0
    prof = yaml.safe_load((folder / "p.yaml").read_text())
    return folder, data, prof


JUNK = [None, 0, -1, 1e308, float("inf"), float("nan"), "x", "", [], {}, [1, "a"], {"a": "b"}, True]


@st.composite
def mutated(draw, prof):
    """The profile with 1-3 entries anywhere in its tree deleted or replaced by a value of another type."""
    prof = copy.deepcopy(prof)
    for _ in range(draw(st.integers(1, 3))):
        node = prof
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, (dict, list)) and child and draw(st.booleans()):
                node = child
                continue
            if isinstance(node, dict) and draw(st.booleans()):
                del node[key]
            else:
                node[key] = copy.deepcopy(draw(st.sampled_from(JUNK)))  # JUNK itself is never mutated
            break
    return prof


def one_line_or_success(code, err, allowed):
    assert code in allowed, err
    if code not in (0, 1):
        assert len(err.strip().splitlines()) == 1, err


def feed(folder, data, prof, capsys):
    # JSON is YAML: a profile as a careless exporter might rewrite it (NaN and Infinity are not JSON, given as text)
    (folder / "m.json").write_text(json.dumps(prof).replace("NaN", '".nan"').replace("Infinity", '".inf"'))
    code = main_suggest([str(folder / "m.json"), "--output", str(folder / "s.yaml")])
    one_line_or_success(code, capsys.readouterr().err, {0, 3})
    for column in ("lang", "x"):
        (folder / "r.yaml").write_text("version: 1\nrules:\n  - {id: k, metric: js_divergence, column: %s,"
                                       " reference: {profile: m.json, column: %s}, max: 1}\n" % (column, column))
        code = run(["--rules", str(folder / "r.yaml"), str(data), "-q"])
        one_line_or_success(code, capsys.readouterr().err, {0, 1, 3})


@settings(max_examples=40, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_profiles_give_only_the_projects_errors(base, capsys, data):
    folder, path, prof = base
    feed(folder, path, data.draw(mutated(prof)), capsys)


@pytest.mark.slow
@settings(max_examples=1000, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_profiles_give_only_the_projects_errors_long_run(base, capsys, data):
    folder, path, prof = base
    feed(folder, path, data.draw(mutated(prof)), capsys)


def _suggest_error(folder, prof, capsys):
    (folder / "bad.json").write_text(json.dumps(prof))
    code = main_suggest([str(folder / "bad.json"), "--output", str(folder / "never.yaml")])
    err = capsys.readouterr().err
    assert not (folder / "never.yaml").exists()
    return code, err


@pytest.mark.parametrize("edit, key", [
    (lambda p: p["columns"]["x"].pop("edges"), "columns.x.edges"),  # KeyError in suggest before
    (lambda p: p["columns"]["lang"].update(entropy_bits="high"), "columns.lang.entropy_bits"),  # TypeError in round()
    (lambda p: p["columns"]["lang"].update(counts=[3, 4]), "columns.lang.counts"),
    (lambda p: p["columns"]["x"].update(kind="text"), "columns.x.kind"),
    (lambda p: p["columns"].update(x=[1, 2]), "columns.x"),
    (lambda p: p["columns"]["x"].update(edges=[2.0, 1.0]), "columns.x.edges"),
    (lambda p: p["columns"]["x"].update(counts=p["columns"]["x"]["counts"][:-1]), "columns.x.counts"),
    (lambda p: p.update(skipped=["id"]), "skipped"),
])
def test_a_profile_with_a_missing_key_or_wrong_type_is_exit_3_naming_the_key(base, tmp_path, capsys, edit, key):
    folder, data, prof = base
    prof = copy.deepcopy(prof)
    edit(prof)
    code, err = _suggest_error(tmp_path, prof, capsys)
    assert code == 3 and err.count("\n") == 1 and f"is not a usable profile: key {key}: expected" in err, err
    # the same profile named by a rule: the reference file cannot be used, exit 3 with the same line
    (tmp_path / "r.yaml").write_text("version: 1\nrules:\n  - {id: k, metric: js_divergence, column: x,"
                                     " reference: {profile: bad.json, column: x}, max: 1}\n")
    assert run(["--rules", str(tmp_path / "r.yaml"), str(data), "-q"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"key {key}: expected" in err, err


def test_a_profile_with_no_profiled_column_suggests_nothing_exit_3(base, tmp_path, capsys):
    _, _, prof = base
    code, err = _suggest_error(tmp_path, {**prof, "columns": {}, "skipped": {"t": "no values"}}, capsys)
    assert code == 3 and err == f"validate-suggest: the profile {tmp_path / 'bad.json'} has no profiled columns (not profiled: t): no rules to suggest\n"


def test_naive_and_aware_timestamps_are_profiled_as_categories_and_the_suggested_rules_pass(tmp_path, capsys):
    days = pd.date_range("2020-01-01", periods=3, freq="D")
    naive = list(days) * 10
    pq.write_table(pa.table({"t": pa.array(naive)}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"t": pa.array(pd.DatetimeIndex(naive).tz_localize("UTC"))}), tmp_path / "b.parquet")
    files = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    assert main_profile(files + ["--output", str(tmp_path / "p.yaml")]) == 0
    counts = yaml.safe_load((tmp_path / "p.yaml").read_text())["columns"]["t"]["counts"]
    # counted by hand: 10 of each day, naive and UTC apart (str(pd.Timestamp) is the category)
    assert counts == {**{str(d): 10 for d in days}, **{str(d.tz_localize("UTC")): 10 for d in days}}
    assert main_suggest([str(tmp_path / "p.yaml"), "--output", str(tmp_path / "r.yaml")]) == 0
    assert run(["--rules", str(tmp_path / "r.yaml"), *files, "-q"]) == 0


def test_a_numeric_range_past_float64_is_not_profiled_and_says_why(tmp_path, capsys):
    # 1e308 - (-1e308) overflows to inf: equal-width edges were NaN (np.linspace), written as .nan
    (tmp_path / "d.tsv").write_text("a\tb\n" + "".join(f"{v}\t{i % 3}\n" for i, v in enumerate([1e308, -1e308, 0, 1, 2] * 6)))
    assert main_profile([str(tmp_path / "d.tsv"), "--output", str(tmp_path / "p.yaml")]) == 0
    prof = yaml.safe_load((tmp_path / "p.yaml").read_text())
    assert prof["skipped"] == {"a": "values from -1e+308 to 1e+308: a range past float64's largest value, no finite bin edges"}
    assert prof["columns"]["b"]["counts"] == [10, 10, 10]
    assert "(not profiled: a)" in capsys.readouterr().out


def test_int64_extremes_are_binned_with_finite_edges(tmp_path):
    # the range 2**64 - 1 is finite as a float; numpy once asked for ~1e18 Freedman-Diaconis bins here
    values = [2**63 - 1, -(2**63)] + list(range(-100, 100))
    (tmp_path / "d.tsv").write_text("a\n" + "".join(f"{v}\n" for v in values))
    assert main_profile([str(tmp_path / "d.tsv"), "--output", str(tmp_path / "p.yaml")]) == 0
    col = yaml.safe_load((tmp_path / "p.yaml").read_text())["columns"]["a"]
    assert np.isfinite(col["edges"]).all() and sum(col["counts"]) == len(values) == col["n"]


def test_list_columns_are_not_profiled_and_say_why(tmp_path, capsys):
    # lists of two values made FrameSummaries.category_counts compare an array with a string (ValueError)
    pq.write_table(pa.table({"l": [[1, 2], [3], None] * 10, "m": [{"a": 1}] * 30, "x": list(range(30))}), tmp_path / "d.parquet")
    assert main_profile([str(tmp_path / "d.parquet"), "--output", str(tmp_path / "p.yaml")]) == 0
    prof = yaml.safe_load((tmp_path / "p.yaml").read_text())
    assert set(prof["skipped"]) == {"l", "m"} and "nested values" in prof["skipped"]["l"] and list(prof["columns"]) == ["x"]
