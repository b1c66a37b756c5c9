"""Reading only the columns the rules use (issue 11, Speed): the projected read of a CSV/TSV or
Parquet file gives exactly the frame of a whole-file read with the other columns dropped
(values, dtypes, nulls, one type per column), and still refuses every file a whole-file read
refuses, with the same message, whichever column the fault is in. The reference is the
whole-file read itself (pandas, every column converted), which the other reader tests check
against hand-written values."""

from __future__ import annotations

import gzip
import typing

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from validator import load_rules, validate
from validator.rules import model
from validator.summaries.io import DataReadError, _cast, _is_utf8, read_columns, read_dataset, read_table

CELLS = st.sampled_from(["", "1", "01", "-2", "3.5", "1e3", "True", "false", "x", "NA", "nan", " 1", "9223372036854775808",
                         '"a,b"', '"l1\nl2"', '""', "é", "2024-01-01", "+1", "0x1F", "-0", "1.", ".5", "1e5",
                         "inf", "1.2345678901234567", "00000000000000000001", "9007199254740993", "1 "])


def whole_then_selected(path, columns, text_columns=()):
    df = read_table(path, text_columns)
    return df[[c for c in df.columns if c in columns]]


def outcome(read):
    try:
        return "ok", read()
    except DataReadError as exc:
        return "error", str(exc)


def assert_same(path, columns, text_columns=()):
    got = outcome(lambda: read_table(path, text_columns, columns=columns))
    want = outcome(lambda: whole_then_selected(path, columns, text_columns))
    assert got[0] == want[0], (got, want)
    if got[0] == "error":
        assert got[1] == want[1]
    else:
        pd.testing.assert_frame_equal(got[1], want[1], check_exact=True)
    return got


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELLS, min_size=4, max_size=4), min_size=1, max_size=12),
       odd=st.one_of(st.none(), st.tuples(st.integers(0, 11), st.sampled_from([1, 3, 5]))),
       keep=st.sets(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=2),
       text=st.sets(st.sampled_from(["a", "b", "c", "d"])), trailing=st.booleans(), sep=st.sampled_from([",", "\t"]))
def test_projected_read_is_the_whole_read_with_columns_dropped(tmp_path_factory, rows, odd, keep, text, trailing, sep):
    # rows of 4 fields under a 4-column header, sometimes one of 1, 3 or 5 fields: either both
    # reads give the same frame or both refuse the file with the same message
    path = tmp_path_factory.mktemp("proj") / ("d.csv" if sep == "," else "d.tsv")
    end = sep if trailing else ""
    if odd is not None:
        i, n = odd
        rows[i % len(rows)] = (rows[i % len(rows)] * 2)[:n]
    lines = [sep.join(["a", "b", "c", "d"])] + [sep.join(r) + end for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode())
    assert_same(path, keep, text)


@pytest.mark.parametrize("where", ["a", "c"])  # the fault in a column read, and in one not read
def test_projected_read_still_refuses_bad_records_in_unread_columns(tmp_path, where):
    long_row = "1,2,3,4" if where == "c" else "1,2,3,4"
    for body, said in [(f"1,2,3\n{long_row}\n", "line 3"), ("1,2,3\n1,2\n5,6,7\n", "line 3")]:
        path = tmp_path / "d.csv"
        path.write_text("a,b,c\n" + body)
        kind, message = assert_same(path, {"a"})
        assert kind == "error" and said in message, message


def test_projected_read_still_refuses_bytes_not_utf8_in_an_unread_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,b\n1,ok\n2,caf\xe9\n")
    kind, message = assert_same(path, {"a"})
    assert kind == "error" and "UTF-8" in message and "line 3" in message, message


