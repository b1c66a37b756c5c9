"""Shared by every test folder: the repository's paths and helpers that several test files used
to define each for themselves (test modules import them: ``from tests.conftest import DATA``)."""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest

#: the repository root (the folder holding README.md, rules/, examples/)
ROOT = Path(__file__).resolve().parents[1]
#: the shipped example data (examples/data/*.csv and the embedder reference)
DATA = ROOT / "examples" / "data"


@pytest.fixture(autouse=True)
def _private_cache_home(tmp_path_factory, monkeypatch):
    """Every test gets its own ``XDG_CACHE_HOME`` (inherited by the CLI subprocesses it starts):
    the embedding cache never writes into the real ~/.cache, and tests never share entries."""
    home = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def digest(path: Path) -> str:
    """SHA-256 of a file's bytes: a file left untouched keeps its digest."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_same(a, b):
    """Two reports agree rule for rule: the same rule ids in order, outcomes, observed values
    (to 1e-12 relative), row counts per rule and rows read."""
    assert [r.rule_id for r in a.results] == [r.rule_id for r in b.results]
    for x, y in zip(a.results, b.results):
        assert x.outcome == y.outcome, (x.rule_id, x.reason, y.reason)
        if x.observed is None:
            assert y.observed is None, x.rule_id
        else:
            assert math.isclose(x.observed, y.observed, rel_tol=1e-12, abs_tol=1e-15), (x.rule_id, x.observed, y.observed)
        assert x.n == y.n, x.rule_id
    assert a.n_rows == b.n_rows
