"""Issue 11 section 3: Parquet files written by pyarrow read alike in every engine.

Classes guarded:
- every Arrow string layout (``string``, ``large_string``, ``string_view``, dictionaries of
  them) keeps nulls as nulls (pyarrow's ``value_counts`` of a ``string_view`` array counts its
  nulls as ``''``, which the streaming engine used);
- int64 / uint64 columns with nulls keep exact values (pandas' default conversion goes through
  float64: 2^53 + 1 became 2^53, uint64's maximum became 2^64).

Expected values are counted by hand from the literal columns below; the entropy of counts
(2, 1, 1) is 1.5 bits (-(1/2 log2 1/2 + 2 * 1/4 log2 1/4)).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from validator import load_rules, read_table, validate
from validator.summaries import arrow_batch
from validator.summaries.keys import SummaryKey

pytest.importorskip("dask", reason="needs the optional extra: pip install 'pretrain-validator[dask]'")

ENGINES = [("memory", None), ("stream", 1), ("stream", 2), ("stream", 3), ("stream", 1000), ("dask", 2)]

TEXT = ["a", None, "", "b", None, "a", None]  # by hand: a 2, '' 1, b 1; 3 nulls

# the layouts a Parquet file gives back as written (a dictionary of large_string comes back as
# a dictionary of string, one of string_view cannot be written: both are checked on batches below)
LAYOUTS = {
    "string": pa.array(TEXT, type=pa.string()),
    "large_string": pa.array(TEXT, type=pa.large_string()),
    "string_view": pa.array(TEXT, type=pa.string_view()),
    "dictionary<values=string, indices=int32, ordered=0>": pa.array(TEXT, type=pa.string()).dictionary_encode(),
}


def run(path, rules, engine, batch_rows):
    ruleset = load_rules({"version": 1, "rules": rules})
    if engine == "memory":
        return {r.rule_id: r for r in validate(path, ruleset).results}
    return {r.rule_id: r for r in validate(path, ruleset, engine=engine, batch_rows=batch_rows).results}


@pytest.mark.parametrize("engine,batch_rows", ENGINES, ids=lambda v: str(v))
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_text_layout_nulls_stay_nulls_in_every_engine(tmp_path, layout, engine, batch_rows):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"s": LAYOUTS[layout]}), path, row_group_size=3)
    assert str(pq.read_schema(path).field("s").type) == layout
    got = run(path, [
        {"id": "k", "metric": "distinct_count", "column": "s", "nulls": "category", "min": 0},
        {"id": "h", "metric": "entropy", "column": "s", "min": 0},
        {"id": "kl", "metric": "kl_divergence", "column": "s", "reference": {"counts": {"a": 2, "": 1, "b": 1}}, "max": 0},
    ], engine, batch_rows)
    assert got["k"].observed == 4  # a, '', b and the null category
    assert got["h"].observed == pytest.approx(1.5, abs=1e-12) and got["h"].n == 4
    assert got["kl"].outcome == "passed" and got["kl"].observed == 0 and got["kl"].n == 4, got["kl"].details


@pytest.mark.parametrize("value_type", [pa.string(), pa.large_string(), pa.string_view()], ids=str)
@pytest.mark.parametrize("dictionary", [False, True], ids=["plain", "dictionary"])
def test_arrow_value_counts_of_every_text_layout_count_nulls_apart(value_type, dictionary):
    # dictionary<string_view> cannot be written to Parquet (pyarrow 26), so the summary is
    # checked on the batch itself
    arr = pa.array(TEXT, type=value_type)
    if dictionary:
        arr = arr.dictionary_encode()
    batch = pa.RecordBatch.from_pydict({"s": arr})
    counts = arrow_batch.summary(batch, SummaryKey("value_counts", "s", weight=None), 0)
    assert dict(zip(counts.keys, counts.counts.tolist())) == {"a": 2, "": 1, "b": 1}
    assert (counts.nulls, counts.rows, counts.null_rows) == (3, 4, 3)


BIG = 2**53
INT64 = [BIG, BIG + 1, None, BIG, -(2**63), None]  # by hand: 2^53 twice, 2^53 + 1 once, -2^63 once
UINT64 = [2**64 - 1, None, 2**64 - 2, 2**64 - 1, 0, None]  # 2^64 - 1 twice, 2^64 - 2 once, 0 once


def int_file(tmp_path):
    path = tmp_path / "ints.parquet"
    table = pa.table({"i": pa.array(INT64, type=pa.int64()), "u": pa.array(UINT64, type=pa.uint64())})
    pq.write_table(table, path, row_group_size=2)  # row groups with and without nulls
    return path


INT_RULES = [
    {"id": "ki", "metric": "distinct_count", "column": "i", "min": 0},
    {"id": "ku", "metric": "distinct_count", "column": "u", "min": 0},
    {"id": "kli", "metric": "kl_divergence", "column": "i", "max": 0,
     "reference": {"counts": {str(BIG): 2, str(BIG + 1): 1, str(-(2**63)): 1}}},
    {"id": "klu", "metric": "kl_divergence", "column": "u", "max": 0,
     "reference": {"counts": {str(2**64 - 1): 2, str(2**64 - 2): 1, "0": 1}}},
    {"id": "hi", "metric": "entropy", "column": "i", "nulls": "category", "min": 0},
]


@pytest.mark.parametrize("engine,batch_rows", ENGINES, ids=lambda v: str(v))
def test_int64_and_uint64_with_nulls_keep_exact_values_in_every_engine(tmp_path, engine, batch_rows):
    got = run(int_file(tmp_path), INT_RULES, engine, batch_rows)
    assert got["ki"].observed == 3 and got["ku"].observed == 3  # float64 made 2 of each
    for rule in ("kli", "klu"):
        r = got[rule]
        assert r.outcome == "passed" and r.observed == 0 and r.n == 4, (rule, r.details)
    shares = {d["category"]: d["data_share"] for d in got["klu"].details["distribution"]}
    assert shares == {"18446744073709551615": 0.5, "18446744073709551614": 0.25, "0": 0.25}
    shares = {d["category"]: d["data_share"] for d in got["kli"].details["distribution"]}
    assert shares == {"9007199254740992": 0.5, "9007199254740993": 0.25, "-9223372036854775808": 0.25}
    # counts (2, 1, 1, 2 nulls) over 6 rows: H = 2 * (1/3) log2 3 + 2 * (1/6) log2 6
    import math

    assert got["hi"].observed == pytest.approx(2 / 3 * math.log2(3) + 1 / 3 * math.log2(6), abs=1e-12)


def test_in_memory_reader_gives_nullable_exact_integers(tmp_path):
    df = read_table(int_file(tmp_path))
    assert str(df["i"].dtype) == "Int64" and str(df["u"].dtype) == "UInt64"
    assert df["i"].tolist()[:2] == [BIG, BIG + 1] and df["u"].iloc[0] == 2**64 - 1
    assert int(df["i"].isna().sum()) == 2 and int(df["u"].isna().sum()) == 2
    # a column without nulls stays numpy int64, as pandas reads it
    path = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"i": pa.array([BIG + 1, 1], type=pa.int64())}), path)
    assert str(read_table(path)["i"].dtype) == "int64"


def test_reference_file_with_big_ints_and_nulls_matches_the_data(tmp_path):
    path = int_file(tmp_path)
    got = run(path, [{"id": "kl", "metric": "kl_divergence", "column": "u", "max": 0,
                      "reference": {"file": str(path), "column": "u"}}], "memory", None)
    assert got["kl"].observed == 0 and got["kl"].details["cells"] == 3


def test_integer_reference_keys_are_matched_exactly_not_through_float():
    # a column without nulls has exact keys already; the reference's keys must not be rounded
    # (float("9007199254740993") is 2^53) to meet them
    import pandas as pd

    df = pd.DataFrame({"i": pd.array([BIG, BIG + 1, BIG + 1], dtype="int64")})
    ruleset = load_rules({"version": 1, "rules": [{"id": "kl", "metric": "kl_divergence", "column": "i", "max": 0,
                                                   "reference": {"counts": {str(BIG): 1, str(BIG + 1): 2}}}]})
    r = validate(df, ruleset)["kl"]
    assert r.outcome == "passed" and r.observed == 0 and r.details["cells"] == 2