def test_projected_read_still_refuses_a_value_after_a_trailing_separator(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2,\n3,4,x\n")
    kind, message = assert_same(path, {"a"})
    assert kind == "error" and "line 3" in message, message


def test_projected_read_types_a_column_as_a_whole_file_read_does(tmp_path):
    # 300,000 rows: pandas types the file in chunks; only the first row's text makes the column
    # text, so the numbers of the late chunks must be text too ("1" in row 300,000 as in row 2)
    n = 300_000
    path = tmp_path / "big.csv"
    path.write_text("id,v,w\nid0,x,z\n" + "".join(f"{i},{i % 7},z\n" for i in range(1, n)))
    _, df = assert_same(path, {"v", "id"})
    assert df["v"].iloc[-1] == str((n - 1) % 7) and df["v"].iloc[1] == "1"  # text as written, every row
    assert df["id"].iloc[-1] == str(n - 1)


def test_parquet_projection_reads_only_the_columns_named(tmp_path):
    path = tmp_path / "d.parquet"
    frame = pd.DataFrame({"a": pd.array([1, None, 2**62], dtype="Int64"), "b": ["x", None, "z"], "c": [0.5, 1.5, 2.5]})
    frame.to_parquet(path, index=True)
    df, names = read_columns(path, columns={"a", "c"})
    assert names == ["a", "b", "c"]
    pd.testing.assert_frame_equal(df, read_table(path)[["a", "c"]])
    assert int(df["a"].iloc[2]) == 2**62  # exact beside a null


def test_shards_differing_in_an_unread_column_are_still_refused(tmp_path):
    (tmp_path / "1.csv").write_text("a,b\n1,2\n")
    (tmp_path / "2.csv").write_text("a,c\n1,2\n")
    with pytest.raises(DataReadError, match=r"missing: \['b'\], extra: \['c'\]"):
        read_dataset([tmp_path / "1.csv", tmp_path / "2.csv"], columns={"a"})


def test_a_missing_column_is_named_with_every_column_of_the_file(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("language,b,c\nen,2,3\n")
    result = validate(path, {"version": 1, "rules": [{"id": "e", "metric": "entropy", "column": "langauge", "min": 0}]})["e"]
    assert result.outcome == "error"
    assert "did you mean 'language'" in result.reason and "b, c" in result.reason


def _mentions(hint, target) -> bool:
    return hint == target or any(_mentions(a, target) for a in typing.get_args(hint))


def _models(hint):
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        yield hint
    for a in typing.get_args(hint):
        yield from _models(a)


def test_data_columns_names_every_column_a_rule_can_name():
    # the independent list: every field typed ColumnName in the rule model, walked through the
    # models a rule holds (a reference's own column, of another file, excepted). A new field
    # naming a data column makes this fail until RuleSet.data_columns reads it too.
    found, todo, seen = set(), list(model.RULE_TYPES.values()), set()
    while todo:
        cls = todo.pop()
        if cls in seen or cls is model.Reference:
            continue
        seen.add(cls)
        for field, hint in typing.get_type_hints(cls, include_extras=True).items():
            if _mentions(hint, model.ColumnName):
                found.add(field if cls in model.RULE_TYPES.values() else f"{cls.__name__}.{field}")
            todo.extend(_models(hint))
    assert found == {"column", "weight", "group_by", "columns", "Condition.column", "EmbedSpec.column"}
    doc = {"version": 1, "columns": {"declared": {"dtype": "int"}}, "rules": [
        {"id": "e", "metric": "entropy", "column": "lang", "weight": "tokens", "group_by": "src",
         "where": [{"column": "q", "ge": 0.5}], "min": 0},
        {"id": "d", "metric": "distance_spread", "columns": ["x", "y"], "min": 0},
        {"id": "k", "metric": "kl_divergence", "column": "lang2",
         "reference": {"categories": {"en": 1.0}}, "max": 1},
        {"id": "v", "metric": "vendi_score", "embed": {"column": "text", "embedder": "minilm"}, "min": 1},
    ]}
    assert load_rules(doc).data_columns() == {"declared", "lang", "tokens", "src", "q", "x", "y", "lang2", "text"}


@pytest.mark.parametrize("body,values", [('x,"a\nb"\ny,2\n', ["a\nb", "2"]), ('x,1\ny,"2"\n', ["1", "2"]),
                                         ("x,1\ny,2\n", ["1", "2"])])
def test_quoted_line_breaks_found_whichever_lines_hold_quotes(tmp_path, body, values):
    # the parser splits at every line break only when no quote follows the header: a quoted
    # field holding a line break is one value (hand-written expected values)
    path = tmp_path / "d.csv"
    path.write_text('"k","v","w"\n' + "".join(line + ",z\n" for line in _records(body)))
    _, df = assert_same(path, {"k"}, {"v"})
    assert list(df["k"]) == ["x", "y"]
    _, df = assert_same(path, {"v"}, {"v"})
    assert list(df["v"]) == values


def _records(body):
    return ['x,"a\nb"', "y,2"] if '"a' in body else body.splitlines()


NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).flatmap(
        lambda x: st.sampled_from([repr(x), f"{x:.6f}", f"{x:.15g}", f"{x:.17g}", f"{x:e}", f"{x:.3f}"])),
    st.floats(-1e6, 1e6).map(lambda x: f"{x:.{abs(hash(x)) % 14}f}"),
    st.integers(-2**70, 2**70).map(str), st.integers(-999, 999).map(str), st.just(""),
)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(NUMBER_TEXT, min_size=1, max_size=30))
def test_number_columns_read_projected_are_the_doubles_pandas_reads(tmp_path_factory, values):
    # float texts as common tools write them (repr, %.6f, %.17g, exponents) and integers past
    # int64: the projected read's values and dtype are exactly those of pandas' whole-file read
    path = tmp_path_factory.mktemp("num") / "n.csv"
    path.write_text("v,a,b,c\n" + "".join(f"{v},x,y,z\n" for v in values))
    assert_same(path, {"v"})


