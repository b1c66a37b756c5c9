"""Git references keep shards whose names git would quote (non-ASCII, spaces, quotes, tabs): paths are read with -z."""

from __future__ import annotations

import shutil

import pytest
import scipy.spatial.distance

from validator import load_rules, validate

from test_git_reference import git, write

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

NAMES = ["é a.csv", "数据.csv", 'q"uote.csv', "t\tab.csv"]


@pytest.mark.parametrize("name", NAMES)
def test_git_reference_keeps_non_ascii_shard_names(tmp_path, name):
    git(tmp_path, "init", "-q")
    data = tmp_path / "data"
    data.mkdir()
    write(data / name, {"en": 500})
    write(data / "b.csv", {"de": 300, "fr": 200})
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "v1")
    (data / name).unlink()  # deleted in the working tree after the commit: the drift gate must see it
    doc = {"version": 1, "rules": [{"id": "d", "metric": "js_divergence", "column": "lang", "reference": {"git": "HEAD"}, "max": 0.005}]}
    r = validate([str(data)], load_rules(doc))["d"]
    # independent reference: committed counts en 500, de 300, fr 200 vs current de 300, fr 200 (scipy)
    expected = scipy.spatial.distance.jensenshannon([0.0, 0.6, 0.4], [0.5, 0.3, 0.2], base=2) ** 2
    assert r.observed == pytest.approx(expected) and r.outcome == "failed"
