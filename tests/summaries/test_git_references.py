"""Git references keep shards whose names git would quote (non-ASCII, spaces, quotes, tabs): paths are read with -z."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import scipy.spatial.distance

from validator import cli, load_rules, validate

from tests.summaries.test_git_reference import git, write

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

NAMES = ["é a.csv", "数据.csv", 'q"uote.csv', "t\tab.csv"]


def committed(repo, first, *setup):
    """A repo whose data/ commits `first` (500 en) and b.csv (300 de, 200 fr), then loses `first`
    in the working tree; `setup` are git commands run after `git init` (e.g. LFS tracking)."""
    git(repo, "init", "-q")
    for args in setup:
        git(repo, *args)
    data = repo / "data"
    data.mkdir()
    write(data / first, {"en": 500})
    write(data / "b.csv", {"de": 300, "fr": 200})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    (data / first).unlink()  # deleted in the working tree after the commit: the drift gate must see it
    return data


@pytest.mark.parametrize("name", NAMES)
def test_git_reference_keeps_non_ascii_shard_names(tmp_path, name):
    data = committed(tmp_path, name)
    doc = {"version": 1, "rules": [{"id": "d", "metric": "js_divergence", "column": "lang", "reference": {"git": "HEAD"}, "max": 0.005}]}
    r = validate([str(data)], load_rules(doc))["d"]
    # independent reference: committed counts en 500, de 300, fr 200 vs current de 300, fr 200 (scipy)
    expected = scipy.spatial.distance.jensenshannon([0.0, 0.6, 0.4], [0.5, 0.3, 0.2], base=2) ** 2
    assert r.observed == pytest.approx(expected) and r.outcome == "failed"


ENGINES = [("memory", None), ("stream", 1), ("stream", 4), ("dask", None)]


def measured(data, engine, batch_rows, rev="HEAD"):
    doc = {"version": 1, "rules": [{"id": "d", "metric": "js_divergence", "column": "lang", "reference": {"git": rev}, "max": 0.005}]}
    kwargs = {"batch_rows": batch_rows} if batch_rows else {}
    return validate([str(data)], load_rules(doc), engine=engine, **kwargs)["d"]


@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_git_reference_keeps_quoted_names_in_every_engine_at_an_older_revision(tmp_path, engine, batch_rows):
    data = committed(tmp_path, "数据 é.csv")
    write(data / "b.csv", {"de": 301, "fr": 200})
    git(tmp_path, "commit", "-qm", "v2", "--", "data/b.csv")  # HEAD~1 holds b.csv's first version
    r = measured(data, engine, batch_rows, rev="HEAD~1")
    expected = scipy.spatial.distance.jensenshannon([500, 300, 200], [0, 301, 200], base=2) ** 2  # scipy normalises
    assert r.observed == pytest.approx(expected) and r.outcome == "failed"


LFS = shutil.which("git-lfs") is not None and subprocess.run(["git", "lfs", "version"], capture_output=True).returncode == 0


def lfs_repo(tmp_path):
    return committed(tmp_path, "a.csv", ("lfs", "install", "--local"), ("lfs", "track", "*.csv"))


@pytest.mark.skipif(not LFS, reason="git-lfs is not installed (Debian package git-lfs; .ci/run installs it)")
@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_git_lfs_reference_reads_content_not_pointer(tmp_path, engine, batch_rows):
    data = lfs_repo(tmp_path)
    pointer = subprocess.run(["git", "show", "HEAD:data/b.csv"], cwd=tmp_path, capture_output=True).stdout
    assert pointer.startswith(b"version https://git-lfs.github.com/spec/v1")  # the premise: git stores the pointer
    r = measured(data, engine, batch_rows)
    expected = scipy.spatial.distance.jensenshannon([0.0, 0.6, 0.4], [0.5, 0.3, 0.2], base=2) ** 2
    assert r.observed == pytest.approx(expected) and r.outcome == "failed"


@pytest.mark.skipif(not LFS, reason="git-lfs is not installed (Debian package git-lfs; .ci/run installs it)")
def test_git_lfs_object_not_fetched_is_one_line_naming_the_fix(tmp_path, capsys):
    data = lfs_repo(tmp_path)
    shutil.rmtree(tmp_path / ".git" / "lfs" / "objects")  # a clone made without fetching LFS content
    r = measured(data, "memory", None)
    assert r.outcome == "error" and r.reason.endswith("a.csv at HEAD is a git LFS pointer whose content is not in this clone: "
                                                      "run `git lfs install` (git's LFS filters) and `git lfs fetch origin HEAD`")
    rules = tmp_path / "r.yaml"
    rules.write_text('version: 1\nrules:\n  - {id: d, metric: js_divergence, column: lang, reference: {git: HEAD}, max: 0.005}\n')
    assert cli.main(["--rules", str(rules), str(data)]) != 0
    out = capsys.readouterr()
    assert "git LFS pointer" in out.out + out.err and "Traceback" not in out.out + out.err


def test_git_lfs_pointer_without_git_lfs_installed_says_so(tmp_path, monkeypatch):
    git(tmp_path, "init", "-q")
    data = tmp_path / "data"
    data.mkdir()
    # a pointer committed as it arrives in a clone made where git-lfs is missing (no filter runs)
    (data / "a.csv").write_text("version https://git-lfs.github.com/spec/v1\n"
                                "oid sha256:654d016ad96d5ff58ecddfd94543bb75631f8cca5c81d32e91b23917a146f267\nsize 8\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "v1")
    write(data / "a.csv", {"en": 3})
    only_git = tmp_path / "bin"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git"))
    monkeypatch.setenv("PATH", str(only_git))
    r = measured(data, "memory", None)
    assert r.outcome == "error" and r.reason.endswith(
        "a.csv at HEAD is a git LFS pointer and git-lfs is not installed: install git-lfs (Debian package git-lfs), "
        "then run `git lfs install` and `git lfs pull`")
