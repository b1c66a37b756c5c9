"""The rule loader under fuzzing (issue 17): mutated rule files raise only RuleFileError.

Mutations of the repository's own rule files: control and non-printable characters, truncation,
repeated lines, odd scalars (huge integers, octal-looking, tilde, tags), deep nesting."""

from __future__ import annotations

import glob
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator.rules.loader import RuleFileError, load_rules

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [Path(f).read_text(encoding="utf-8") for f in sorted(glob.glob(str(ROOT / "rules" / "*.yaml")))]
INSERTS = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\ufffe", "9" * 5000, "0o17", "~", "!!python/object:x ",
           "!!int 0x", "1e400", "&a ", "*a", "[" * 60, "{" * 60, "- " * 40, ": ", "!foo ", "\t", "'", '"', "%", "`"]


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "truncate", "repeat"]))
        if op == "insert":
            text = text[:i] + draw(st.sampled_from(INSERTS)) + text[i:]
        elif op == "truncate":
            text = text[:i]
        else:
            lines = text.splitlines(True) or [""]
            j = min(i, len(lines) - 1)
            text = "".join(lines[:j] + [lines[j]] * 3 + lines[j:])
    return text


def loads_or_refuses(text):
    t0 = time.perf_counter()
    try:
        load_rules(text=text, source="fuzz.yaml")
    except RuleFileError as exc:
        assert str(exc).startswith("fuzz.yaml")  # names the file (and line:col where known)
    assert time.perf_counter() - t0 < 2.0


def test_the_fuzz_corpus_is_the_repository_rule_files():
    assert len(TEXTS) >= 1 and all("rules:" in t for t in TEXTS)


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_rule_files_raise_only_the_rule_file_error(text):
    loads_or_refuses(text)


@pytest.mark.slow
@settings(max_examples=5000, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_rule_files_raise_only_the_rule_file_error_long_run(text):
    loads_or_refuses(text)


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\ufffe"])
def test_a_non_printable_character_is_a_rule_file_error_naming_line_and_column(char):
    # PyYAML's reader refused it with ReaderError, a traceback; the position is counted by hand
    text = f"version: 1\nrules:\n  - id: a{char}b\n"
    with pytest.raises(RuleFileError, match=rf"^r.yaml:3:10: not valid YAML: the non-printable character U\+{ord(char):04X}"):
        load_rules(text=text, source="r.yaml")


def test_an_integer_too_large_for_any_bound_is_a_rule_file_error():
    # 45 characters precede the value, so it starts at column 46; 5,000 digits: past Python's int-from-text limit (ValueError in the scalar resolver)
    text = "version: 1\nrules:\n  - {id: a, metric: entropy, column: c, min: " + "9" * 5000 + "}\n"
    with pytest.raises(RuleFileError, match=r"^r.yaml:3:46: an integer of 5000 digits is too large"):
        load_rules(text=text, source="r.yaml")
