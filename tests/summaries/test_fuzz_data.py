"""Data files under fuzzing (issue 17): corrupted bytes in every format and compression end in
exit 0, 1 or 3 in every engine, never in a Python traceback.

Small valid files (CSV, TSV, JSON Lines, Parquet; plain, .gz, .zst) are mutated as a careless
exporter or a broken transfer would: bytes flipped, the file cut short, NUL bytes, quotes,
separators, line breaks and 400-digit numbers inserted; for compressed files either the
compressed bytes or the text before compression. Each is validated by the real ``validate``
command in-process (memory, ``--engine stream`` at batch rows 1 and 3, ``--engine dask``).

Run as a script (``python tests/summaries/test_fuzz_data.py N [SEED]``) it counts the tracebacks per format and
engine over N examples each, the numbers in the issue's closing note.
"""

from __future__ import annotations

import contextlib
import glob
import math
import re
import gzip
import io
import random
import sys
import time
import traceback
from pathlib import Path

import pandas as pd
import pytest

from validator.cli import run

RULES = (
    "version: 1\nrules:\n"
    "  - {id: h, metric: entropy, column: k, min: 0}\n"
    "  - {id: d, metric: distance_spread, columns: [x], min: 0}\n"
    "  - {id: t, metric: type_token_ratio, column: t, min: 0}\n"
)
ROWS = [("a", "1.5", "the cat"), ("b", "2", "a dog"), ("a", "", "x"), ("c", "-3e2", ""), ("b", "7", "the end"), ("a", "0", "hi there")]
ENGINES = {"memory": ["--engine", "memory"], "stream1": ["--engine", "stream", "--batch-rows", "1"],
           "stream3": ["--engine", "stream", "--batch-rows", "3"], "dask": ["--engine", "dask"]}
INSERTS = [b"\x00", b'"', b",", b"\t", b"\n", b"\r", b"\r\n", b"{", b"}", b"9" * 400, b"1e400", b"-", b"\xff", b"\xef\xbb\xbf", b"\n\n\n"]


def plain_bytes(fmt: str) -> bytes:
    """The valid file of ``fmt`` (csv, tsv, jsonl, parquet), uncompressed."""
    if fmt in ("csv", "tsv"):
        sep = "," if fmt == "csv" else "\t"
        return ("".join(sep.join(r) + "\n" for r in [("k", "x", "t"), *ROWS])).encode()
    if fmt == "jsonl":
        import json

        return "".join(json.dumps({"k": k, "x": float(x) if x else None, "t": t}) + "\n" for k, x, t in ROWS).encode()
    import pandas as pd

    buf = io.BytesIO()
    pd.DataFrame({"k": [r[0] for r in ROWS], "x": [float(r[1]) if r[1] else None for r in ROWS],
                  "t": [r[2] for r in ROWS]}).to_parquet(buf, index=False)
    return buf.getvalue()


def compress(data: bytes, comp: str) -> bytes:
    if comp == "gz":
        return gzip.compress(data, mtime=0)
    if comp == "zst":
        import pyarrow as pa

        sink = pa.BufferOutputStream()
        with pa.CompressedOutputStream(sink, "zstd") as out:
            out.write(data)
        return sink.getvalue().to_pybytes()
    return data


KINDS = [(f, c) for f in ("csv", "tsv", "jsonl") for c in ("", "gz", "zst")] + [("parquet", "")]
KIND_IDS = [f + (f".{c}" if c else "") for f, c in KINDS]


def mutate(data: bytes, rnd: random.Random, n: int) -> bytes:
    for _ in range(n):
        i = rnd.randrange(len(data) + 1)
        op = rnd.choice(["flip", "truncate", "insert", "insert", "line-start", "delete", "repeat"])
        if op == "line-start":  # an insert where a line begins (a NUL there once made json.loads guess UTF-16)
            starts = [0] + [j + 1 for j, b in enumerate(data) if b == 0x0A]
            i, op = rnd.choice(starts), "insert"
        if op == "flip" and data:
            j = min(i, len(data) - 1)
            data = data[:j] + bytes([data[j] ^ (1 << rnd.randrange(8))]) + data[j + 1:]
        elif op == "truncate":
            data = data[:i]
        elif op == "insert":
            data = data[:i] + rnd.choice(INSERTS) + data[i:]
        elif op == "delete":
            data = data[:i] + data[i + rnd.randrange(1, 8):]
        else:
            data = data[:i] + data[i:i + 20] * 3 + data[i + 20:]
    return data


