"""Vendi score against its definition computed directly (eigenvalues of the n x n kernel) and
closed forms (Friedman and Dieng 2023)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from validator import RuleFileError, load_rules, validate
from validator.metrics.vendi import vendi_score


def direct(K):
    lam = np.linalg.eigvalsh(K / K.shape[0])
    lam = lam[lam > 1e-15]
    return math.exp(-(lam * np.log(lam)).sum())


def test_linear_kernel_dual_form_equals_the_n_by_n_definition():
    X = np.random.default_rng(0).normal(size=(200, 6))
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    assert vendi_score(X) == pytest.approx(direct(Xn @ Xn.T), rel=1e-10)


def test_rbf_kernel_equals_the_definition():
    X = np.random.default_rng(1).normal(size=(150, 3))
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    assert vendi_score(X, kernel="rbf", length_scale=0.7) == pytest.approx(direct(np.exp(-d2 / (2 * 0.49))), rel=1e-10)


def test_closed_forms():
    assert vendi_score(np.eye(5)) == pytest.approx(5.0)  # orthogonal rows: n distinct items
    assert vendi_score(np.ones((7, 3))) == pytest.approx(1.0)  # identical rows: one item
    # two groups of identical orthogonal rows, sizes 3 and 1: exp(H(3/4, 1/4))
    X = np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]])
    assert vendi_score(X) == pytest.approx(math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25))))


def test_vendi_rule_with_sampling_and_rbf_cap():
    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.normal(size=(2500, 3)), columns=["a", "b", "c"])
    rules = load_rules({"version": 1, "rules": [
        {"id": "lin", "metric": "vendi_score", "columns": ["a", "b", "c"], "min": 2},
        {"id": "rbf", "metric": "vendi_score", "columns": ["a", "b", "c"], "kernel": "rbf", "min": 1},
    ]})
    report = validate(df, rules)
    assert report["lin"].details["sampling"] == "exact" and report["lin"].n == 2500
    assert 2.5 < report["lin"].observed <= 3.0  # isotropic directions in 3-d: close to 3
    assert report["rbf"].details["sampling"] == "sampled" and report["rbf"].n == 2000 and report["rbf"].details["rbf_row_cap"] == 2000
    assert report["rbf"].units == "effective distinct rows"


def test_bad_vendi_rules():
    with pytest.raises(RuleFileError, match="'length_scale' only applies to kernel 'rbf'"):
        load_rules({"version": 1, "rules": [{"id": "v", "metric": "vendi_score", "columns": ["a"], "length_scale": 1.0, "min": 1}]})
    with pytest.raises(RuleFileError, match="at least 1"):
        load_rules({"version": 1, "rules": [{"id": "v", "metric": "vendi_score", "columns": ["a"], "min": 0.5}]})
    r = validate(pd.DataFrame({"a": [0.0, 1.0], "b": [0.0, 2.0]}),
                 load_rules({"version": 1, "rules": [{"id": "v", "metric": "vendi_score", "columns": ["a", "b"], "min": 1}]}))["v"]
    assert r.outcome == "error" and "all-zero feature vector" in r.reason and "data row 1" in r.reason


@pytest.mark.parametrize("scale", [1e160, 1e-170, 1.0])
def test_vendi_does_not_depend_on_the_scale_of_the_values(scale):
    X = np.random.default_rng(4).normal(size=(50, 4))
    for kernel in ("linear", "rbf"):
        assert vendi_score(X * scale, kernel=kernel) == pytest.approx(vendi_score(X, kernel=kernel), rel=1e-9)


def test_vendi_needs_two_rows():
    r = validate(pd.DataFrame({"a": [1.0]}), load_rules({"version": 1, "rules": [{"id": "v", "metric": "vendi_score", "columns": ["a"], "min": 1}]}))["v"]
    assert r.outcome == "error" and "needs at least 2 rows" in r.reason
