"""The command line: exit codes 0/1/2/3, formats, shards, --each; in process, plus one real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from validator.cli import run

RULES = textwrap.dedent(
    """\
    version: 1
    references:
      langs:
        categories: {en: 0.5, de: 0.5}
    rules:
      - {id: lang-entropy, metric: entropy, column: lang, min: 0.9}
      - {id: lang-kl, metric: kl_divergence, column: lang, reference: langs, max: 0.1}
      - {id: spread, metric: distance_spread, columns: [a, b], statistic: mean, min: 0.1}
    """
)


@pytest.fixture
def rules(tmp_path):
    p = tmp_path / "rules.yaml"
    p.write_text(RULES)
    return p


def write(tmp_path, name, langs, fmt=None):
    df = pd.DataFrame({"lang": langs, "a": range(len(langs)), "b": [x % 3 for x in range(len(langs))]})
    p = tmp_path / name
    if p.suffix == ".parquet":
        df.to_parquet(p)
    elif p.suffix == ".jsonl":
        df.to_json(p, orient="records", lines=True)
    elif p.suffix == ".tsv":
        df.to_csv(p, sep="\t", index=False)
    else:
        df.to_csv(p, index=False)
    return p


@pytest.mark.parametrize("name", ["d.csv", "d.tsv", "d.parquet", "d.jsonl"])
def test_balanced_data_passes_in_every_format(tmp_path, rules, name, capsys):
    data = write(tmp_path, name, ["en", "de"] * 5)
    before = data.read_bytes()
    assert run(["--rules", str(rules), str(data)]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "lang-entropy" in out and "1 bits" in out and "PASSED" in out
    assert data.read_bytes() == before  # input files are never modified


def test_failing_rule_exits_1_and_reports_observed_vs_bound(tmp_path, rules, capsys):
    data = write(tmp_path, "d.csv", ["en"] * 9 + ["de"])
    assert run(["--rules", str(rules), str(data)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "0.469 bits" in out and ">= 0.9" in out


def test_json_output_is_rfc8259_with_infinite_divergence_as_string(tmp_path, rules, capsys):
    data = write(tmp_path, "d.csv", ["en", "de", "fr", "en"])
    out_file = tmp_path / "report.json"
    assert run(["--rules", str(rules), str(data), "--format", "json", "--output", str(out_file)]) == 1
    text = out_file.read_text()
    assert "Infinity" not in text and "NaN" not in text
    report = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))
    kl = next(r for r in report["results"] if r["id"] == "lang-kl")
    assert kl["observed"] == "inf" and kl["finite"] is False and kl["outcome"] == "failed"
    assert kl["details"]["missing_in_reference"] == ["fr"]
    spread = next(r for r in report["results"] if r["id"] == "spread")
    assert spread["details"]["sampling"] == "exact" and spread["details"]["seed"] == 0
    assert report["passed"] is False and report["n_rows"] == 4
    assert "lang-kl" in capsys.readouterr().out  # the table still goes to stdout


def test_shards_are_one_dataset_and_each_splits_them(tmp_path, rules, capsys):
    a = write(tmp_path, "a.csv", ["en"] * 4)
    b = write(tmp_path, "b.csv", ["de"] * 4)
    assert run(["--rules", str(rules), str(a), str(b)]) == 0  # together: 1 bit
    assert run(["--rules", str(rules), str(tmp_path / "*.csv")]) == 0  # a glob
    capsys.readouterr()
    assert run(["--rules", str(rules), "--each", str(a), str(b), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert [r["dataset"] for r in payload["reports"]] == [str(a), str(b)]
    assert all(not r["passed"] for r in payload["reports"])


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty (0 bytes)"),
        (b"lang,a,b\n\xff\xfe,1,2\n", "not UTF-8"),
        (b'lang,a,b\n"en,1,2\n', "malformed CSV"),
    ],
)
def test_unreadable_data_exits_3_with_one_line(tmp_path, rules, capsys, content, message):
    data = tmp_path / "bad.csv"
    data.write_bytes(content)
    assert run(["--rules", str(rules), str(data)]) == 3
    err = capsys.readouterr().err
    assert message in err and str(data) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_data_path_exits_3(tmp_path, rules, capsys):
    assert run(["--rules", str(rules), str(tmp_path / "nope.csv")]) == 3
    assert "no such file" in capsys.readouterr().err


def test_invalid_rules_exit_2_and_nothing_is_measured(tmp_path, capsys):
    bad = tmp_path / "r.yaml"
    bad.write_text("version: 1\nrules:\n  - {id: x, metric: entropy, colum: lang, min: 1}\n")
    data = write(tmp_path, "d.csv", ["en"])
    assert run(["--rules", str(bad), str(data)]) == 2
    cap = capsys.readouterr()
    assert f"{bad}:3:" in cap.err and "did you mean 'column'" in cap.err and cap.out == ""
    assert run(["--rules", str(tmp_path / "missing.yaml"), str(data)]) == 2


def test_usage_errors_exit_2(rules):
    with pytest.raises(SystemExit) as info:
        run(["--rules", str(rules)])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        run(["--rules", str(rules), "--format", "xml", "d.csv"])
    assert info.value.code == 2


def test_missing_column_is_an_error_result_and_others_still_run(tmp_path, rules, capsys):
    p = tmp_path / "d.csv"
    pd.DataFrame({"language": ["en", "de"], "a": [1, 2], "b": [1, 5]}).to_csv(p, index=False)
    assert run(["--rules", str(rules), str(p), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    by_id = {r["id"]: r for r in report["results"]}
    assert by_id["lang-entropy"]["outcome"] == "error"
    assert "column 'lang' not found" in by_id["lang-entropy"]["reason"] and "did you mean 'language'" in by_id["lang-entropy"]["reason"]
    assert by_id["spread"]["outcome"] == "passed"


def test_header_without_rows_makes_every_rule_an_error(tmp_path, rules, capsys):
    p = tmp_path / "d.csv"
    p.write_text("lang,a,b\n")
    assert run(["--rules", str(rules), str(p), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [r["outcome"] for r in report["results"]] == ["error"] * 3
    assert all(r["reason"] for r in report["results"])


def test_non_numeric_and_nan_features(tmp_path, capsys):
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: s, metric: distance_spread, columns: [a, t], min: 0}\n  - {id: s2, metric: distance_spread, columns: [a, b], min: 0}\n")
    p = tmp_path / "d.csv"
    p.write_text("a,b,t\n1,2,x\n,3,y\n4,inf,z\n5,6,w\n7,8,v\n")
    assert run(["--rules", str(rules), str(p), "--format", "json"]) == 1
    by_id = {r["id"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert by_id["s"]["outcome"] == "error" and "column 't' is not numeric" in by_id["s"]["reason"]
    assert by_id["s2"]["outcome"] == "passed"
    assert by_id["s2"]["details"]["dropped_rows"] == 2 and by_id["s2"]["n"] == 3


def test_real_subprocess_run_of_the_console_script(tmp_path, rules):
    data = write(tmp_path, "d.csv", ["en", "de"] * 3)
    exe = Path(sys.executable).with_name("validate")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "validator.cli"]
    proc = subprocess.run(cmd + ["--rules", str(rules), str(data)], capture_output=True, text=True, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr
    assert "lang-kl" in proc.stdout and "PASSED" in proc.stdout


def test_junit_report_has_one_test_case_per_rule(tmp_path, rules, capsys):
    import xml.etree.ElementTree as ET

    data = write(tmp_path, "d.csv", ["en", "de", "fr", "en"])
    out = tmp_path / "report.xml"
    assert run(["--rules", str(rules), str(data), "--format", "junit", "--output", str(out)]) == 1
    root = ET.parse(out).getroot()
    suite = root.find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"lang-entropy", "lang-kl", "spread"}
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("errors") == "0"
    failure = cases["lang-kl"].find("failure")
    assert failure is not None and "infinite divergence" in failure.get("message") and "'fr'" in failure.get("message")
    assert cases["lang-entropy"].find("failure") is None


def test_markdown_report(tmp_path, rules, capsys):
    data = write(tmp_path, "d.csv", ["en", "de"] * 3)
    assert run(["--rules", str(rules), str(data), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### ✅ ") and "| status | rule | metric | observed | expected | n | notes |" in out
    assert "| ✅ PASS | lang-entropy | entropy | 1 bits | >= 0.9 | n=6 |" in out and "**PASSED: 3 rules" in out


def test_colour_only_on_a_terminal(tmp_path, rules, capsys, monkeypatch):
    from validator.report.text import render_text
    from validator import load_rules, validate

    data = write(tmp_path, "d.csv", ["en", "de"] * 3)
    report = validate(data, load_rules(rules))
    assert "\033[" not in render_text(report) and "\033[32mPASS" in render_text(report, colour=True)
    assert run(["--rules", str(rules), str(data)]) == 0
    assert "\033[" not in capsys.readouterr().out  # captured output is not a terminal
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert run(["--rules", str(rules), str(data)]) == 0
    assert "\033[" not in capsys.readouterr().out


def test_json_reports_follow_the_committed_versioned_schema(tmp_path, rules, capsys):
    import jsonschema

    from validator.report.schema import SCHEMA_PATH, render

    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), "stale: run python -m validator.report.schema"
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    a = write(tmp_path, "a.csv", ["en", "de", "fr", "en"])  # an infinite divergence
    b = write(tmp_path, "b.csv", ["en", "de"] * 4)
    (tmp_path / "c.csv").write_text("")
    interval_rules = tmp_path / "ci.yaml"
    interval_rules.write_text("version: 1\nrules:\n  - {id: h, metric: entropy, column: lang, min: 0, confidence: 0.9, group_by: a}\n")
    for args in (["--rules", str(rules), str(a)], ["--rules", str(rules), "--each", str(a), str(b), str(tmp_path / "c.csv")],
                 ["--rules", str(interval_rules), str(b)]):
        run(args + ["--format", "json"])
        jsonschema.validate(json.loads(capsys.readouterr().out), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"format_version": 1, "dataset": "x"}, schema)


def test_each_reports_a_missing_path_in_every_format(tmp_path, rules, capsys):
    import xml.etree.ElementTree as ET

    good = write(tmp_path, "good.csv", ["en", "de"] * 3)
    missing = str(tmp_path / "nosuch.csv")
    out = tmp_path / "r.xml"
    assert run(["--rules", str(rules), "--each", str(good), missing, "--format", "junit", "--output", str(out)]) == 3
    suites = ET.parse(out).getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == [str(good), missing] and suites[1].get("errors") == "1"
    capsys.readouterr()
    assert run(["--rules", str(rules), "--each", str(good), missing, "--format", "markdown"]) == 3
    assert f"### ❌ {missing}: cannot be read" in capsys.readouterr().out
    assert run(["--rules", str(rules), "--each", str(good), missing, "--format", "html"]) == 3
    assert "cannot be read" in capsys.readouterr().out