def _wide(tmp_path, rows, compress=False, bad_line=None):
    import gzip

    names = [f"c{i}" for i in range(200)]
    lines = [",".join(names)] + [",".join(str((i * r) % 3) for i in range(200)) for r in range(rows)]
    if bad_line is not None:
        lines[bad_line - 1] += ",extra"  # one field too many, in a column no rule reads
    text = ("\n".join(lines) + "\n").encode()
    path = tmp_path / ("wide.csv.gz" if compress else "wide.csv")
    path.write_bytes(gzip.compress(text) if compress else text)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_a_wide_file_streamed_converts_only_the_columns_read(tmp_path, monkeypatch, compress):
    # 200 columns, one read: the batches convert that column only (pandas usecols), and every
    # engine gives the hand-computed entropy: c1 holds r % 3 for r = 0..8, three values, 3 each
    path = _wide(tmp_path, 9, compress)
    rules = {"version": 1, "rules": [{"id": "e", "metric": "entropy", "column": "c1", "min": 0}]}
    seen = []
    original = pd.read_csv

    def recording(*args, **kwargs):
        seen.append(kwargs.get("usecols"))
        return original(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", recording)
    for engine, batch in [("stream", 1), ("stream", 4)]:
        assert validate(path, rules, engine=engine, batch_rows=batch)["e"].observed == pytest.approx(np.log2(3), abs=1e-12)
    assert seen and all(u == ["c1"] for u in seen), seen  # never the 200 columns
    monkeypatch.setattr(pd, "read_csv", original)
    assert validate(path, rules, engine="dask")["e"].observed == pytest.approx(np.log2(3), abs=1e-12)
    assert validate(path, rules)["e"].observed == pytest.approx(np.log2(3), abs=1e-12)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("engine", ["memory", "stream", "dask"])
def test_a_wide_file_with_a_bad_record_in_an_unread_column_is_refused(tmp_path, compress, engine):
    path = _wide(tmp_path, 9, compress, bad_line=6)
    rules = {"version": 1, "rules": [{"id": "e", "metric": "entropy", "column": "c1", "min": 0}]}
    with pytest.raises(DataReadError, match="line 6"):
        validate(path, rules, engine=engine, **({"batch_rows": 2} if engine == "stream" else {}))


def test_hexadecimal_beside_integers_of_fifteen_nines_stays_text(tmp_path):
    # pyarrow reads 0xA as 10; the texts' lengths and the values' digits (999999999999999 has
    # 15) must not cancel out: the whole read's text, in memory as in the stream (tester case)
    path = tmp_path / "h.csv"
    path.write_text("x,a,b,c\n0xA,1,1,1\n999999999999999,2,2,2\n0x1F,3,3,3\n9999999999999999,4,4,4\n")
    _, df = assert_same(path, {"x"})
    assert list(df["x"]) == ["0xA", "999999999999999", "0x1F", "9999999999999999"]
    rules = {"version": 1, "rules": [{"id": "e", "metric": "entropy", "column": "x", "bins": {"count": 10}, "min": 0}]}
    outcomes = {e: validate(path, rules, engine=e)["e"].outcome for e in ("memory", "stream", "dask")}
    assert set(outcomes.values()) == {"error"}, outcomes


@pytest.mark.parametrize("case", ["long first field", "cr line endings"])
@pytest.mark.parametrize("engine", ["memory", "stream", "dask"])
def test_headers_read_after_a_long_first_field_and_with_cr_line_endings(tmp_path, case, engine):
    # a first record with a 131,073-character text (the csv module's default field limit) and an
    # old-Mac file whose lines end with \r alone: the header's names are found, in every engine
    path = tmp_path / "d.csv"
    if case == "long first field":
        path.write_text("id,src,text,n\n" + "".join(f"{i},s{i % 3},{'w' * (131_073 if i == 0 else 5)},{i}\n" for i in range(21)))
    else:
        path.write_bytes(("id,src,text,n\r" + "".join(f"{i},s{i % 3},t,{i}\r" for i in range(21))).encode())
    rules = {"version": 1, "rules": [{"id": "d", "metric": "distinct_count", "column": "src", "min": 0}]}
    result = validate(path, rules, engine=engine, **({"batch_rows": 4} if engine == "stream" else {}))["d"]
    assert result.outcome == "passed" and result.observed == 3  # s0, s1, s2 (hand count)


# -- the UTF-8 check of the whole file (memory-mapped, blocks tested by their largest byte) --------

UTF8_PIECES = st.lists(st.sampled_from([b"a", b",", b"\n", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80",  # é, €, 😀
                                        b"\xc3", b"\xa9", b"\xff", b"\xed\xa0\x80", b"\xc0\xaf"]),  # cut, stray, invalid, surrogate, overlong
                       max_size=40)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(pieces=UTF8_PIECES, block=st.integers(1, 7))
def test_utf8_check_of_a_mapped_file_agrees_with_decoding_its_bytes(tmp_path, pieces, block):
    # reference: Python's strict UTF-8 decoder on the whole byte string; blocks of 1..7 bytes
    # cut multi-byte characters at every position
    data = b"h\n" + b"".join(pieces)
    try:
        data.decode("utf-8")
        expected = True
    except UnicodeDecodeError:
        expected = False
    plain, packed = tmp_path / "d.csv", tmp_path / "d.csv.gz"
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))
    assert _is_utf8(plain, block=block) is expected  # the memory-mapped path
    assert _is_utf8(packed, block=block) is expected  # the read-in-blocks path


