"""The streaming engine (issue 6, part 1): summaries merged over record batches give the same
results as reading the data whole, for any batch size and shard split.

Reference: the in-memory engine (validate(..., engine="memory")), itself tested against
independent values elsewhere.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from validator import load_rules, validate
from validator.cli import run as cli
from tests.conftest import DATA, ROOT, assert_same



@pytest.mark.parametrize("rules,dataset", [
    ("pretrain.yaml", "pretrain_good.csv"),
    ("pretrain.yaml", "pretrain_one_language.csv"),
    ("pretrain_text.yaml", "pretrain_near_duplicates.csv"),
    ("pretrain_text.yaml", "pretrain_single_topic.csv"),
    ("penguins.yaml", "penguins.csv"),
])
def test_stream_equals_memory_on_the_examples(rules, dataset):
    ruleset = load_rules(ROOT / "rules" / rules)
    memory = validate(DATA / dataset, ruleset)
    for batch in (37, 1000):
        stream = validate(DATA / dataset, ruleset, engine="stream", batch_rows=batch)
        assert_same(memory, stream)
        assert "stream:" in stream.results[-1].details["engine"]


def test_one_file_and_seven_shards_give_identical_results(tmp_path):
    df = pd.read_csv(DATA / "pretrain_good.csv", keep_default_na=False, na_values=[""])
    whole = tmp_path / "whole.parquet"
    df.to_parquet(whole)
    shards = tmp_path / "shards"
    shards.mkdir()
    edges = np.linspace(0, len(df), 8).astype(int)
    for k, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        part = df.iloc[a:b]
        if k % 3 == 0:
            part.to_parquet(shards / f"part-{k}.parquet")
        elif k % 3 == 1:
            part.to_parquet(shards / f"part-{k}.parquet", row_group_size=50)
        else:
            part.to_parquet(shards / f"part-{k}.parquet", row_group_size=17)
    ruleset = load_rules(ROOT / "rules" / "pretrain.yaml")
    one = validate(whole, ruleset, engine="stream", batch_rows=500)
    seven = validate(shards, ruleset, engine="stream", batch_rows=64)
    assert_same(one, seven)
    assert_same(validate(whole, ruleset), seven)
    spread = {r.rule_id: r for r in seven.results}["embedding-spread"]
    assert spread.details["sample_size"] == 2000


def test_sampled_rows_do_not_depend_on_batches(tmp_path):
    # case H21 for the streaming engine: 20 rows, seed 42, 5 sampled, any batch size
    rng = np.random.default_rng(0)
    path = tmp_path / "d.csv"
    pd.DataFrame({"x": rng.normal(size=20), "y": rng.normal(size=20)}).to_csv(path, index=False)
    ruleset = load_rules({"version": 1, "rules": [
        {"id": "s", "metric": "distance_spread", "columns": ["x", "y"], "sample": {"rows": 5, "seed": 42}, "min": 0}]})
    values = {validate(path, ruleset, engine="stream", batch_rows=b).results[0].observed for b in (1, 3, 7, 20)}
    values.add(validate(path, ruleset).results[0].observed)
    assert len(values) == 1


def test_edges_from_the_data_take_a_first_pass(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"v": np.arange(1000) % 97 * 1.5}).to_csv(path, index=False)
    ruleset = load_rules({"version": 1, "rules": [
        {"id": "h", "metric": "entropy", "column": "v", "bins": {"count": 10}, "min": 0},
        {"id": "w", "metric": "wasserstein_distance", "column": "v", "reference": {"file": str(path), "column": "v"}, "max": 1}]})
    memory = validate(path, ruleset)
    stream = validate(path, ruleset, engine="stream", batch_rows=33)
    assert_same(memory, stream)
    # the range first, then the histogram on edges frozen from it: two passes, exact edges
    assert stream.results[0].details["engine"].startswith("stream: 2 pass(es)")


def test_compressed_shards_zst_and_gz(tmp_path):
    import gzip

    import pyarrow as pa

    df = pd.read_csv(DATA / "pretrain_good.csv", keep_default_na=False, na_values=[""]).head(300)
    text = df.to_csv(index=False).encode()
    with pa.output_stream(str(tmp_path / "a.csv.zst"), compression="zstd") as out:
        out.write(text)
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress(text))
    (tmp_path / "plain.csv").write_bytes(text)
    ruleset = load_rules(ROOT / "rules" / "pretrain.yaml")
    plain = validate(tmp_path / "plain.csv", ruleset)
    for name in ("a.csv.zst", "b.csv.gz"):
        assert_same(plain, validate(tmp_path / name, ruleset))
        assert_same(plain, validate(tmp_path / name, ruleset, engine="stream", batch_rows=50))


def test_rules_needing_rows_together_are_measured_in_memory(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"lang": ["en", "de", "en", "fr"], "src": ["a", "a", "b", "b"]}).to_csv(path, index=False)
    ruleset = load_rules({"version": 1, "rules": [
        {"id": "g", "metric": "entropy", "column": "lang", "group_by": "src", "min": 0}]})
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        report = validate(path, ruleset, engine="stream")
    assert "measured in memory: rule 'g' uses 'group_by'" in str(seen[0].message)
    assert report.results[0].outcome == "passed" and "engine" not in report.results[0].details


def test_unreadable_shard_stops_the_stream_with_exit_3(tmp_path, capsys):
    df = pd.DataFrame({"lang": ["en", "de"] * 50})
    df.to_parquet(tmp_path / "a.parquet")
    good = (tmp_path / "a.parquet").read_bytes()
    (tmp_path / "b.parquet").write_bytes(good[: len(good) // 2])  # truncated
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: e, metric: entropy, column: lang, min: 0.5}\n")
    assert cli(["--rules", str(rules), str(tmp_path), "--engine", "stream"]) == 3
    err = capsys.readouterr().err
    assert "b.parquet" in err and err.count("\n") == 1 and "Traceback" not in err
    assert cli(["--rules", str(rules), str(tmp_path / "a.parquet"), "--engine", "stream", "--batch-rows", "7"]) == 0


def test_skip_bad_shards_names_them_and_marks_partial_data(tmp_path, capsys):
    import gzip
    import json

    rows = pd.DataFrame({"lang": ["en", "de", "fr", "en"] * 25})
    rows.to_parquet(tmp_path / "a.parquet")
    good = (tmp_path / "a.parquet").read_bytes()
    (tmp_path / "b.parquet").write_bytes(good[: len(good) // 2])  # truncated Parquet
    body = gzip.compress(("lang\n" + "xx\n" * 5000).encode())
    (tmp_path / "c.csv.gz").write_bytes(body[: len(body) - 40])  # gzip cut short: fails after some rows
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: e, metric: entropy, column: lang, min: 0.5}\n")
    # without the option the first bad shard stops the run
    assert cli(["--rules", str(rules), str(tmp_path), "--engine", "stream"]) == 3
    capsys.readouterr()
    assert cli(["--rules", str(rules), str(tmp_path), "--engine", "stream", "--skip-bad-shards", "--batch-rows", "100", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [s["path"].rsplit("/", 1)[-1] for s in report["skipped_shards"]] == ["b.parquet", "c.csv.gz"]
    assert report["n_rows"] == 100  # nothing of the gzip shard's first rows is kept
    result = report["results"][0]
    assert result["details"]["partial_data"] == "2 of 3 shards skipped (unreadable); measured on the others"
    assert result["observed"] == pytest.approx(1.5)  # en 50, de 25, fr 25
    assert cli(["--rules", str(rules), str(tmp_path), "--engine", "stream", "--skip-bad-shards"]) == 0
    assert "PARTIAL DATA: 2 shards skipped" in capsys.readouterr().out
    assert cli(["--rules", str(rules), str(tmp_path), "--skip-bad-shards"]) == 2
    assert "needs --engine stream" in capsys.readouterr().err


def test_categorical_columns_count_only_seen_categories(tmp_path):
    # case H20: lang = en, de, fr, no, en, de as a categorical in 2 Parquet files with different
    # category sets gives {de: 2, en: 2, fr: 1, no: 1}, no placeholder category with count 0
    a = pd.DataFrame({"lang": pd.Categorical(["en", "de", "fr"], categories=["en", "de", "fr", "zz"])})
    b = pd.DataFrame({"lang": pd.Categorical(["no", "en", "de"], categories=["no", "en", "de", "yy"])})
    a.to_parquet(tmp_path / "a.parquet")
    b.to_parquet(tmp_path / "b.parquet")
    ruleset = load_rules({"version": 1, "rules": [
        {"id": "k", "metric": "distinct_count", "column": "lang", "min": 1},
        {"id": "e", "metric": "entropy", "column": "lang", "min": 0}]})
    for report in (validate(tmp_path, ruleset), validate(tmp_path, ruleset, engine="stream", batch_rows=2)):
        by = {r.rule_id: r for r in report.results}
        assert by["k"].observed == 4
        assert by["e"].observed == pytest.approx(-(2 * (1 / 3) * math.log2(1 / 3) + 2 * (1 / 6) * math.log2(1 / 6)))


def test_dask_engine_without_the_extra_gives_the_install_hint(monkeypatch, tmp_path, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "dask", None)
    path = tmp_path / "d.csv"
    path.write_text("lang\nen\nde\n")
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: e, metric: entropy, column: lang, min: 0.5}\n")
    assert cli(["--rules", str(rules), str(path), "--engine", "dask"]) == 2
    assert "pip install 'pretrain-validator[dask]'" in capsys.readouterr().err


def test_a_shard_without_rows_adds_nothing(tmp_path):
    (tmp_path / "a.csv").write_text("lang,text\nen,hello\nde,hi\n")
    (tmp_path / "b.csv").write_text("lang,text\n")
    ruleset = load_rules({"version": 1, "rules": [
        {"id": "e", "metric": "entropy", "column": "lang", "min": 0},
        {"id": "l", "metric": "js_divergence", "column": "text", "text_length": "chars",
         "reference": {"bins": {"edges": [0, 3, 10], "probabilities": [0.5, 0.5]}}, "max": 1}]})
    assert_same(validate(tmp_path, ruleset), validate(tmp_path, ruleset, engine="stream", batch_rows=1))


def test_batch_rows_needs_the_stream_engine(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("lang\nen\nde\n")
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: e, metric: entropy, column: lang, min: 0.5}\n")
    assert cli(["--rules", str(rules), str(path), "--batch-rows", "10"]) == 2
    assert "--batch-rows needs --engine stream" in capsys.readouterr().err


def _binned_rules(path):
    return load_rules({"version": 1, "rules": [
        {"id": "h", "metric": "entropy", "column": "v", "bins": {"count": 10}, "min": 0},
        {"id": "w", "metric": "wasserstein_distance", "column": "v", "reference": {"file": str(path), "column": "v"}, "max": 100}]})


@pytest.mark.parametrize("case,passes", [
    ("plain", 1),  # the range from the footers' statistics: one pass
    ("all-null row group", 1),
    ("negative zero", 1),
    ("infinite value", 2),  # inf is not in the range: a first pass finds the finite one
    ("no statistics", 2),
    ("unsigned", 2),
])
def test_parquet_statistics_give_the_range_when_they_are_exact(tmp_path, case, passes):
    import pyarrow as pa
    import pyarrow.parquet as pq

    v = (np.arange(1000) % 97 * 1.5 - 30.0).tolist()
    if case == "all-null row group":
        v[-100:] = [None] * 100  # the last row group (planning reads the first rows)
    if case == "negative zero":
        v = [abs(x) if x else -0.0 for x in v]
    if case == "infinite value":
        v[500] = float("inf")
    kind = pa.uint32() if case == "unsigned" else pa.float64()
    if case == "unsigned":
        v = [int(abs(x)) for x in v]
    table = pa.table({"v": pa.array(v, type=kind)})
    path = tmp_path / "d.parquet"
    pq.write_table(table, path, row_group_size=100, write_statistics=case != "no statistics")
    ruleset = _binned_rules(path)
    memory = validate(path, ruleset)
    stream = validate(path, ruleset, engine="stream", batch_rows=64)
    assert_same(memory, stream)
    h = stream.results[0]
    assert h.details["engine"].startswith(f"stream: {passes} pass(es)")
    assert ("ranges_from_parquet_statistics" in h.details) == (passes == 1)
    assert repr(h.details["edges"]) == repr(memory.results[0].details["edges"])  # -0.0 and 0.0 print apart


def test_footer_range_hand_values(tmp_path):
    # two files, min -4.5 in the second, max 7.25 in the first (hand-written values)
    import pyarrow as pa
    import pyarrow.parquet as pq

    from validator.summaries.arrow_batch import footer_range

    pq.write_table(pa.table({"v": [1.0, 7.25, None], "s": ["a", "b", "c"]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"v": [-4.5, 0.0, 2.0], "s": ["a", "b", "c"]}), tmp_path / "b.parquet")
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    assert footer_range(files, "v") == (-4.5, 7.25)
    assert footer_range(files, "s") is None  # text has no numeric range
    assert footer_range(files, "missing") is None


def test_skip_bad_shards_does_not_trust_footers(tmp_path):
    # a shard may drop out half-way, so its statistics cannot give the range: a first pass does
    import pyarrow as pa
    import pyarrow.parquet as pq

    for k in range(2):
        pq.write_table(pa.table({"v": (np.arange(100) * (k + 1.0)).tolist()}), tmp_path / f"p{k}.parquet")
    ruleset = _binned_rules(tmp_path / "p0.parquet")
    report = validate(tmp_path, ruleset, engine="stream", skip_bad_shards=True)
    assert report.results[0].details["engine"].startswith("stream: 2 pass(es)")
    assert_same(validate(tmp_path, ruleset), report)


def test_embedding_samples_and_exact_duplicates_stream_without_the_texts(tmp_path, monkeypatch):
    # the embed rules keep only their sampled texts, exact duplicates only 64-bit keys, n-gram
    # entropy an n-gram table, TTR the word types, MATTR its window counts, text lengths a
    # histogram: the column's texts are never merged whole (MinHash still keeps them)
    import yaml

    spec = yaml.safe_load((ROOT / "rules" / "pretrain_text.yaml").read_text())
    spec["rules"] = [r for r in spec["rules"] if r["id"] in (
        "embedding-spread", "near-duplicates", "exact-duplicates", "char-trigram-entropy", "length-distribution",
        "vocabulary-richness")]
    spec["rules"] += [
        {"id": "word-bigrams", "metric": "ngram_entropy", "column": "text", "unit": "word", "n": 2, "min": 0,
         "normalize_values": {"casefold": True}},
        {"id": "ttr", "metric": "type_token_ratio", "column": "text", "min": 0},
    ]
    spec["references"] = {k: v for k, v in spec.get("references", {}).items()}
    for r in spec["rules"]:
        ref = r.get("reference")
        if isinstance(ref, dict) and "file" in ref:
            ref["file"] = str((ROOT / "rules" / ref["file"]).resolve())
    for r in spec["rules"]:
        if "embed" in r:
            r["embed"]["artefact"] = str(ROOT / "rules" / r["embed"]["artefact"])
            r.setdefault("sample", {})["rows"] = 150  # fewer than the rows: a real sample
    ruleset = load_rules(spec)
    data = DATA / "pretrain_near_duplicates.csv"
    memory = validate(data, ruleset)
    from validator.summaries import merge

    assert "text_rows" not in merge.MERGE  # a column's texts are never merged whole: band keys, then candidate rows' texts
    report = validate(data, ruleset, engine="stream", batch_rows=3)  # fewer words per batch than MATTR's window
    measured = [r for r in report.results if not r.rule_id.startswith("column:")]
    assert len(measured) == 8 and all(r.observed is not None for r in measured), [r.reason for r in measured]
    assert_same(memory, report)
    for a, b in zip(memory.results, report.results):
        assert a.details.get("rows_with_text") == b.details.get("rows_with_text"), a.rule_id
        assert a.details.get("duplicates") == b.details.get("duplicates"), a.rule_id
    spread = {r.rule_id: r for r in report.results}["embedding-spread"]
    assert spread.details["sample_size"] == 150 < spread.details["rows_with_text"]


# -- cases from a bad-input hunt on the streaming and dask engines ------------------------------

ENTROPY_X = {"version": 1, "rules": [{"id": "e", "metric": "entropy", "column": "x", "min": 0}]}


def test_weighted_rules_stream(tmp_path):
    # a weight without confidence needs no rows together: measured from streamed counts
    rules = {"version": 1, "rules": [{"id": "w", "metric": "entropy", "column": "source", "weight": "n_words", "min": 0}]}
    data = DATA / "pretrain_good.csv"
    memory = validate(data, rules)
    stream = validate(data, rules, engine="stream", batch_rows=37)
    assert stream.results[-1].outcome == "passed"
    assert_same(memory, stream)


def test_a_malformed_csv_line_late_in_the_file_stops_the_stream(tmp_path, capsys):
    path = tmp_path / "r.csv"
    lines = ["x,y"] + [f"k{i % 7},{i}" for i in range(40)]
    lines[30] = "k1,2,EXTRA,FIELDS"  # projection must not hide a ragged line
    path.write_text("\n".join(lines) + "\n")
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: r, metric: entropy, column: x, min: 0}\n")
    assert cli(["--rules", str(rules), str(path), "--engine", "stream", "--batch-rows", "4"]) == 3
    assert "Expected 2 fields" in capsys.readouterr().err


@pytest.mark.parametrize("a,b", [([1, 2, 2, 3], ["1", "2", "01", "x"]), ([1.0, 2.5, None], ["1", "2.5", None])])
def test_a_column_typed_differently_by_shards_is_compared_as_text(tmp_path, a, b):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": pa.array(a)}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"x": pa.array(b)}), tmp_path / "b.parquet")
    memory = validate(tmp_path, ENTROPY_X)
    for batch in (1, 1000):
        assert_same(memory, validate(tmp_path, ENTROPY_X, engine="stream", batch_rows=batch))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_shards_with_other_columns_are_exit_3_naming_the_shard(tmp_path, fmt, capsys):
    one, two = pd.DataFrame({"x": ["a", "b"], "y": [1, 2]}), pd.DataFrame({"x": ["a", "c"], "z": [1, 2]})
    if fmt == "parquet":
        one.to_parquet(tmp_path / "a.parquet")
        two.to_parquet(tmp_path / "b.parquet")
    else:
        one.to_csv(tmp_path / "a.csv", index=False)
        two.to_csv(tmp_path / "b.csv", index=False)
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: r, metric: entropy, column: x, min: 0}\n")
    for extra in ([], ["--skip-bad-shards"]):  # not a shard that cannot be read: never skipped
        assert cli(["--rules", str(rules), str(tmp_path), "--engine", "stream", *extra]) == 3
        err = capsys.readouterr().err
        assert f"b.{fmt}" in err and "columns differ" in err and "missing: ['y']" in err


def test_int64_beyond_2_to_the_53_with_nulls(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": pa.array([2**62 + 1, -(2**62), 5, None], pa.int64())}), tmp_path / "a.parquet")
    rules = {"version": 1, "rules": [{"id": "h", "metric": "entropy", "column": "x", "bins": {"count": 3}, "min": 0}]}
    memory = validate(tmp_path, rules)
    assert memory.results[0].outcome == "passed"
    assert_same(memory, validate(tmp_path, rules, engine="stream", batch_rows=2))


def test_duplicate_column_names_in_parquet_are_exit_3(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array([1.0, 2.0]), pa.array([3.0, 4.0]), pa.array(["a", "b"])], names=["v", "v", "s"])
    pq.write_table(table, tmp_path / "a.parquet")
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: r, metric: entropy, column: s, min: 0}\n")
    assert cli(["--rules", str(rules), str(tmp_path / "a.parquet"), "--engine", "stream"]) == 3
    assert "more than once: 'v'" in capsys.readouterr().err


def test_summaries_that_cannot_merge_are_error_results_not_tracebacks(tmp_path):
    # embeddings of different dimensions in different shards; lists as category values
    pd.DataFrame({"e": [[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"e": [[1.0, 2.0], [2.0, 3.0]]}).to_parquet(tmp_path / "b.parquet")
    rules = {"version": 1, "rules": [
        {"id": "d", "metric": "distance_spread", "columns": ["e"], "min": 0},
        {"id": "c", "metric": "entropy", "column": "e", "min": 0}]}
    report = validate(tmp_path, rules, engine="stream", batch_rows=1)
    assert [r.outcome for r in report.results] == ["error", "error"]
    assert "different dimensions" in report.results[0].reason


def test_integer_column_names_from_pandas_metadata(tmp_path):
    path = tmp_path / "intcols.parquet"
    pd.DataFrame({0: ["a", "b", "a"], 1: [1.0, 2, 3.5], 2: [1, 2, 3]}).to_parquet(path)
    rules = {"version": 1, "rules": [{"id": "d", "metric": "distance_spread", "columns": ["1", "2"], "min": 0},
                                      {"id": "e", "metric": "entropy", "column": "0", "min": 0}]}
    memory = validate(path, rules)
    assert [r.outcome for r in memory.results] == ["passed", "passed"]
    assert_same(memory, validate(path, rules, engine="stream"))


def test_skip_bad_shards_skips_a_bad_first_shard(tmp_path):
    (tmp_path / "a.parquet").write_bytes(b"not parquet at all")
    for k in ("b", "c"):
        pd.DataFrame({"x": ["u", "v", k]}).to_parquet(tmp_path / f"{k}.parquet")
    report = validate(tmp_path, ENTROPY_X, engine="stream", skip_bad_shards=True)
    assert [s["path"].rsplit("/", 1)[1] for s in report.skipped_shards] == ["a.parquet"]
    assert report.n_rows == 6 and report.results[0].outcome == "passed"


def test_fsspec_urls_stream_and_the_memory_engine_says_so(tmp_path, capsys):
    # file:// URLs go through fsspec and the project's own reader (blank lines of a one-column
    # CSV are empty fields, as in memory); the in-memory engine refuses them in one line
    path = tmp_path / "one.csv"
    path.write_text("x\na\n\nb\n\na\n")
    rules = {"version": 1, "rules": [{"id": "e", "metric": "entropy", "column": "x", "nulls": "category", "min": 0}]}
    memory = validate(path, rules)
    assert memory.results[0].n == 5
    assert_same(memory, validate([f"file://{tmp_path}/*.csv"], rules, engine="stream", batch_rows=2))
    rules_file = tmp_path / "r.yaml"
    rules_file.write_text("version: 1\nrules:\n  - {id: e, metric: entropy, column: x, min: 0}\n")
    assert cli(["--rules", str(rules_file), f"file://{path}"]) == 3
    assert "fsspec URLs are read by --engine stream or --engine dask" in capsys.readouterr().err


def test_a_batch_where_a_declared_column_is_all_null_keeps_its_dtype(tmp_path):
    # JSON Lines give an all-null batch the object dtype: judged by the batches with values
    (tmp_path / "a.jsonl").write_text('{"n":1,"s":"a"}\n{"n":2,"s":"b"}\n')
    (tmp_path / "b.jsonl").write_text('{"n":null,"s":"c"}\n')
    rules = {"version": 1, "columns": {"n": {"dtype": "int"}}, "rules": [{"id": "e", "metric": "entropy", "column": "s", "min": 0}]}
    memory = validate(tmp_path, rules)
    assert all(r.outcome == "passed" for r in memory.results)
    for batch in (1, 1000):
        report = validate(tmp_path, rules, engine="stream", batch_rows=batch)
        assert [r.outcome for r in report.results] == [r.outcome for r in memory.results]


def test_booleans_with_nulls_are_booleans_in_every_engine(tmp_path):
    # Parquet booleans with a null come to pandas as an object column: still booleans (reference
    # keys TRUE/False match them; a shard without nulls counts the same two categories)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"b": pa.array([True, False, None, True])}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"b": pa.array([True, False, False, True])}), tmp_path / "b.parquet")
    rules = {"version": 1, "rules": [
        {"id": "e", "metric": "entropy", "column": "b", "min": 0},
        {"id": "k", "metric": "kl_divergence", "column": "b", "reference": {"categories": {"TRUE": 0.5, "False": 0.5}}, "max": 1}]}
    memory = validate(tmp_path, rules)
    assert memory.results[0].details["categories"] == 2
    assert memory.results[1].observed == pytest.approx(1 - (-(4 / 7) * math.log2(4 / 7) - (3 / 7) * math.log2(3 / 7)), rel=1e-12)
    for batch in (2, 1000):
        assert_same(memory, validate(tmp_path, rules, engine="stream", batch_rows=batch))


def test_a_json_lines_shard_after_a_parquet_shard(tmp_path):
    # the JSON Lines batches (all columns) are compared with the first shard's full columns, not
    # with the columns the rules project
    df = pd.read_csv(DATA / "pretrain_good.csv", keep_default_na=False, na_values=[""])
    df.iloc[:300].to_parquet(tmp_path / "1.parquet")
    df.iloc[300:].to_json(tmp_path / "2.jsonl", orient="records", lines=True)
    rules = {"version": 1, "rules": [{"id": "e", "metric": "entropy", "column": "language", "min": 0}]}
    memory = validate(tmp_path, rules)
    assert_same(memory, validate(tmp_path, rules, engine="stream", batch_rows=100))


def test_every_shard_skipped_is_exit_3(tmp_path, capsys):
    for k in range(2):
        (tmp_path / f"{k}.parquet").write_bytes(b"garbage")
    assert cli(["--rules", str(ROOT / "rules" / "pretrain.yaml"), str(tmp_path), "--engine", "stream", "--skip-bad-shards"]) == 3
    assert "no shard could be read (2 skipped as unreadable)" in capsys.readouterr().err


def test_numbers_in_a_text_column_are_not_texts_whichever_shard_they_are_in(tmp_path):
    # text rules exclude non-text values; shards do not turn numbers into texts (only categorical
    # columns are unified as text across shards)
    (tmp_path / "a.jsonl").write_text('{"id":1,"text":"hello world"}\n{"id":2,"text":"hello world"}\n')
    (tmp_path / "b.jsonl").write_text('{"id":3,"text":5}\n{"id":4,"text":7}\n')
    rules = {"version": 1, "rules": [{"id": "d", "metric": "duplicate_fraction", "column": "text", "max": 1}]}
    memory = validate(tmp_path, rules)
    r = memory.results[0]
    assert (r.observed, r.n, r.details["excluded_rows"]) == (1.0, 2, {"not_text": 2})
    for batch in (1, 1000):
        assert_same(memory, validate(tmp_path, rules, engine="stream", batch_rows=batch))


def test_a_missing_column_is_named_with_the_table_columns_and_a_hint(tmp_path):
    pd.DataFrame({"id": [1, 2, 3], "text": ["a b", "c d", "a b"]}).to_parquet(tmp_path / "mix.parquet")
    rules = {"version": 1, "rules": [{"id": "d", "metric": "duplicate_fraction", "column": "txt", "max": 1},
                                      {"id": "e", "metric": "entropy", "column": "id", "min": 0}]}
    reasons = {validate(tmp_path / "mix.parquet", rules, engine=e).results[0].reason for e in ("memory", "stream")}
    assert reasons == {"column 'txt' not found in " + str(tmp_path / "mix.parquet") + "; did you mean 'text'? (columns: id, text)"}


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_batch_rows_must_be_a_positive_int(bad):
    with pytest.raises(ValueError, match="batch_rows must be an int >= 1"):
        validate(DATA / "pretrain_good.csv", ROOT / "rules" / "pretrain.yaml", engine="stream", batch_rows=bad)


def test_text_lengths_of_non_text_values_say_so(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": 1}\n{"text": 2}\n{"text": 3.5}\n{"text": null}\n{"text": true}\n')
    (tmp_path / "ref.jsonl").write_text('{"text": "hello there"}\n{"text": "a b c"}\n')
    rules = {"version": 1, "rules": [{"id": "l", "metric": "js_divergence", "column": "text", "text_length": "words",
                                      "reference": {"file": str(tmp_path / "ref.jsonl"), "column": "text"}, "max": 1}]}
    for engine in ("memory", "stream"):
        assert "no text in column 'text': 1 null and 4 non-text values of 5 rows" in validate(tmp_path / "a.jsonl", rules, engine=engine).results[0].reason


def test_a_batch_typed_in_parts_gives_no_pandas_warning(tmp_path):
    # pandas types a batch of 120,000 rows in parts (low_memory): "1" in the first half, "True"
    # in the second made it print a DtypeWarning on stderr; the batch's kinds are noted instead
    import warnings

    n = 120_000
    path = tmp_path / "c.csv"
    pad = ",".join(["p"] * 40)  # wide rows: pandas types a batch in parts of a few hundred kB
    path.write_text("x," + ",".join(f"c{j}" for j in range(40)) + "\n" + "".join(f"{'1' if i < n // 2 else 'True'},{pad}\n" for i in range(n)))
    rules = {"version": 1, "rules": [{"id": "h", "metric": "entropy", "column": "x", "bins": {"count": 5}, "min": 0}]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = validate(path, rules, engine="stream")["h"]
    assert result.outcome == "error" and "not numeric" in result.reason  # "True" is no number
    assert not [w for w in caught if issubclass(w.category, pd.errors.DtypeWarning)]
