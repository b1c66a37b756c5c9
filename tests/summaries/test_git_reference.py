"""Dataset-change drift: a reference read from the data files' own committed version (git show)."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest
import scipy.spatial.distance

from validator import load_rules, validate
from validator.cli import run

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@example.invalid", "PATH": "/usr/bin:/bin:/usr/local/bin"})


def write(path, counts):
    path.write_text("lang\n" + "".join(f"{k}\n" * n for k, n in counts.items()))


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q")
    return tmp_path


def rules(**reference):
    return load_rules({"version": 1, "rules": [{"id": "drift", "metric": "js_divergence", "column": "lang",
                                                 "reference": {"git": "HEAD", **reference}, "max": 0.05}]})


def test_a_change_is_measured_against_the_committed_version(repo):
    data = repo / "data.csv"
    write(data, {"en": 50, "de": 30, "fr": 20})
    git(repo, "add", "data.csv")
    git(repo, "commit", "-qm", "v1")
    write(data, {"en": 80, "de": 15, "fr": 5})  # the working tree (staged or not) against HEAD
    before = data.read_bytes()
    r = validate(data, rules())["drift"]
    expected = scipy.spatial.distance.jensenshannon([0.8, 0.15, 0.05], [0.5, 0.3, 0.2], base=2) ** 2
    assert r.observed == pytest.approx(expected) and r.outcome == "failed"  # 0.0829 bits > 0.05
    assert data.read_bytes() == before and git(repo, "status", "--porcelain").stdout.strip() == "M data.csv"
    write(data, {"en": 52, "de": 29, "fr": 19})
    assert validate(data, rules())["drift"].outcome == "passed"


def test_a_given_revision_for_ci(repo):
    data = repo / "data.csv"
    write(data, {"en": 50, "de": 50})
    git(repo, "add", "data.csv")
    git(repo, "commit", "-qm", "v1")
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    write(data, {"en": 100})
    git(repo, "commit", "-qam", "v2")
    doc = {"version": 1, "rules": [{"id": "d", "metric": "total_variation", "column": "lang", "reference": {"git": first}, "max": 0.1}]}
    r = validate(data, load_rules(doc))["d"]
    assert r.observed == pytest.approx(0.5) and r.outcome == "failed"


def test_first_commit_of_a_file_is_skipped_by_default_or_fails_on_request(repo, tmp_path, capsys):
    git(repo, "commit", "-q", "--allow-empty", "-m", "empty")
    data = repo / "new.csv"
    write(data, {"en": 3})
    r = validate(data, rules())["drift"]
    assert r.outcome == "skipped" and "not in git revision HEAD" in r.reason and "on_missing: skip" in r.reason
    r = validate(data, rules(on_missing="fail"))["drift"]
    assert r.outcome == "error" and "(on_missing: fail)" in r.reason
    rule_file = tmp_path / "r.yaml"
    rule_file.write_text("version: 1\nrules:\n  - {id: drift, metric: js_divergence, column: lang, reference: {git: HEAD}, max: 0.05}\n")
    assert run(["--rules", str(rule_file), str(data)]) == 0  # a skip does not fail the run
    assert "SKIP" in capsys.readouterr().out


def test_git_reference_errors(repo):
    data = repo / "data.csv"
    write(data, {"en": 3})
    r = validate(data, rules())["drift"]  # no commit at all: HEAD does not exist
    assert r.outcome == "error" and "HEAD:data.csv" in r.reason
    r = validate(pd.DataFrame({"lang": ["en"]}), rules())["drift"]
    assert r.outcome == "error" and "validate files, not a DataFrame" in r.reason


def test_a_deleted_shard_counts_in_the_committed_dataset(repo):
    data = repo / "data"
    data.mkdir()
    write(data / "a.csv", {"en": 500})
    write(data / "b.csv", {"de": 300, "fr": 200})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    git(repo, "rm", "-q", "data/a.csv")  # the staged dataset has lost its English shard
    doc = {"version": 1, "rules": [{"id": "d", "metric": "js_divergence", "column": "lang", "reference": {"git": "HEAD"}, "max": 0.005}]}
    r = validate([str(data)], load_rules(doc))["d"]
    expected = scipy.spatial.distance.jensenshannon([0.0, 0.6, 0.4], [0.5, 0.3, 0.2], base=2) ** 2
    assert r.observed == pytest.approx(expected) and r.outcome == "failed"
