"""Differential test of the readers (issue 11): tables mixing JSON booleans and integers,
numeric-looking text, nulls, big integers, optional JSON keys and every Arrow string layout give
the same result in memory, streamed at a random batch size, and on dask, rule for rule."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator import validate

pytest.importorskip("dask")

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([2**53, 2**53 + 1, 2**62]),  # 2**53 + 1 is not a float64: JSON integers stay exact beside nulls
    st.sampled_from(["01", "1", "true", "x", "NA", "nan", ""]),  # "1" beside 1, "true" beside true: two categories
)
TEXT = st.one_of(st.none(), st.sampled_from(["1", "01", "2", "1.0", "a", "b", "NA", "nan", " 1"]))


def rules(columns):
    out = []
    for c in columns:
        out += [{"id": f"{c}_distinct", "metric": "distinct_count", "column": c, "min": 0},
                {"id": f"{c}_entropy", "metric": "entropy", "column": c, "min": 0}]
    return {"version": 1, "rules": out}


def results(path, columns, engine, batch_rows=None):
    kwargs = {"batch_rows": batch_rows} if batch_rows else {}
    report = validate(path, rules(columns), engine=engine, **kwargs)
    # values to 12 significant digits: engines add the same counts in different orders (last-ulp sums)
    return [(r.rule_id, r.outcome, None if r.observed is None else float(f"{r.observed:.12g}"),
             r.details.get("top_categories"), r.details.get("nulls"), r.reason) for r in report.results]


def same_everywhere(path, columns, batch_rows):
    memory = results(path, columns, "memory")
    assert results(path, columns, "stream", batch_rows) == memory
    assert results(path, columns, "dask") == memory
    return memory


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(SCALARS, st.booleans(), TEXT), min_size=1, max_size=40), batch_rows=st.integers(1, 9))
def test_json_lines_tables_mixing_types_and_optional_keys_agree_in_every_engine(tmp_path_factory, rows, batch_rows):
    path = tmp_path_factory.mktemp("jsonl") / "d.jsonl"
    lines = []
    for i, (v, has_opt, t) in enumerate(rows):
        record = {"id": i, "v": v}
        if has_opt:  # an optional key, present on some lines only
            record["opt"] = t
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")
    columns = ["v"] + (["opt"] if any(has for _, has, _ in rows) else [])
    same_everywhere(path, columns, batch_rows)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=40), batch_rows=st.integers(1, 9),
       trailing=st.booleans())
def test_csv_tables_of_numeric_looking_text_agree_in_every_engine(tmp_path_factory, rows, batch_rows, trailing):
    path = tmp_path_factory.mktemp("csv") / "d.csv"
    end = "," if trailing else ""
    body = "".join(f"{'' if a is None else a},{'' if b is None else b}{end}\n" for a, b in rows)
    path.write_text("a,b\n" + body)
    same_everywhere(path, ["a", "b"], batch_rows)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(TEXT, min_size=1, max_size=30), ints=st.lists(st.one_of(st.none(), st.sampled_from([2**53, 2**53 + 1, 7])),
       min_size=1, max_size=30), batch_rows=st.integers(1, 9))
def test_parquet_string_layouts_and_big_integers_agree_in_every_engine(tmp_path_factory, values, ints, batch_rows):
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = min(len(values), len(ints))
    values, ints = values[:n], ints[:n]
    base = pa.array(values, type=pa.string())
    table = pa.table({
        "string": base,
        "large_string": base.cast(pa.large_string()),
        "dict_string": base.dictionary_encode(),
        "int64": pa.array(ints, type=pa.int64()),
    })
    path = tmp_path_factory.mktemp("pq") / "d.parquet"
    pq.write_table(table, path)
    memory = same_everywhere(path, list(table.column_names), batch_rows)
    # nulls stay nulls in every layout: counted as the raw list has them
    # (an all-null column is an error result, "0 non-null values", with no nulls detail)
    nulls = {r[0]: r[4] for r in memory}
    if any(v is not None for v in values):
        assert nulls["string_distinct"] == nulls["large_string_distinct"] == nulls["dict_string_distinct"] == values.count(None)
    if any(v is not None for v in ints):
        assert nulls["int64_distinct"] == ints.count(None)


def test_json_lines_big_integers_beside_nulls_are_exact_in_every_engine(tmp_path):
    p = tmp_path / "big.jsonl"
    p.write_text('{"v": null}\n{"v": 9007199254740993}\n')
    assert results(p, ["v"], "memory")[0][3] == {"9007199254740993": 1.0}
    same_everywhere(p, ["v"], 1)


def test_json_lines_true_and_the_text_true_agree_in_every_engine(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text('{"v": true}\n{"v": "true"}\n{"v": 1}\n{"v": "1"}\n')
    assert results(p, ["v"], "memory")[0][2] == 4.0  # JSON: true, "true", 1 and "1" are four values
    same_everywhere(p, ["v"], 1)


def test_json_lines_shards_typed_differently_are_compared_as_text_in_every_engine(tmp_path):
    # one shard of booleans, one of text: as with CSV and Parquet shards, compared as text
    (tmp_path / "a.jsonl").write_text('{"v": true}\n{"v": false}\n')
    (tmp_path / "b.jsonl").write_text('{"v": "true"}\n{"v": "x"}\n')
    assert results(tmp_path, ["v"], "memory")[0][2] == 3.0  # "true" (twice), "false", "x"
    same_everywhere(tmp_path, ["v"], 1)
