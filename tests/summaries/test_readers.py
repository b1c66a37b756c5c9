"""Reading exported CSV / TSV / JSON Lines files (issue 11 sections 1-2): every engine reads the
same values, and a file that cannot be read faithfully is refused naming the line.

Expected values are computed from the raw bytes written in each test (collections.Counter over
the split lines, json.loads per line), never by the readers under test.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from validator import DataReadError, validate
from validator.cli import run

ENGINES = [("memory", None), ("stream", 1), ("stream", 3), ("stream", 1 << 18), ("dask", None)]


def counts_rules(*columns):
    return {"version": 1, "rules": [{"id": c, "metric": "distinct_count", "column": c, "min": 0} for c in columns]}


def measured(path, rules, engine, batch_rows):
    """(observed, details) per rule, for one engine."""
    kwargs = {"engine": engine}
    if batch_rows:
        kwargs["batch_rows"] = batch_rows
    report = validate(path, rules, **kwargs)
    return [(r.outcome, r.observed, r.details.get("top_categories"), r.details.get("nulls"), r.reason) for r in report.results]


def shares(values):
    """top_categories as the rule reports them, from raw values (Counter, by hand)."""
    c = Counter(values)
    total = sum(c.values())
    return {k: n / total for k, n in c.items()}


@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_trailing_separator_on_every_line_is_dropped_not_shifted(tmp_path, engine, batch_rows):
    # a common export style: every record ends with the separator (`x,1,` under `a,b`)
    lines = ["x,1,", "y,2,", "x,3,", "z,,"]
    p = tmp_path / "trail.csv"
    p.write_text("a,b\n" + "\n".join(lines) + "\n")
    a = [line.split(",")[0] for line in lines]
    b = [line.split(",")[1] for line in lines if line.split(",")[1]]
    out = measured(p, counts_rules("a", "b"), engine, batch_rows)
    assert out[0][:4] == ("passed", float(len(set(a))), shares(a), 0)
    assert out[1][:4] == ("passed", float(len(set(b))), shares(b), 1)


@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_a_value_after_a_trailing_separator_is_refused_naming_the_line(tmp_path, engine, batch_rows):
    p = tmp_path / "trail.csv"
    p.write_text("a,b\nx,1,\ny,2,lost\nx,3,\n")
    kwargs = {"batch_rows": batch_rows} if batch_rows else {}
    with pytest.raises(DataReadError, match="line 3 has a value after the last column"):
        validate(p, counts_rules("a"), engine=engine, **kwargs)


@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_a_record_with_too_few_fields_exits_3_naming_its_line(tmp_path, engine, batch_rows, capsys):
    # line 2-3 are one quoted record spanning two lines, so the short record `y` is line 5
    p = tmp_path / "few.csv"
    p.write_text('a,b\n"multi\nline",1\nx,2\ny\nx,3\n')
    args = ["--rules", str(tmp_path / "r.yaml"), str(p), "--engine", engine]
    (tmp_path / "r.yaml").write_text(json.dumps(counts_rules("a")))
    if batch_rows:
        args += ["--batch-rows", str(batch_rows)]
    assert run(args) == 3
    err = capsys.readouterr().err
    assert "few.csv" in err and "line 5 has fewer fields than the header's 2" in err and "Traceback" not in err


def test_an_empty_last_field_with_its_separator_is_a_null_not_a_short_record(tmp_path):
    p = tmp_path / "empty_last.csv"
    p.write_text("a,b\nx,1\ny,\nz,\n")
    out = measured(p, counts_rules("b"), "memory", None)
    assert out[0][:4] == ("passed", 1.0, {"1": 1.0}, 2)


@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_tsv_has_no_quoting_a_quote_is_data(tmp_path, engine, batch_rows):
    # IANA text/tab-separated-values: no quoting; a field that starts with " must not swallow lines
    raw = 'a\tb\n"x\t1\nz\t2\nw"\t3\n'
    p = tmp_path / "q.tsv"
    p.write_text(raw)
    rows = [line.split("\t") for line in raw.splitlines()[1:]]
    out = measured(p, counts_rules("a", "b"), engine, batch_rows)
    assert out[0][:3] == ("passed", 3.0, shares([r[0] for r in rows]))
    assert out[1][:3] == ("passed", 3.0, shares([r[1] for r in rows]))


def test_a_semicolon_separated_header_names_the_csv_sep_option(tmp_path):
    p = tmp_path / "semi.csv"
    p.write_text("a;b\nx;1\n")
    report = validate(p, counts_rules("a"))
    assert "the header holds ';' but no ','" in report.results[0].reason
    assert "--csv-sep ';'" in report.results[0].reason


@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_a_utf8_byte_order_mark_starts_a_json_lines_file(tmp_path, engine, batch_rows):
    p = tmp_path / "bom.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"a": "x"}\n{"a": "y"}\n{"a": "x"}\n')
    out = measured(p, counts_rules("a"), engine, batch_rows)
    assert out[0][:3] == ("passed", 2.0, {"x": 2 / 3, "y": 1 / 3})


@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_json_booleans_and_integers_are_four_categories(tmp_path, engine, batch_rows):
    lines = ['{"a": true}', '{"a": 1}', '{"a": false}', '{"a": 0}', '{"a": 1}', '{"a": true}', '{"a": null}']
    p = tmp_path / "bools.jsonl"
    p.write_text("\n".join(lines) + "\n")
    values = [json.loads(line)["a"] for line in lines]
    # keyed by (type, value): Python's True == 1 would merge them
    by_kind = Counter((type(v).__name__, v) for v in values if v is not None)
    expected = {("true" if v is True else "false" if v is False else str(v)): n / sum(by_kind.values()) for (_, v), n in by_kind.items()}
    out = measured(p, counts_rules("a"), engine, batch_rows)
    assert len(by_kind) == 4
    assert out[0][:4] == ("passed", 4.0, pytest.approx(expected), 1)


def test_json_booleans_and_integers_stay_apart_against_a_reference(tmp_path):
    p = tmp_path / "bools.jsonl"
    p.write_text('{"a": true}\n{"a": 1}\n{"a": 1}\n{"a": false}\n')
    rules = {"version": 1, "rules": [{"id": "tvd", "metric": "total_variation", "column": "a", "max": 1,
                                      "reference": {"categories": {"true": 0.25, "1": 0.5, "false": 0.25}}}]}
    for engine, batch_rows in ENGINES:
        report = validate(p, rules, engine=engine, **({"batch_rows": batch_rows} if batch_rows else {}))
        assert report.results[0].observed == pytest.approx(0.0), engine  # data shares equal the reference's


@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_an_optional_json_key_first_seen_after_the_first_batch_is_a_column_with_nulls(tmp_path, engine, batch_rows):
    lines = [json.dumps({"a": "x"})] * 10 + [json.dumps({"a": "y", "b": i % 3}) for i in range(10)]
    p = tmp_path / "opt.jsonl"
    p.write_text("\n".join(lines) + "\n")
    b = [json.loads(line).get("b") for line in lines]
    present = [str(v) for v in b if v is not None]
    out = measured(p, counts_rules("b", "a"), engine, batch_rows)
    assert out[0][:4] == ("passed", float(len(set(present))), pytest.approx(shares(present)), b.count(None))
    assert out[1][:3] == ("passed", 2.0, {"x": 0.5, "y": 0.5})


@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_a_json_key_no_line_has_is_not_found(tmp_path, engine, batch_rows):
    p = tmp_path / "opt.jsonl"
    p.write_text('{"a": "x"}\n{"a": "y", "b": 1}\n')
    out = measured(p, counts_rules("c"), engine, batch_rows)
    assert out[0][0] == "error" and "column 'c' not found" in out[0][4]


@pytest.mark.parametrize("engine,batch_rows", [("memory", None), ("stream", 1 << 16), ("dask", None)])
def test_one_type_per_column_late_numeric_looking_rows_count_as_written(tmp_path, engine, batch_rows):
    # several hundred thousand rows whose late rows alone look numeric: pandas' chunked type
    # inference would type the start as text and the end as numbers
    n_text, n_num = 300_000, 60_000
    values = ["a", "01", "b"] * (n_text // 3) + ["1", "01", "2"] * (n_num // 3)
    p = tmp_path / "late.csv"
    p.write_text("k\n" + "\n".join(values) + "\n")
    expected = shares(values)  # "01" and "1" are two categories wherever they sit
    out = measured(p, counts_rules("k"), engine, batch_rows)
    assert out[0][:3] == ("passed", 5.0, pytest.approx(expected))


@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_csv_sep_and_encoding_read_a_spreadsheet_export(tmp_path, engine, batch_rows):
    raw = "a;b\ncafé;1\nnaïve;2\ncafé;\n"
    p = tmp_path / "export.csv"
    p.write_bytes(raw.encode("cp1252"))
    a = [line.split(";")[0] for line in raw.splitlines()[1:]]
    kwargs = {"batch_rows": batch_rows} if batch_rows else {}
    report = validate(p, counts_rules("a"), engine=engine, csv_sep=";", encoding="cp1252", **kwargs)
    assert report.results[0].observed == 2.0
    assert report.results[0].details["top_categories"] == pytest.approx(shares(a))


@pytest.mark.parametrize("engine", ["memory", "stream", "dask"])
def test_bytes_invalid_in_the_declared_encoding_exit_3_naming_the_line(tmp_path, capsys, engine):
    p = tmp_path / "d.csv"
    p.write_bytes("a\nplain\ncafé\n".encode("utf-8"))  # 0xc3 at line 3 is not ASCII
    (tmp_path / "r.yaml").write_text(json.dumps(counts_rules("a")))
    assert run(["--rules", str(tmp_path / "r.yaml"), str(p), "--encoding", "ascii", "--engine", engine]) == 3
    err = capsys.readouterr().err
    assert "not valid ascii text (invalid byte 0xc3 at line 3" in err and "Traceback" not in err


@pytest.mark.parametrize("option,value,expected", [
    ("--csv-sep", ";;", "--csv-sep must be one character"),
    ("--csv-sep", "", "--csv-sep must be one character"),
    ("--encoding", "no-such-codec", "--encoding: unknown encoding 'no-such-codec'"),
])
def test_a_bad_separator_or_encoding_is_exit_2_naming_the_option(tmp_path, capsys, option, value, expected):
    p = tmp_path / "d.csv"
    p.write_text("a\nx\n")
    (tmp_path / "r.yaml").write_text(json.dumps(counts_rules("a")))
    assert run(["--rules", str(tmp_path / "r.yaml"), str(p), option, value]) == 2
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize("name,body", [("d.jsonl", '{"a": "x"}\n'), ("d.parquet", None)])
def test_csv_options_are_refused_for_parquet_and_json_lines(tmp_path, capsys, name, body):
    import pandas as pd

    p = tmp_path / name
    if body is None:
        pd.DataFrame({"a": ["x"]}).to_parquet(p)
    else:
        p.write_text(body)
    (tmp_path / "r.yaml").write_text(json.dumps(counts_rules("a")))
    assert run(["--rules", str(tmp_path / "r.yaml"), str(p), "--csv-sep", ";"]) == 2
    assert "--csv-sep applies to CSV/TSV data files only" in capsys.readouterr().err


def test_one_type_per_column_when_early_rows_look_numeric_and_late_rows_do_not(tmp_path):
    # the other order: pandas' chunked inference types the first chunks as integers and the
    # last as text, leaving 2 and "2" apart in one column (validate-profile read it so)
    from validator import read_table
    from validator.profile import profile as build_profile

    values = ["1", "2", "3"] * 100_000 + ["a", "01", "2"] * 20_000
    p = tmp_path / "late.csv"
    p.write_text("k,x\n" + "\n".join(f"{v},{i % 7}" for i, v in enumerate(values)) + "\n")
    df = read_table(p)
    assert df["k"].value_counts().to_dict() == dict(Counter(values))
    assert str(df["x"].dtype) == "int64"  # a column typed alike in every chunk keeps its type
    k = build_profile([p])["columns"]["k"]
    assert k["kind"] == "categorical" and k["counts"] == {v: n for v, n in Counter(values).items()}


@pytest.mark.parametrize("engine,batch_rows", ENGINES)
def test_a_short_record_is_found_when_pyarrow_cannot_parse_the_file(tmp_path, engine, batch_rows, capsys):
    # a quoted value with line breaks longer than pyarrow's 1 MiB parse block makes its CSV
    # parser give up ("straddling object"); the short record on line 4 must still be found
    # (by the csv module), never read as a null silently
    big = "\n".join(["w" * 1000] * 3000)
    p = tmp_path / "long_field.csv"
    p.write_text(f'a,b\n"{big}",1\ny\nx,\n')
    import pyarrow.csv as pacsv
    with pytest.raises(Exception):  # the premise: pyarrow refuses this file
        pacsv.read_csv(p, parse_options=pacsv.ParseOptions(newlines_in_values=True),
                       read_options=pacsv.ReadOptions(block_size=1 << 20))
    (tmp_path / "r.yaml").write_text(json.dumps(counts_rules("a")))
    args = ["--rules", str(tmp_path / "r.yaml"), str(p), "--engine", engine]
    if batch_rows:
        args += ["--batch-rows", str(batch_rows)]
    assert run(args) == 3
    err = capsys.readouterr().err
    assert f"line {3 + big.count(chr(10))} has fewer fields than the header's 2" in err and "Traceback" not in err
