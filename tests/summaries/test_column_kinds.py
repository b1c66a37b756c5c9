"""Issue 11 section 4: declared column kinds (``columns: {c: {dtype: ...}}``) on real files.

Classes guarded:
- ``dtype: datetime`` accepts ISO 8601 text whose values carry different UTC offsets (a column
  crossing a daylight-saving change has two: pandas refuses such text as "mixed time zones"
  unless it converts to UTC);
- ``dtype: bool`` with ``nullable: true`` accepts missing values in CSV, JSON Lines and Parquet
  (a boolean column with nulls is an object column, which pandas calls a string dtype).

Every engine gives the same verdict. The timestamps: Europe/Berlin left CET (+01:00) for CEST
(+02:00) at 2026-03-29 01:00 UTC, so 01:30+01:00 and 03:30+02:00 are 00:30 and 01:30 UTC.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa_schema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from validator import load_rules, validate

pytest.importorskip("dask", reason="needs the optional extra: pip install 'pretrain-validator[dask]'")

ENGINES = [("memory", None), ("stream", 1), ("stream", 2), ("stream", 1000), ("dask", 2)]
WHEN = ["2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00", None, "2026-10-25T02:30:00+01:00"]
FLAG = [True, None, False, True]


def write(tmp_path, fmt: str, columns: dict) -> str:
    """The columns (lists with None for missing) as one file of format ``fmt``."""
    path = tmp_path / f"d.{fmt}"
    n = len(next(iter(columns.values())))
    if fmt == "csv":
        def field(v):
            return "" if v is None else str(v)
        lines = [",".join(columns)] + [",".join(field(columns[c][i]) for c in columns) for i in range(n)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "jsonl":
        import json

        path.write_text("".join(json.dumps({c: columns[c][i] for c in columns}) + "\n" for i in range(n)), encoding="utf-8")
    else:
        pq.write_table(pa.table(columns), path, row_group_size=2)
    return path


def declared(path, columns: dict, engine: str, batch_rows, rules=None):
    ruleset = load_rules({"version": 1, "columns": columns,
                          "rules": rules or [{"id": "n", "metric": "distinct_count", "column": next(iter(columns)), "min": 0}]})
    kw = {} if engine == "memory" else {"engine": engine, "batch_rows": batch_rows}
    return {r.rule_id: r for r in validate(path, ruleset, **kw).results}


@pytest.mark.parametrize("engine,batch_rows", ENGINES, ids=str)
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_datetime_text_with_two_utc_offsets_is_datetime(tmp_path, fmt, engine, batch_rows):
    path = write(tmp_path, fmt, {"when": WHEN})
    got = declared(path, {"when": {"dtype": "datetime", "nullable": True}}, engine, batch_rows)
    assert got["column:when"].outcome == "passed", got["column:when"].reason
    # control: an hour that does not exist is not a datetime, offsets or not
    path = write(tmp_path, fmt, {"when": WHEN[:2] + ["2026-03-29T25:30:00+02:00", None]})
    got = declared(path, {"when": {"dtype": "datetime"}}, engine, batch_rows)
    assert got["column:when"].outcome == "failed" and "expected dtype datetime" in got["column:when"].reason


@pytest.mark.parametrize("engine,batch_rows", ENGINES, ids=str)
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("counted", [False, True], ids=["not-counted", "counted-by-a-rule"])
def test_nullable_bool_accepts_missing_values(tmp_path, fmt, engine, batch_rows, counted):
    # counted: an entropy rule on the column makes text readers keep it as text ("True")
    path = write(tmp_path, fmt, {"flag": FLAG, "x": [1, 2, 3, 4]})
    rules = [{"id": "h", "metric": "entropy", "column": "flag" if counted else "x", "min": 0}]
    got = declared(path, {"flag": {"dtype": "bool", "nullable": True}}, engine, batch_rows, rules)
    assert got["column:flag"].outcome == "passed", got["column:flag"].reason
    got = declared(path, {"flag": {"dtype": "bool", "nullable": False}}, engine, batch_rows, rules)
    assert got["column:flag"].outcome == "failed" and got["column:flag"].reason == "1 null values, but nullable is false"
    # control: a text value among the booleans is not bool
    bad = [True, None, "yes", False] if fmt != "parquet" else ["True", None, "yes", "False"]  # one type per Parquet column
    path = write(tmp_path, fmt, {"flag": bad, "x": [1, 2, 3, 4]})
    got = declared(path, {"flag": {"dtype": "bool"}}, engine, batch_rows, rules)
    assert got["column:flag"].outcome == "failed" and "expected dtype bool" in got["column:flag"].reason


def test_pandera_schema_takes_offsets_and_nullable_booleans_from_a_frame():
    ruleset = load_rules({"version": 1, "columns": {"when": {"dtype": "datetime"}, "flag": {"dtype": "bool"},
                                                   "name": {"dtype": "str"}},
                          "rules": [{"id": "n", "metric": "distinct_count", "column": "flag", "min": 0}]})
    df = pd.DataFrame({"when": WHEN, "flag": pd.Series(FLAG, dtype=object), "name": ["a", None, "b", "c"]})
    ruleset.to_pandera().validate(df)
    # an object column of booleans is not text (pandas' is_string_dtype(object) says it is)
    with pytest.raises(pa_schema.errors.SchemaError, match="dtype is not str"):
        ruleset.to_pandera().validate(df.assign(name=df["flag"]))


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
@pytest.mark.parametrize("engine", ["memory", "stream", "dask"])
def test_a_column_of_lists_is_not_counted_as_categories(tmp_path, fmt, engine):
    # three distinct lists in 20 rows: counted by identity (numpy arrays), distinct_count was 13
    # and the entropy 3.12 bits, more than log2(3); the rule now says it cannot count them
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    lists = [[1, 2], [1, 2], [3], [3], [4, 5, 6]] * 4
    path = tmp_path / f"l.{fmt}"
    if fmt == "parquet":
        pq.write_table(pa.table({"l": pa.array(lists), "x": list(range(20))}), path)
    else:
        path.write_text("".join(json.dumps({"l": v, "x": i}) + "\n" for i, v in enumerate(lists)))
    rules = {"version": 1, "rules": [{"id": "d", "metric": "distinct_count", "column": "l", "min": 0},
                                     {"id": "x", "metric": "distinct_count", "column": "x", "min": 0}]}
    report = validate(path, rules, engine=engine, **({"batch_rows": 3} if engine == "stream" else {}))
    assert report["d"].outcome == "error" and "holds lists" in report["d"].reason
    assert report["x"].observed == 20
