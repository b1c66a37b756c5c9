"""The main job on the shipped real example data: the pass/fail matrix the README shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from validator import load_rules, validate
from validator.cli import run

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"

PRETRAIN_RULES = [
    "language-entropy",
    "source-entropy",
    "domain-entropy",
    "embedding-spread",
    "near-duplicates",
    "language-representativeness",
]

# dataset -> the rules it must fail (all others must pass). The single-source and single-topic
# sets are English-only WordNet, so they also fail both language rules.
EXPECTED_FAILURES = {
    "pretrain_good.csv": set(),
    "pretrain_single_source.csv": {"source-entropy", "language-entropy", "embedding-spread", "language-representativeness"},
    "pretrain_single_topic.csv": {"domain-entropy", "embedding-spread", "source-entropy", "language-entropy", "language-representativeness"},
    "pretrain_one_language.csv": {"language-entropy", "language-representativeness"},
    "pretrain_near_duplicates.csv": {"near-duplicates"},
}


@pytest.fixture(scope="module")
def pretrain_rules():
    return load_rules(ROOT / "rules" / "pretrain.yaml")


@pytest.mark.parametrize("dataset", sorted(EXPECTED_FAILURES))
def test_pass_fail_matrix(pretrain_rules, dataset):
    report = validate(DATA / dataset, pretrain_rules)
    by_id = {r.rule_id: r for r in report.results}
    assert [r for r in by_id if not r.startswith("column:")] == PRETRAIN_RULES
    assert all(by_id[r].outcome != "error" for r in by_id), [by_id[r].reason for r in by_id if by_id[r].outcome == "error"]
    failing = {r for r in PRETRAIN_RULES if by_id[r].outcome == "failed"}
    assert failing == EXPECTED_FAILURES[dataset]
    assert all(by_id[c].outcome == "passed" for c in by_id if c.startswith("column:"))
    assert report.passed == (not EXPECTED_FAILURES[dataset])


def test_each_bad_subset_fails_the_rules_aimed_at_its_defect(pretrain_rules):
    aimed = {
        "pretrain_single_source.csv": {"source-entropy"},
        "pretrain_single_topic.csv": {"domain-entropy", "embedding-spread"},
        "pretrain_one_language.csv": {"language-entropy", "language-representativeness"},
        "pretrain_near_duplicates.csv": {"near-duplicates"},
    }
    for dataset, rules in aimed.items():
        assert rules <= EXPECTED_FAILURES[dataset]


def test_main_job_command_on_the_good_set(capsys):
    code = run(["--rules", str(ROOT / "rules" / "pretrain.yaml"), str(DATA / "pretrain_good.csv")])
    out = capsys.readouterr().out
    assert code == 0 and "PASSED" in out
    for rule in PRETRAIN_RULES:
        assert rule in out


@pytest.mark.parametrize("dataset, passes", [("penguins.csv", True), ("penguins_one_species.csv", False)])
def test_penguins_distance_spread(dataset, passes):
    report = validate(DATA / dataset, load_rules(ROOT / "rules" / "penguins.yaml"))
    assert (report["penguin-spread"].outcome == "passed") == passes
    assert report["penguin-spread"].details["sampling"] == "exact"


def test_every_rule_file_in_rules_loads():
    files = sorted((ROOT / "rules").glob("*.yaml"))
    assert files
    for f in files:
        assert load_rules(f).rules


def test_readme_matrix_and_api_snippet_match_the_tool(monkeypatch):
    """The README's numbers are what the tool prints; its API snippet runs as written."""
    import re

    from validator.report.text import _observed

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (pretrain_\w+) \(.*?\) \| (.*) \|$", readme, re.M)
    assert len(rows) == len(EXPECTED_FAILURES)
    rules = load_rules(ROOT / "rules" / "pretrain.yaml")
    for dataset, cells in rows:
        report = validate(DATA / f"{dataset}.csv", rules)
        shown = [c.strip().replace("**", "") for c in cells.split("|")]
        for rule, cell in zip(PRETRAIN_RULES, shown):
            value, verdict = cell.split()
            assert value == _observed(report[rule]), (dataset, rule)
            assert verdict == ("pass" if report[rule].outcome == "passed" else "fail"), (dataset, rule)
    snippet = re.search(r"## Python API\n\n```python\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    assert namespace["report"].passed


@pytest.mark.parametrize("dataset", ["pretrain_good.csv", "pretrain_one_language.csv"])
def test_file_path_and_pandera_dataframe_path_agree(pretrain_rules, dataset):
    from validator import read_table

    from_file = validate(DATA / dataset, pretrain_rules)
    through_pandera = validate(read_table(DATA / dataset), pretrain_rules)
    assert [r.to_dict() for r in from_file.results] == [r.to_dict() for r in through_pandera.results]


def test_file_path_without_declared_columns_does_not_load_pandera(tmp_path):
    import subprocess
    import sys

    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: h, metric: entropy, column: language, min: 0}\n")
    code = (
        "import sys; from validator import validate; "
        f"r = validate({str(DATA / 'pretrain_good.csv')!r}, {str(rules)!r}); "
        "print(r.passed, 'pandera' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]


def test_readme_example_output_is_what_validate_prints(capsys, monkeypatch):
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```text\n\$ validate (.*?)\n(.*?)```", readme, re.S)
    monkeypatch.chdir(ROOT)
    run(block.group(1).split())
    printed = capsys.readouterr().out.splitlines()
    shown = block.group(2).splitlines()
    assert len(printed) == len(shown)
    for got, want in zip(printed, shown):
        if want.endswith("..."):  # the README elides the long list of declared columns
            assert got.startswith(want[:-3])
        else:
            assert got == want


def test_etl_job_example_writes_only_through_a_passing_gate(tmp_path):
    import subprocess
    import sys

    import pandas as pd

    job = ROOT / "examples" / "etl_job.py"
    out = tmp_path / "good.parquet"
    ok = subprocess.run([sys.executable, str(job), str(DATA / "pretrain_good.csv"), str(out)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "2000 rows read, 1789 kept, gate passed" in ok.stdout and len(pd.read_parquet(out)) == 1789
    bad_out = tmp_path / "bad.parquet"
    bad = subprocess.run([sys.executable, str(job), str(DATA / "pretrain_one_language.csv"), str(bad_out)], capture_output=True, text=True)
    assert bad.returncode == 1 and not bad_out.exists()
    assert "language-entropy (failed)" in bad.stderr and '"format_version": 1' in bad.stderr


# rules/pretrain_text.yaml reads the text column itself (embeds it, finds duplicates, measures
# text statistics). dataset -> {rule: (observed as printed, outcome)}; the README table.
TEXT_MATRIX = {
    "pretrain_good.csv": {"embedding-spread": (0.8604, "passed"), "near-duplicates": (0.006, "passed"),
                          "near-duplicates-minhash": (0.0065, "passed"), "exact-duplicates": (0.0, "passed"),
                          "char-trigram-entropy": (11.84, "passed"), "vocabulary-richness": (0.8042, "passed"),
                          "length-distribution": (0.001794, "passed")},
    "pretrain_single_source.csv": {"embedding-spread": (0.6799, "failed"), "near-duplicates": (0.0, "passed"),
                                   "near-duplicates-minhash": (0.0, "passed"), "exact-duplicates": (0.0, "passed"),
                                   "char-trigram-entropy": (10.57, "passed"), "vocabulary-richness": (0.8116, "passed"),
                                   "length-distribution": (0.07563, "passed")},
    "pretrain_single_topic.csv": {"embedding-spread": (0.6487, "failed"), "near-duplicates": (0.0175, "passed"),
                                  "near-duplicates-minhash": (0.0, "passed"), "exact-duplicates": (0.0, "passed"),
                                  "char-trigram-entropy": (10.4, "passed"), "vocabulary-richness": (0.8441, "passed"),
                                  "length-distribution": (0.06957, "passed")},
    "pretrain_one_language.csv": {"embedding-spread": (0.7592, "passed"), "near-duplicates": (0.0, "passed"),
                                  "near-duplicates-minhash": (0.0, "passed"), "exact-duplicates": (0.0, "passed"),
                                  "char-trigram-entropy": (11.0, "passed"), "vocabulary-richness": (0.8139, "passed"),
                                  "length-distribution": (0.01689, "passed")},
    "pretrain_near_duplicates.csv": {"embedding-spread": (0.8165, "passed"),
                                     "near-duplicates": (0.7433, "failed"), "near-duplicates-minhash": (0.9467, "failed"),
                                     "exact-duplicates": (0.0, "passed"), "char-trigram-entropy": (11.53, "passed"),
                                     "vocabulary-richness": (0.6655, "passed"), "length-distribution": (0.03964, "passed")},
}


@pytest.fixture(scope="module")
def text_rules():
    return load_rules(ROOT / "rules" / "pretrain_text.yaml")


@pytest.mark.parametrize("dataset", sorted(TEXT_MATRIX))
def test_text_rule_file_matrix(text_rules, pretrain_rules, dataset):
    report = validate(DATA / dataset, text_rules)
    by_id = {r.rule_id: r for r in report.results}
    assert all(r.outcome in ("passed", "failed") for r in by_id.values()), [r.reason for r in by_id.values() if r.reason]
    for rule, (value, outcome) in TEXT_MATRIX[dataset].items():
        assert float(f"{by_id[rule].observed:.4g}") == pytest.approx(value, abs=1e-12), rule
        assert by_id[rule].outcome == outcome, rule
    # the rules both files share agree, and the embedded text gives the e0..e7 columns' values
    old = {r.rule_id: r for r in validate(DATA / dataset, pretrain_rules).results}
    for rule in ("language-entropy", "source-entropy", "domain-entropy", "language-representativeness",
                 "embedding-spread", "near-duplicates"):
        assert by_id[rule].observed == pytest.approx(old[rule].observed, abs=1e-6), rule
        assert by_id[rule].outcome == old[rule].outcome


def test_near_duplicate_subset_fails_only_the_near_duplicate_rules(text_rules):
    report = validate(DATA / "pretrain_near_duplicates.csv", text_rules)
    failed = {r.rule_id for r in report.results if r.outcome == "failed"}
    assert failed == {"near-duplicates", "near-duplicates-minhash"}
    report = validate(DATA / "pretrain_single_topic.csv", text_rules)
    assert "embedding-spread" in {r.rule_id for r in report.results if r.outcome == "failed"}
