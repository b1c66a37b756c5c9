"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real pre-commit in a temporary git
repository: a good dataset commits, a skewed one is blocked with the report printed (H19:
the dataset-level hook measures the whole dataset, never the staged batch).

pre-commit installs this checkout's HEAD into its own environment (pip, from the package
registry), which takes a minute or two the first time; the environment is shared by the tests
of this module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import ROOT, digest

pytest.importorskip("pre_commit")
LANGS = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "fi", "da"]
RULES = "version: 1\nrules:\n  - {id: lang-entropy, metric: entropy, column: lang, min: 3}\n"


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    head = git(ROOT, "rev-parse", "HEAD").stdout.strip()
    if not git(ROOT, "cat-file", "-e", f"{head}:.pre-commit-hooks.yaml", check=False).returncode == 0:
        pytest.skip("HEAD of this checkout has no .pre-commit-hooks.yaml")
    home = tmp_path_factory.mktemp("pre-commit-home")
    environment = dict(os.environ, PRE_COMMIT_HOME=str(home), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
                       GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    environment["PATH"] = str(Path(sys.executable).parent) + os.pathsep + environment.get("PATH", "")
    return {"head": head, "env": environment}


def dataset_repo(tmp_path: Path, env: dict, hook_id: str, args: list[str]) -> Path:
    repo = tmp_path / "datasets"
    (repo / "data").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "rules.yaml").write_text(RULES)
    for i, lang in enumerate(LANGS):  # 10 shards, one language each (case H19)
        (repo / "data" / f"shard_{i:02d}.csv").write_text("lang,text\n" + "".join(f"{lang},t{j}\n" for j in range(10)))
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {env['head']}\n    hooks:\n      - id: {hook_id}\n        args: {args}\n"
        "        verbose: true\n"  # show the report of a passing hook too
    )
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env["env"], check=True, capture_output=True)
    return repo


def commit(repo: Path, env: dict, message: str) -> subprocess.CompletedProcess:
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env["env"])
    done = subprocess.run(["git", "commit", "-m", message], cwd=repo, capture_output=True, text=True, env=env["env"])
    done.stdout = done.stdout + done.stderr  # git prints the hook's output on stderr
    return done


def test_H19_dataset_hook_measures_the_whole_dataset_and_blocks_a_skewed_change(tmp_path, env):
    repo = dataset_repo(tmp_path, env, "validate-dataset", ["--rules", "rules.yaml", "data/"])
    good = commit(repo, env, "ten languages")
    assert good.returncode == 0, good.stdout + good.stderr
    # the whole dataset: 10 equal languages = log2(10) = 3.32 bits, never a batch's value
    assert "3.322 bits" in good.stdout and "PASSED" in good.stdout

    for i in (1, 2, 3):  # de, fr, es become en: en 40%, six languages 10% each
        (repo / "data" / f"shard_{i:02d}.csv").write_text("lang,text\n" + "".join(f"en,t{j}\n" for j in range(10)))
    shard = repo / "data" / "shard_01.csv"
    before = digest(shard)
    blocked = commit(repo, env, "skewed")
    assert blocked.returncode != 0
    # -(0.4 log2 0.4 + 6 x 0.1 log2 0.1) = 2.522 bits
    assert "FAIL" in blocked.stdout and "lang-entropy" in blocked.stdout and "2.522 bits" in blocked.stdout
    assert digest(shard) == before  # the hook never modifies the user's files
    assert git(repo, "log", "--oneline").stdout.count("\n") == 1  # nothing was committed


def test_deleting_shards_still_runs_the_dataset_gate(tmp_path, env):
    repo = dataset_repo(tmp_path, env, "validate-dataset", ["--rules", "rules.yaml", "data/"])
    assert commit(repo, env, "ten languages").returncode == 0
    for i in (7, 8, 9):
        git(repo, "rm", "-q", f"data/shard_{i:02d}.csv")
    blocked = commit(repo, env, "three shards fewer")  # log2(7) = 2.807 bits < 3
    assert blocked.returncode != 0 and "2.807 bits" in blocked.stdout


def test_per_file_hook_validates_each_staged_file_on_its_own(tmp_path, env):
    repo = dataset_repo(tmp_path, env, "validate-dataset-files", ["--rules", "rules.yaml"])
    result = commit(repo, env, "ten single-language shards")
    assert result.returncode != 0  # every shard alone has 0 bits
    assert result.stdout.count("FAIL    lang-entropy") == len(LANGS)


def test_unreadable_staged_file_blocks_the_commit_with_a_clear_message(tmp_path, env):
    repo = dataset_repo(tmp_path, env, "validate-dataset-files", ["--rules", "rules.yaml"])
    for p in (repo / "data").iterdir():
        p.unlink()
    (repo / "data" / "broken.csv").write_bytes(b"lang,text\n\xff\xfe,x\n")
    result = commit(repo, env, "broken")
    assert result.returncode != 0
    assert "cannot read data file" in result.stdout and "not UTF-8" in result.stdout and "Traceback" not in result.stdout