def corrupted(fmt: str, comp: str, rnd: random.Random) -> bytes:
    """A mutation of the valid file: of its compressed bytes, or of the text before compressing."""
    plain = plain_bytes(fmt)
    if comp and rnd.random() < 0.5:
        return compress(mutate(plain, rnd, rnd.randint(1, 3)), comp)
    return mutate(compress(plain, comp), rnd, rnd.randint(1, 3))


def outcome(path: Path, rules: Path, engine: str) -> tuple[int | None, str]:
    """(exit code, stderr) of ``validate`` in-process; exit code None and the traceback for an
    exception that escaped the command."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = run(["--rules", str(rules), "--quiet", *ENGINES[engine], str(path)])
        except SystemExit as exc:  # argparse
            code = exc.code
        except BaseException:  # noqa: BLE001 - the class this suite guards: an escaped exception
            return None, err.getvalue() + traceback.format_exc()
    return code, err.getvalue()


def write_case(tmp: Path, fmt: str, comp: str, data: bytes) -> tuple[Path, Path]:
    rules = tmp / "rules.yaml"
    if not rules.exists():
        rules.write_text(RULES)
    path = tmp / (f"data.{fmt}" + (f".{comp}" if comp else ""))
    path.write_bytes(data)
    return path, rules


def assert_clean(path: Path, rules: Path, engine: str) -> None:
    t0 = time.perf_counter()
    code, err = outcome(path, rules, engine)
    assert code in (0, 1, 3) and "Traceback" not in err, f"{engine} on {path.read_bytes()!r}:\n{err}"
    if code == 3:
        assert err.startswith("validate: cannot read data file "), err
    assert time.perf_counter() - t0 < 20


def count_tracebacks(n: int, seed: int = 17) -> dict:
    """Tracebacks per (format, engine) over ``n`` corrupted files per format and compression."""
    import tempfile

    counts = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for fmt, comp in KINDS:
            rnd = random.Random(f"{seed}-{fmt}-{comp}")
            cases = [corrupted(fmt, comp, rnd) for _ in range(n)]
            for engine in ENGINES:
                bad, kinds = 0, {}
                for data in cases:
                    path, rules = write_case(tmp, fmt, comp, data)
                    code, err = outcome(path, rules, engine)
                    if code not in (0, 1, 3) or "Traceback" in err:
                        bad += 1
                        last = [ln for ln in err.strip().splitlines() if ln.strip()][-1:] or [str(code)]
                        kinds[last[0][:90]] = kinds.get(last[0][:90], 0) + 1
                    path.unlink()
                counts[(fmt + (f".{comp}" if comp else ""), engine)] = (bad, n, kinds)
    return counts


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 17
    total = examples = 0
    for (kind, engine), (bad, m, kinds) in count_tracebacks(n, seed).items():
        total, examples = total + bad, examples + m
        print(f"{kind:10s} {engine:8s} {bad:4d}/{m}  {kinds if bad else ''}")
    print(f"total {total}/{examples} tracebacks")


# -- the suite -------------------------------------------------------------------------------

ENGINE_ARGS = [ENGINES["memory"], ENGINES["stream1"], ["--engine", "stream", "--batch-rows", "1000"], ENGINES["dask"]]
ENGINE_IDS = ["memory", "stream-batch1", "stream-batch1000", "dask"]


def cli(*args) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``validate`` run in-process; an escaped exception fails."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = run([str(a) for a in args])
    assert "Traceback" not in err.getvalue(), err.getvalue()
    return code, out.getvalue(), err.getvalue()


def results(stdout: str) -> dict:
    import json

    return {r["id"]: r for r in json.loads(stdout)["results"]}


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_the_fuzz_corpus_files_are_valid_and_pass(tmp_path, kind):
    fmt, comp = kind
    path, rules = write_case(tmp_path, fmt, comp, compress(plain_bytes(fmt), comp))
    for engine in ENGINES:
        assert outcome(path, rules, engine) == (0, ""), engine


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_corrupted_data_files_end_in_exit_0_1_or_3_without_traceback(tmp_path, kind):
    # deterministic (a fixed seed per format): 15 corrupted files x 4 engines per format and
    # compression, 600 runs (~10 s); the slow-marked test below runs 200 files each
    fmt, comp = kind
    rnd = random.Random(f"17-{fmt}-{comp}")
    for _ in range(15):
        path, rules = write_case(tmp_path, fmt, comp, corrupted(fmt, comp, rnd))
        for engine in ENGINES:
            assert_clean(path, rules, engine)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_corrupted_data_files_end_in_exit_0_1_or_3_without_traceback_long_run(tmp_path, kind):
    fmt, comp = kind
    rnd = random.Random(f"17-long-{fmt}-{comp}")
    for _ in range(200):
        path, rules = write_case(tmp_path, fmt, comp, corrupted(fmt, comp, rnd))
        for engine in ENGINES:
            assert_clean(path, rules, engine)


# -- integers past float64's range ---------------------------------------------------------

BIG = "9" * 400  # 10**400 - 1: past float64's largest finite value, ~1.8e308


def test_number_text_past_float64_reads_as_python_float_reads_it():
    from validator.summaries.frame import text_as_numbers

    # reference: Python's float() of the same text (IEEE 754 overflow rounds to infinity)
    s = pd.Series(["1", BIG, "-" + BIG, None], dtype=object)
    values, bad = text_as_numbers(s)
    assert values.tolist()[:3] == [1.0, float(BIG), float("-" + BIG)] == [1.0, math.inf, -math.inf]
    assert not bad.any()
    # pandas' CSV parser gives such digits as Python ints (beside other integers), which
    # pd.to_numeric refused with OverflowError: they read as their text does
    ints = pd.Series([1, int(BIG), -int(BIG), None], dtype=object)
    values, bad = text_as_numbers(ints)
    assert values.tolist()[:3] == [1.0, math.inf, -math.inf] and not bad.any()


@pytest.mark.parametrize("engine", ENGINE_ARGS, ids=ENGINE_IDS)
@pytest.mark.parametrize("layout", ["csv-integers", "csv-beside-a-float", "jsonl-integer", "jsonl-beside-1e400"])
def test_an_integer_past_float64_is_infinite_in_every_engine(tmp_path, engine, layout):
    # pandas reads 400 digits as a Python int beside 1 (OverflowError in the number conversion)
    # but as inf beside 1.5: one reading in every engine and batch size is the float one, inf,
    # and the distance rule drops that row as it drops any infinite value. Hand-computed: the
    # finite values are 1 and 2 (or 1.5 and 2), so the mean pairwise distance is 1 (or 0.5).
    first = "1.5" if "float" in layout else "1"
    if layout.startswith("csv"):
        path = tmp_path / "d.csv"
        path.write_text(f"x\n{first}\n{BIG}\n2\n")
    else:
        path = tmp_path / "d.jsonl"
        last = '{"x": 1e400}\n' if "1e400" in layout else ""
        path.write_text(f'{{"x": {first}}}\n{{"x": {BIG}}}\n{{"x": 2}}\n' + last)
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: d, metric: distance_spread, columns: [x], min: 0}\n")
    code, out, _ = cli("--rules", rules, *engine, "--format", "json", path)
    r = results(out)["d"]
    assert code == 0 and r["n"] == 2 and r["observed"] == pytest.approx(2 - float(first))


@pytest.mark.parametrize("engine", ENGINE_ARGS, ids=ENGINE_IDS)
def test_a_declared_int_column_of_integers_past_float64_is_checked_not_a_traceback(tmp_path, engine):
    path = tmp_path / "d.jsonl"
    path.write_text(f'{{"x": 1}}\n{{"x": null}}\n{{"x": {BIG}}}\n')
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\ncolumns:\n  x: {dtype: int}\nrules:\n  - {id: d, metric: distance_spread, columns: [x], min: 0}\n")
    code, _, err = cli("--rules", rules, *engine, path)
    assert code in (0, 1)


# -- corrupt compressed files and NUL bytes ------------------------------------------------

def _lines(n: int) -> bytes:
    return b"".join(b'{"k": "a%d"}\n' % i for i in range(n))


@pytest.mark.parametrize("engine", ENGINE_ARGS, ids=ENGINE_IDS)
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("comp", ["gz", "zst"])
def test_a_truncated_compressed_file_is_exit_3_naming_it_and_the_lines_decompressed(tmp_path, engine, fmt, comp):
    import zlib

    plain = _lines(3000) if fmt == "jsonl" else b"k\n" + b"".join(b"a%d\n" % i for i in range(3000))
    data = compress(plain, comp)
    cut = data[: len(data) * 3 // 4]
    path = tmp_path / f"d.{fmt}.{comp}"
    path.write_bytes(cut)
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: h, metric: entropy, column: k, min: 0}\n")
    code, _, err = cli("--rules", rules, *engine, path)
    assert code == 3 and err.count("\n") == 1, err
    m = re.fullmatch(rf"validate: cannot read data file {re.escape(str(path))}: the {'gzip' if comp == 'gz' else 'zstd'} data is cut "
                     r"short or corrupt: decompressing failed after (\d+) lines \(.+\)\n", err)
    assert m, err
    if comp == "gz":
        # reference: zlib's own decompressor over the cut bytes, which stops where the data ends
        whole = zlib.decompressobj(wbits=31).decompress(cut).count(b"\n")
        assert whole - 8192 // 8 <= int(m.group(1)) <= whole  # read in 8 KB pieces of >= 8-byte lines


@pytest.mark.parametrize("engine", ENGINE_ARGS, ids=ENGINE_IDS)
@pytest.mark.parametrize("damage", ["crc", "deflate-block", "header"])
def test_a_corrupt_gzip_file_is_exit_3_naming_it(tmp_path, engine, damage):
    data = bytearray(gzip.compress(_lines(300), mtime=0))
    if damage == "crc":
        data[-8] ^= 0xFF  # the CRC-32 of the trailer (RFC 1952 section 2.3)
    elif damage == "deflate-block":
        data[10] ^= 0xFF  # the first byte after the 10-byte header: the first block's header
    else:
        data[0] ^= 0xFF  # the magic number
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(bytes(data))
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: h, metric: entropy, column: k, min: 0}\n")
    code, _, err = cli("--rules", rules, *engine, path)
    assert code == 3 and err.startswith(f"validate: cannot read data file {path}: ") and err.count("\n") == 1, err


@pytest.mark.parametrize("engine", ENGINE_ARGS, ids=ENGINE_IDS)
@pytest.mark.parametrize("comp", ["", "gz"])
@pytest.mark.parametrize("where", ["inside", "line-start"])
def test_a_nul_byte_in_json_lines_is_exit_3_naming_the_line(tmp_path, engine, comp, where):
    # at a line's start, json.loads of the line's bytes guessed UTF-16 (RFC 4627 section 3) and
    # raised UnicodeDecodeError, which has no .msg: AttributeError in the first-bad-line search
    third = b'{"k":\x00 "c"}\n' if where == "inside" else b'\x00{"k": "c"}\n'
    plain = b'{"k": "a"}\n{"k": "b"}\n' + third
    path = tmp_path / ("d.jsonl" + (".gz" if comp else ""))
    path.write_bytes(compress(plain, comp))
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: h, metric: entropy, column: k, min: 0}\n")
    code, _, err = cli("--rules", rules, *engine, path)
    assert code == 3 and err.count("\n") == 1, err
    assert re.match(rf"validate: cannot read data file {re.escape(str(path))}: malformed JSON Lines: line 3: not valid JSON", err), err


# -- symbolic link loops under ** ----------------------------------------------------------

def _tree(root: Path) -> Path:
    ds = root / "ds"
    (ds / "sub" / "deep").mkdir(parents=True)
    (ds / ".hidden").mkdir()
    for rel, value in [("a.csv", "a"), ("sub/b.csv", "b"), ("sub/deep/c.csv", "c"), (".hidden/h.csv", "h"), ("sub/.dot.csv", "d")]:
        (ds / rel).write_text(f"k\n{value}\n")
    (ds / "notes.txt").write_text("x")
    return ds


@pytest.mark.parametrize("pattern", ["ds/**/*.csv", "ds/**", "ds/**/b.csv", "**/*.csv", "ds/sub/**/*.csv", "ds/*/**/c.csv",
                                     "ds/**/.dot.csv", "ds/.hidden/**/*.csv", "ds/**/deep/*", "ds/*.csv", "ds/**/**/*.csv",
                                     "ds/**/.hidden/*.csv", "ds/**/", "ds/**/*", "ds/su?/**/[bc].csv"])
def test_the_loop_safe_glob_matches_what_python_glob_matches_without_links(tmp_path, monkeypatch, pattern):
    from validator.summaries.io import _glob

    monkeypatch.chdir(tmp_path)
    _tree(tmp_path)
    # reference: Python's own glob on a tree without symbolic links (ds/** also gives "ds/", a
    # folder; ds/**/** gives a path more than once)
    want = sorted({m.rstrip("/") for m in glob.glob(pattern, recursive=True)} - {"ds"})
    assert sorted(_glob(pattern)) == want


@pytest.mark.parametrize("engine", ENGINE_ARGS, ids=ENGINE_IDS)
def test_a_symbolic_link_loop_under_a_double_star_glob_is_skipped_once_with_a_warning(tmp_path, monkeypatch, engine):
    # Python's glob follows ds/up -> . and ds/sub/back -> .. forever (ds/up/up/up/...)
    monkeypatch.chdir(tmp_path)
    ds = _tree(tmp_path)
    (ds / "up").symlink_to(".")
    (ds / "sub" / "back").symlink_to("..")
    (ds / "again").symlink_to("sub")  # a second link to a folder searched: its files once
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: h, metric: distinct_count, column: k, min: 0}\n")
    t0 = time.perf_counter()
    code, out, err = cli("--rules", rules, *engine, "--format", "json", "ds/**/*.csv")
    assert time.perf_counter() - t0 < 20
    # a.csv, sub/b.csv, sub/deep/c.csv: 3 rows, 3 values (hidden files are not matched by *, as in glob)
    assert code == 0 and results(out)["h"]["observed"] == 3 and results(out)["h"]["n"] == 3
    assert err.count("\n") == 1 and err.startswith("validate: ds/**/*.csv: skipped 3 symbolic link(s) to folders already searched: "), err
    assert "ds/up (a loop: it links to a folder it is in)" in err and "ds/sub/back (a loop" in err and "ds/again (a folder already searched)" in err


# -- all-null columns and trailing separators in batch dispatch ------------------------------

NULL_RULES = (
    "version: 1\nrules:\n"
    "  - {id: hx, metric: entropy, column: x, min: 0}\n"
    "  - {id: d, metric: distance_spread, columns: [x], min: 0}\n"
    "  - {id: w, metric: wasserstein_distance, column: x, reference: {file: ref.csv, column: x}, max: 10}\n"
    "  - {id: dc, metric: distinct_count, column: x, min: 0}\n"
    "  - {id: t, metric: type_token_ratio, column: t, min: 0}\n"
)


def _null_files(tmp: Path, layout: str) -> Path:
    """x and t null in the first two rows (a batch of one or two rows sees only nulls), then
    1, 2.5 and two texts; or null in every row ("all-null")."""
    rows = [("a", None, None), ("b", None, None)] + ([] if layout.startswith("all-null") else [("c", 1, "the cat"), ("d", 2.5, "a dog")])
    fmt = layout.split("-")[-1]
    if fmt in ("csv", "trailing"):
        end = "," if fmt == "trailing" else ""
        text = "k,x,t" + end + "\n" + "".join(f"{k},{'' if x is None else x},{t or ''}{end}\n" for k, x, t in rows)
        (path := tmp / "d.csv").write_text(text)
    elif fmt == "jsonl":
        import json

        (path := tmp / "d.jsonl").write_text("".join(json.dumps({"k": k, "x": x, "t": t}) + "\n" for k, x, t in rows))
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"k": [r[0] for r in rows], "x": pa.array([r[1] for r in rows], pa.float64() if len(rows) > 2 else pa.null()),
                                 "t": pa.array([r[2] for r in rows], pa.string() if len(rows) > 2 else pa.null())}), path := tmp / "d.parquet")
    (tmp / "ref.csv").write_text("x\n1\n2\n")
    (tmp / "r.yaml").write_text(NULL_RULES)
    return path


@pytest.mark.parametrize("engine", [*ENGINE_ARGS, ["--engine", "stream", "--batch-rows", "2"]], ids=[*ENGINE_IDS, "stream-batch2"])
@pytest.mark.parametrize("layout", ["csv", "trailing", "jsonl", "parquet"])
def test_batches_of_nulls_only_measure_the_values_of_the_other_batches(tmp_path, engine, layout):
    # the stream and dask batch dispatch once ended in AssertionError on an all-null batch and
    # on a trailing separator. Hand-computed over x = 1, 2.5 (nulls dropped): entropy 1 bit,
    # mean pairwise distance 1.5, W1 against {1, 2} = (|1-1| + |2.5-2|) / 2 = 0.25, 2 distinct;
    # t: 4 words, 4 types (n: the 2 rows with text)
    path = _null_files(tmp_path, layout)
    code, out, _ = cli("--rules", tmp_path / "r.yaml", *engine, "--format", "json", path)
    r = results(out)
    assert code == 0
    assert {k: (r[k]["observed"], r[k]["n"]) for k in r} == {
        "hx": (pytest.approx(1.0), 2), "d": (pytest.approx(1.5), 2), "w": (pytest.approx(0.25), 2), "dc": (2, 2), "t": (1.0, 2)}


@pytest.mark.parametrize("engine", ENGINE_ARGS, ids=ENGINE_IDS)
@pytest.mark.parametrize("layout", ["all-null-csv", "all-null-trailing", "all-null-jsonl", "all-null-parquet"])
def test_an_all_null_column_is_a_rule_error_in_every_engine(tmp_path, engine, layout):
    path = _null_files(tmp_path, layout)
    code, out, err = cli("--rules", tmp_path / "r.yaml", *engine, "--format", "json", path)
    assert code == 1 and {r["outcome"] for r in results(out).values()} == {"error"}, (out, err)


# -- many blank lines --------------------------------------------------------------------------

def test_nonblank_lines_are_the_lines_a_line_loop_keeps():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from validator.summaries.io import _nonblank_lines

    @settings(max_examples=300, derandomize=True, deadline=None)
    @given(st.text(alphabet="a{ \n\t\r\x0b\u2028\u00e9", max_size=60), st.integers(1, 7))
    def check(text, piece):
        # reference: the loop it replaces, over the same kind of stream
        want = [line.rstrip("\n") for line in io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8-sig") if line.strip()]
        got = list(_nonblank_lines(io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8-sig"), piece))
        assert got == want

    check()


def test_a_run_of_blank_lines_costs_no_python_step_per_line():
    import tracemalloc

    from validator.summaries.io import _nonblank_lines

    text = io.StringIO('{"k": 1}\n' + "\n" * 20_000_000 + ' {"k": 2}')
    tracemalloc.start()
    t0 = time.perf_counter()
    got = list(_nonblank_lines(text))
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert got == ['{"k": 1}', ' {"k": 2}']
    assert elapsed < 2.0 and peak < 16 << 20  # a line loop: ~5 s; pieces of 1 M characters


@pytest.mark.parametrize("engine", ENGINE_ARGS[:1] + ENGINE_ARGS[2:], ids=ENGINE_IDS[:1] + ENGINE_IDS[2:])
def test_a_small_gzip_of_millions_of_blank_lines_is_read_in_seconds(tmp_path, engine):
    # 20 million blank lines between two records: ~20 KB of gzip. Before: ~6 s in memory, ~15 s
    # streamed or with dask (a Python step per line); measured after: ~0.5-1 s
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"k": "a"}\n' + b"\n" * 20_000_000 + b'{"k": "b"}\n', 9))
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: h, metric: entropy, column: k, min: 0}\n")
    t0 = time.perf_counter()
    code, out, _ = cli("--rules", rules, *engine, "--format", "json", path)
    assert time.perf_counter() - t0 < 6.0
    assert code == 0 and results(out)["h"]["observed"] == 1.0 and results(out)["h"]["n"] == 2  # two equal categories: 1 bit
