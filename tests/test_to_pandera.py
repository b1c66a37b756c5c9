"""Issue 11 section 7: ``RuleSet.to_pandera().validate(df)`` for every outcome and for group_by.

A check passes or fails as its rule blocks a report (``Result.blocking``): failed and error
outcomes fail it (group_by rules list the groups that did not pass), skipped passes with a
SkippedRuleWarning. Expected groups are counted by hand from the literal frame below.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest

from validator import load_rules
from validator.errors import SkippedRuleWarning
from validator.result import Result

# by hand: group a holds {en}, b {en, de}, c {fr}: distinct counts 1, 2, 1
FRAME = pd.DataFrame({"lang": ["en", "en", "en", "de", "fr", "fr"], "src": ["a", "a", "b", "b", "c", "c"]})


def schema(rule):
    return load_rules({"version": 1, "rules": [rule]}).to_pandera()


def test_group_by_rule_passing_validates_without_type_error():
    rule = {"id": "g", "metric": "distinct_count", "column": "lang", "group_by": "src", "min": 1}
    assert schema(rule).validate(FRAME).equals(FRAME)  # pandera returns a copy


def test_group_by_rule_failing_raises_schema_error_listing_the_groups():
    rule = {"id": "g", "metric": "distinct_count", "column": "lang", "group_by": "src", "min": 2}
    with pytest.raises(pa.errors.SchemaError) as info:
        schema(rule).validate(FRAME)
    assert str(info.value).endswith("<Check g: " + "g: distinct_count by src, expected >= 2 categories in every group: 2 of 3 groups did not pass:"
                               " a failed (observed 1), c failed (observed 1) (failed)>")


def test_group_by_rule_with_an_unmeasurable_group_names_its_reason():
    df = FRAME.assign(lang=["en", "de", "en", "de", None, None])  # group c: no values
    rule = {"id": "g", "metric": "entropy", "column": "lang", "group_by": "src", "min": 0}
    with pytest.raises(pa.errors.SchemaError, match=r"1 of 3 groups did not pass: c error \(.+\) \(error\)"):
        schema(rule).validate(df)


def test_error_outcome_fails_the_check_with_its_reason():
    with pytest.raises(pa.errors.SchemaError, match="h: could not be measured: column 'nope' not found"):
        schema({"id": "h", "metric": "entropy", "column": "nope", "min": 0}).validate(FRAME)
    # warning severity: pandera's SchemaWarning, the frame passes
    with pytest.warns(UserWarning, match="h: could not be measured"):
        schema({"id": "h", "metric": "entropy", "column": "nope", "min": 0, "severity": "warning"}).validate(FRAME)


def test_skipped_outcome_passes_the_check_with_a_warning(monkeypatch):
    # skipped only arises from a git reference absent at its revision (files, not frames):
    # the outcome is injected to test how the check reports it
    import validator.pandera_schema as pandera_schema

    def skipped(rule, *args, **kwargs):
        return Result(rule_id=rule.id, metric=rule.metric, outcome="skipped", reason="1 data file(s) not in git revision HEAD~1")

    monkeypatch.setattr(pandera_schema, "evaluate", skipped)
    with pytest.warns(SkippedRuleWarning, match="h: skipped: 1 data file"):
        assert schema({"id": "h", "metric": "entropy", "column": "lang", "min": 5}).validate(FRAME).equals(FRAME)


def test_failed_single_value_message_keeps_the_observed_value():
    # src of the first three rows: a, a, b -> H(2/3, 1/3) = 0.918296 bits
    with pytest.raises(pa.errors.SchemaError, match=r"h: entropy observed 0.918296 bits, expected <= 0 \(failed\)"):
        schema({"id": "h", "metric": "entropy", "column": "src", "max": 0}).validate(FRAME.iloc[:3])
