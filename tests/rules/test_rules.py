"""Rule files: strict parsing, messages with file:line:column, rule id, expected and found."""

from __future__ import annotations

import json
import textwrap

import jsonschema
import pytest

from validator import RuleFileError, load_rules
from validator.rules.schema import SCHEMA_PATH, render, rule_file_schema
from tests.conftest import ROOT


def load(text: str):
    return load_rules(text=textwrap.dedent(text), source="r.yaml")


GOOD = """\
version: 1
references:
  langs:
    categories: {en: 0.5, de: 0.5}
rules:
  - id: h
    metric: entropy
    column: lang
    min: 1
  - id: kl
    metric: kl_divergence
    column: lang
    reference: langs
    max: 0.1
"""


def test_good_file_loads_with_defaults():
    rs = load(GOOD)
    h, kl = rs.rules
    assert (h.base, h.estimator, h.nulls, h.severity, h.normalize) == (2, "plugin", "drop", "error", False)
    assert rs.reference_for(kl).categories == {"en": 0.5, "de": 0.5}


@pytest.mark.parametrize(
    "snippet, pattern",
    [
        ("  - {id: a, metric: entrpy, column: x, min: 1}", r"r\.yaml:10:\d+: rule 'a': unknown metric 'entrpy'.*did you mean 'entropy'"),
        ("  - {id: a, metric: entropy, column: x, mn: 1}", r"r\.yaml:10:\d+: rule 'a': unknown key 'mn'.*did you mean 'min'"),
        ("  - {id: a, metric: entropy, column: x}", r"rule 'a': a rule needs 'min' and/or 'max'"),
        ("  - {id: a, metric: entropy, column: x, min: 2, max: 1}", r"rule 'a':.*'min' \(2\) is greater than 'max' \(1\)"),
        ("  - {id: a, metric: kl_divergence, column: x, reference: langs, max: -0.1}", r"rule 'a':.*'max' is -0.1, but this metric is never negative"),
        ("  - {id: a, metric: entropy, column: x, min: high}", r"r\.yaml:10:\d+: rule 'a': 'rules\[1\]\.min': expected a number, found text 'high'"),
        ("  - {id: a, metric: entropy, column: x, min: 1, base: 3}", r"'rules\[1\]\.base': expected 2, 10 or 'e', found int 3"),
        ("  - {id: a, metric: distance_spread, columns: [x], statistic: meen, min: 1}", r"found text 'meen'; did you mean 'mean'"),
        ("  - {id: a, metric: distance_spread, columns: [x], statistic: quantile, min: 1}", r"statistic 'quantile' needs 'q'"),
        ("  - {id: a, metric: kl_divergence, column: x, reference: lang, max: 1}", r"reference 'lang' is not defined.*did you mean 'langs'"),
        ("  - {id: a, metric: kl_divergence, column: x, reference: langs, max: 1, smoothing: {laplace: 1}}", r"given as probabilities; use smoothing: \{epsilon"),
        ("  - {id: h, metric: entropy, column: x, min: 1}", r"rule 'h': duplicate rule id \(first at line 6\)"),
        ("  - {id: a, metric: entropy, column: x, min: 1, normalize: true, max: 2, bins: {edges: [1, 0]}}", r"edges must be strictly increasing"),
        ("  - {id: a, metric: entropy, column: x, min: .inf}", r"expected a finite number"),
    ],
)
def test_bad_rules_are_reported_with_position_rule_and_expectation(snippet, pattern):
    text = textwrap.dedent(GOOD).split("  - id: kl")[0] + snippet + "\n"
    with pytest.raises(RuleFileError, match=pattern):
        load_rules(text=text, source="r.yaml")


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("", r"expected a mapping with 'version' and 'rules', found an empty file"),
        ("- 1\n", r"found a list"),
        ("version: 2\nrules: []\n", r"'version': expected 1, found int 2"),
        ("version: 1\nrules: []\n", r"'rules'"),
        ("version: 1\nrule: []\n", r"unknown key 'rule'.*did you mean 'rules'"),
        ("version: 1\nrules: [\n", r"r\.yaml:3:1: not valid YAML"),
        ("version: 1\nx: &a 1\nrules: *a\n", r"anchors \(&a\) are not allowed"),
        ("version: !!python/object:os.system 1\nrules: []\n", r"tag .* is not allowed"),
        ("version: 1\nversion: 1\n", r"duplicate key 'version': first at line 1, again at line 2"),
    ],
)
def test_bad_documents(text, pattern):
    with pytest.raises(RuleFileError, match=pattern):
        load_rules(text=text, source="r.yaml")


def test_all_problems_are_reported_at_once():
    text = GOOD.replace("min: 1", "mn: 1").replace("max: 0.1", "max: many")
    with pytest.raises(RuleFileError) as info:
        load(text)
    assert len(info.value.problems) == 2
    assert {p.rule_id for p in info.value.problems} == {"h", "kl"}


def test_yaml_values_follow_yaml_12_core_schema():
    rs = load(GOOD.replace("max: 0.1", "max: 1e-3").replace("column: lang\n    min", "column: no\n    min"))
    assert rs.rules[1].max == 0.001
    assert rs.rules[0].column == "no"


def test_reference_other_must_be_a_category():
    text = GOOD.replace("categories: {en: 0.5, de: 0.5}", "categories: {en: 0.5, de: 0.5}\n    other: rest")
    with pytest.raises(RuleFileError, match=r"'other' is 'rest', which is not one of the reference's categories"):
        load(text)


def test_rule_file_path_errors(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_bytes(b"version: 1\n\xff\xfe")
    with pytest.raises(RuleFileError, match="not UTF-8"):
        load_rules(p)


# -- JSON Schema --------------------------------------------------------------------------------
def test_committed_schema_is_generated_from_the_model():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), (
        "schemas/rules.schema.json is stale: run `python -m validator.rules.schema`"
    )


def test_schema_accepts_example_rule_files_and_rejects_unknown_keys():
    import yaml

    schema = rule_file_schema()
    for path in sorted(ROOT.glob("rules/*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    doc = yaml.safe_load(GOOD)
    doc["rules"][0]["mn"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)
    json.dumps(schema)


def test_readme_documents_every_metric_and_every_rule_key():
    """A metric or key added to the rule model must appear in the README's rule-file reference."""
    from validator.rules.model import RULE_TYPES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for metric, cls in RULE_TYPES.items():
        assert f"`{metric}`" in readme, metric
        for name, field in cls.model_fields.items():
            key = field.alias or name
            assert f"`{key}" in readme, (metric, key)
