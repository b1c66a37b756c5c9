"""Reference building: validate-profile and validate-suggest on the real example data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from validator import load_rules, validate
from validator.cli import run
from validator.profile import frozen_edges, load_profile, main_profile, main_suggest

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