def test_utf8_check_of_a_mapped_file_finds_a_bad_byte_past_the_first_block(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"a\n" + b"x\n" * 5000 + "é\n".encode() + b"y\xff\n")
    assert _is_utf8(path, block=4096) is False
    path.write_bytes(b"a\n" + b"x\n" * 5000 + "é\n".encode() + b"y\n")
    assert _is_utf8(path, block=4096) is True


def test_chunk_parallel_cast_gives_pyarrows_own_cast(tmp_path):
    # reference: pyarrow.compute.cast of the whole chunked array (one thread)
    texts = ["1", "-2", None, "0.5", "1e300", "-0", "3"] * 20
    col = pa.chunked_array([texts[i:i + 9] for i in range(0, len(texts), 9)], type=pa.string())
    assert col.num_chunks >= 4
    got = _cast(col, pa.float64())
    want = pc.cast(col, pa.float64())
    assert got.type == pa.float64() and got.is_null().equals(want.is_null())
    bits = lambda a: pc.fill_null(a, 0.25).to_numpy().view(np.uint64)  # noqa: E731 - bit for bit (-0.0 too)
    assert (bits(got) == bits(want)).all()
    with pytest.raises(pa.ArrowInvalid):
        pc.cast(col, pa.int64())
    with pytest.raises(pa.ArrowInvalid):  # "0.5" is in the first half; a bad value only in the second half too:
        _cast(col, pa.int64())
    late = pa.chunked_array([["1"], ["2"], ["3"], ["4"], ["x"]], type=pa.string())
    with pytest.raises(pa.ArrowInvalid):
        _cast(late, pa.int64())
    assert _cast(late.slice(0, 4), pa.int64()).to_pylist() == [1, 2, 3, 4]
