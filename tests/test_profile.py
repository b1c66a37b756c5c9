"""Reference building: validate-profile and validate-suggest on the real example data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from validator import load_rules, validate
from validator.cli import run
from validator.cli.profile import main_profile, main_suggest
from validator.profile import frozen_edges, load_profile

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "examples" / "data" / "pretrain_good.csv"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("profile")
    assert main_profile([str(GOOD), "--output", str(folder / "ref.yaml")]) == 0
    assert main_suggest([str(folder / "ref.yaml"), "--output", str(folder / "rules.yaml"), "--margin", "0.1"]) == 0
    return folder


def test_profile_records_counts_histograms_hash_and_version(built):
    prof = load_profile(built / "ref.yaml")
    df = pd.read_csv(GOOD, keep_default_na=False, na_values=[""])
    assert prof["tool"].startswith("pretrain-validator ") and prof["source"]["rows"] == len(df)
    digest = hashlib.sha256(GOOD.name.encode() + b"\0" + GOOD.read_bytes()).hexdigest()
    assert prof["source"]["sha256"] == digest
    assert prof["columns"]["language"]["counts"] == df["language"].value_counts().to_dict()
    e0 = prof["columns"]["e0"]
    assert len(e0["edges"]) - 1 <= 50 and sum(e0["counts"]) == e0["n"] == len(df)
    assert set(prof["skipped"]) == {"doc_id", "text"}  # ids and free text are not profiled


def test_frozen_edges_follow_freedman_diaconis_up_to_the_cap():
    rng = np.random.default_rng(0)
    few = rng.normal(size=100)
    np.testing.assert_array_equal(frozen_edges(few, 50), np.histogram_bin_edges(few, bins="fd"))
    many = rng.normal(size=100_000)
    assert len(frozen_edges(many, 50)) == 51  # FD would ask for more: capped, equal width
    assert frozen_edges(np.array([3.0, 3.0]), 50).tolist() == [2.5, 3.5]


def test_suggested_rules_pass_on_the_profiled_data_and_catch_a_skewed_set(built):
    rules = load_rules(built / "rules.yaml")
    assert validate(GOOD, rules).passed
    skewed = validate(ROOT / "examples" / "data" / "pretrain_one_language.csv", rules)
    assert skewed["language-entropy"].outcome == "failed" and skewed["language-drift"].outcome == "failed"
    assert skewed["language-entropy"].min == pytest.approx(round(0.9 * 2.9740252505508185, 4))


def test_profile_reference_errors(built, tmp_path, capsys):
    rules = tmp_path / "r.yaml"
    rules.write_text(f"version: 1\nrules:\n  - {{id: k, metric: js_divergence, column: lang, reference: {{profile: {built / 'ref.yaml'}, column: lang}}, max: 1}}\n")
    data = tmp_path / "d.csv"
    data.write_text("lang\nen\n")
    r = validate(data, load_rules(rules))["k"]
    assert r.outcome == "error" and "column 'lang' is not in the profile" in r.reason
    missing = tmp_path / "r2.yaml"
    missing.write_text("version: 1\nrules:\n  - {id: k, metric: js_divergence, column: lang, reference: {profile: nope.yaml, column: lang}, max: 1}\n")
    assert run(["--rules", str(missing), str(data)]) == 3
    assert "cannot read reference file" in capsys.readouterr().err


def test_profile_and_suggest_never_overwrite_their_inputs_and_check_their_options(built, tmp_path, capsys):
    data = tmp_path / "copy.csv"
    data.write_bytes(GOOD.read_bytes())
    assert main_profile([str(data), "--output", str(data)]) == 2
    assert data.read_bytes() == GOOD.read_bytes()
    ref = built / "ref.yaml"
    before = ref.read_bytes()
    assert main_suggest([str(ref), "--output", str(ref)]) == 2 and ref.read_bytes() == before
    assert main_suggest([str(ref), "--output", str(tmp_path / "no" / "such" / "r.yaml")]) == 2
    assert main_suggest([str(GOOD), "--output", str(tmp_path / "r.yaml")]) == 3  # not a profile: no traceback
    assert "is not a profile written by validate-profile" in capsys.readouterr().err
    for bad in (["--margin", "2"], ["--margin", "-1"], ["--js-max", "5"], ["--js-max", "nan"]):
        with pytest.raises(SystemExit) as info:
            main_suggest([str(ref), "--output", str(tmp_path / "r.yaml"), *bad])
        assert info.value.code == 2


def test_suggested_rules_refer_to_the_profile_relatively(built, tmp_path):
    (tmp_path / "rules").mkdir()
    import shutil

    shutil.copy(built / "ref.yaml", tmp_path / "ref.yaml")
    assert main_suggest([str(tmp_path / "ref.yaml"), "--output", str(tmp_path / "rules" / "s.yaml")]) == 0
    assert "profile: ../ref.yaml" in (tmp_path / "rules" / "s.yaml").read_text()


# -- bins that cannot hide drift (issue 11, section 6) ----------------------------------------

from validator.profile import profile_edges  # noqa: E402
from validator.summaries.histogram import cell_counts  # noqa: E402


def _profile_rule(tmp_path, reference: pd.DataFrame, js_max: float):
    reference.to_csv(tmp_path / "ref.csv", index=False)
    assert main_profile([str(tmp_path / "ref.csv"), "--output", str(tmp_path / "ref.yaml")]) == 0
    rule = {"id": "drift", "metric": "js_divergence", "column": "x", "reference": {"profile": str(tmp_path / "ref.yaml"), "column": "x"},
            "max": js_max}
    return load_profile(tmp_path / "ref.yaml")["columns"]["x"], load_rules({"version": 1, "rules": [rule]})


def _check(rules, tmp_path, df, name):
    df.to_csv(tmp_path / name, index=False)
    memory = validate(tmp_path / name, rules)["drift"]
    stream = validate(tmp_path / name, rules, engine="stream", batch_rows=333)["drift"]
    assert stream.observed == pytest.approx(memory.observed, rel=1e-12, abs=1e-15)
    return memory


def test_zero_iqr_column_keeps_its_cells_and_drift_in_the_other_5_percent_fails(tmp_path):
    def sample(seed, high):
        rng = np.random.default_rng(seed)
        return pd.DataFrame({"x": np.where(rng.random(10_000) < 0.95, 0.0, rng.uniform(1, high, 10_000))})

    reference = sample(0, 100)
    # numpy's Freedman-Diaconis rule gives 1 bin here (IQR 0): every drift in the 5% was invisible
    assert len(np.histogram_bin_edges(reference["x"], bins="fd")) - 1 == 1
    col, rules = _profile_rule(tmp_path, reference, 0.01)
    assert col["binning"].startswith("most common value in its own cell (0: 95.0% of the values")
    assert len(col["counts"]) >= 3 and col["counts"][0] == int((reference["x"] == 0).sum())  # the zeros, alone
    assert _check(rules, tmp_path, sample(1, 100), "same.csv").outcome == "passed"
    drifted = _check(rules, tmp_path, sample(2, 20), "drift.csv")  # the non-zero 5% now within [1, 20]
    assert drifted.outcome == "failed", drifted.observed


def test_lognormal_length_column_whose_median_doubles_fails(tmp_path):
    def lengths(seed, median):
        rng = np.random.default_rng(seed)
        return pd.DataFrame({"x": np.clip(np.round(np.exp(rng.normal(np.log(median), 1.2, 10_000))), 4, 18_000)})

    reference = lengths(0, 500)
    col, rules = _profile_rule(tmp_path, reference, 0.01)
    assert col["binning"].startswith("log-spaced (heavy tail")
    assert _check(rules, tmp_path, lengths(1, 500), "same.csv").outcome == "passed"
    drifted = _check(rules, tmp_path, lengths(2, 1000), "drift.csv")
    assert drifted.outcome == "failed", drifted.observed


def test_profile_edges_by_hand_and_against_numpy_quantiles():
    # distinct values when Freedman-Diaconis collapses: midpoints, half a gap outside
    edges, rule = profile_edges(np.array([1.0] * 90 + [2.0] * 5 + [3.0] * 5), 50)
    assert edges.tolist() == [0.5, 1.5, 2.5, 3.5] and rule.startswith("distinct values (3 cells")
    # the most common value alone, quantile edges (numpy: 1, 2.5, 4) for the other values
    edges, rule = profile_edges(np.array([0.0] * 20 + [1.0, 2.0, 3.0, 4.0]), 2)
    assert edges.tolist() == [-0.5, 1.0, 2.5, 4.0]
    assert cell_counts(np.array([0.0] * 20 + [1.0, 2.0, 3.0, 4.0]), edges)[1:-1].tolist() == [20, 2, 2]
    # heavy tail with values <= 0: numpy's quantiles at k / 50
    x = np.random.default_rng(3).standard_cauchy(5_000)
    edges, rule = profile_edges(x, 50)
    np.testing.assert_array_equal(edges, np.unique(np.quantile(x, np.linspace(0, 1, 51))))
    assert rule.startswith("quantile (heavy tail")
    # heavy tail > 0 whose logarithms are not heavy-tailed (log-normal): log-spaced,
    # min x (max / min)^(k / 3) by hand for 3 bins
    y = np.exp(np.random.default_rng(4).normal(0, 2, 2_000))
    edges, rule = profile_edges(y, 3)
    lo, hi = y.min(), y.max()
    np.testing.assert_allclose(edges, [lo, lo * (hi / lo) ** (1 / 3), lo * (hi / lo) ** (2 / 3), hi], rtol=1e-12)
    assert edges[0] == lo and edges[-1] == hi and rule.startswith("log-spaced")
    # a single far value makes the logarithms heavy-tailed too: quantile edges
    z = np.array([1.0] + [2.0, 3.0, 4.0] * 10 + [1e9])
    np.testing.assert_array_equal(profile_edges(z, 3)[0], np.unique(np.quantile(z, [0, 1 / 3, 2 / 3, 1])))
    # a tiny IQR against a wide range: numpy alone would ask for ~1e18 bins (ValueError)
    w = np.concatenate([np.linspace(0, 1e-9, 1000), [1e9]])
    edges, rule = profile_edges(w, 50)
    np.testing.assert_array_equal(edges, np.unique(np.quantile(w, np.linspace(0, 1, 51))))
    # a normal column keeps Freedman-Diaconis and says so
    assert profile_edges(np.random.default_rng(0).normal(size=100), 50)[1] == "Freedman-Diaconis"
