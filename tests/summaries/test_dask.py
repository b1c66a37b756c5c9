"""The dask engine on a distributed.LocalCluster gives the in-memory engine's results
(handed cases H20, H21). Skipped, naming the extra, when dask is not installed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe", reason="needs the optional extra: pip install 'pretrain-validator[dask]'")
distributed = pytest.importorskip("distributed", reason="needs the optional extra: pip install 'pretrain-validator[dask]'")

from validator import load_rules, validate  # noqa: E402
from validator.cli import run as cli  # noqa: E402
from tests.conftest import DATA, ROOT, assert_same  # noqa: E402



@pytest.fixture(scope="module")
def scheduler():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield cluster.scheduler_address
    cluster.close()


def test_dask_on_seven_shards_equals_memory(tmp_path, scheduler):
    df = pd.read_csv(DATA / "pretrain_good.csv", keep_default_na=False, na_values=[""])
    edges = np.linspace(0, len(df), 8).astype(int)
    for k, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        df.iloc[a:b].to_parquet(tmp_path / f"part-{k}.parquet", row_group_size=100)
    ruleset = load_rules(ROOT / "rules" / "pretrain.yaml")
    memory = validate(DATA / "pretrain_good.csv", ruleset)
    dask_report = validate(tmp_path, ruleset, engine="dask", scheduler=scheduler)
    assert_same(memory, dask_report)
    assert dask_report.results[-1].details["engine"].startswith("dask:")


def test_h20_unknown_categoricals(tmp_path, scheduler):
    a = pd.DataFrame({"lang": pd.Categorical(["en", "de", "fr"], categories=["en", "de", "fr", "zz"])})
    b = pd.DataFrame({"lang": pd.Categorical(["no", "en", "de"], categories=["no", "en", "de", "yy"])})
    a.to_parquet(tmp_path / "a.parquet")
    b.to_parquet(tmp_path / "b.parquet")
    ruleset = load_rules({"version": 1, "rules": [
        {"id": "k", "metric": "distinct_count", "column": "lang", "min": 1},
        {"id": "c", "metric": "kl_divergence", "column": "lang",
         "reference": {"counts": {"de": 2, "en": 2, "fr": 1, "no": 1}}, "max": 0.0}]})
    report = validate(tmp_path, ruleset, engine="dask", scheduler=scheduler)
    by = {r.rule_id: r for r in report.results}
    assert by["k"].observed == 4  # {de: 2, en: 2, fr: 1, no: 1}: no placeholder category
    assert by["c"].observed == 0.0 and by["c"].outcome == "passed"
    assert_same(validate(tmp_path, ruleset), report)


@pytest.mark.parametrize("parts", [1, 2, 4])
def test_h21_sample_does_not_depend_on_partitions(tmp_path, scheduler, parts):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=20), "y": rng.normal(size=20)})
    for k, chunk in enumerate(np.array_split(np.arange(20), parts)):
        df.iloc[chunk].to_parquet(tmp_path / f"p{k}.parquet")
    ruleset = load_rules({"version": 1, "rules": [
        {"id": "s", "metric": "distance_spread", "columns": ["x", "y"], "sample": {"rows": 5, "seed": 42}, "min": 0}]})
    whole = tmp_path.parent / f"whole{parts}.csv"
    df.to_csv(whole, index=False)
    expected = validate(whole, ruleset).results[0]
    got = validate(tmp_path, ruleset, engine="dask", scheduler=scheduler).results[0]
    assert got.observed == expected.observed and got.details["sample_size"] == 5


def test_cli_dask_engine_with_a_scheduler(scheduler, capsys):
    code = cli(["--rules", str(ROOT / "rules" / "pretrain.yaml"), str(DATA / "pretrain_one_language.csv"),
                "--engine", "dask", "--scheduler", scheduler])
    assert code == 1  # the 95%-English set fails its two language rules, as with the other engines
    out = capsys.readouterr().out
    assert "FAIL    language-entropy" in out and "0.5025 bits" in out


def test_mixed_formats_and_the_right_shard_named(tmp_path, scheduler, capsys):
    import gzip

    df = pd.read_csv(DATA / "pretrain_good.csv", keep_default_na=False, na_values=[""])
    df.iloc[:700].to_csv(tmp_path / "part0.csv", index=False)
    df.iloc[700:1400].to_parquet(tmp_path / "part1.parquet")
    (tmp_path / "part2.csv.gz").write_bytes(gzip.compress(df.iloc[1400:].to_csv(index=False).encode()))
    ruleset = load_rules(ROOT / "rules" / "pretrain.yaml")
    assert_same(validate(DATA / "pretrain_good.csv", ruleset), validate(tmp_path, ruleset, engine="dask", scheduler=scheduler))
    good = (tmp_path / "part1.parquet").read_bytes()
    (tmp_path / "part1.parquet").write_bytes(good[: len(good) // 2])
    rules = ROOT / "rules" / "pretrain.yaml"
    assert cli(["--rules", str(rules), str(tmp_path), "--engine", "dask", "--scheduler", scheduler]) == 3
    err = capsys.readouterr().err
    assert "part1.parquet" in err and "part0.csv" not in err and err.count("\n") == 1


def test_unreachable_scheduler_is_one_line_exit_2(capsys):
    code = cli(["--rules", str(ROOT / "rules" / "pretrain.yaml"), str(DATA / "pretrain_good.csv"),
                "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot connect to the dask scheduler at tcp://127.0.0.1:1" in err and "Traceback" not in err


def test_fsspec_urls_equal_memory(tmp_path, scheduler):
    # file:// URLs go through fsspec and dask.dataframe's readers (as s3:// would); a glob of
    # Parquet shards with several row groups each, and of CSV shards
    df = pd.read_csv(DATA / "pretrain_good.csv", keep_default_na=False, na_values=[""])
    ruleset = load_rules(ROOT / "rules" / "pretrain.yaml")
    memory = validate(DATA / "pretrain_good.csv", ruleset)
    edges = np.linspace(0, len(df), 4).astype(int)
    for k, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        df.iloc[a:b].to_parquet(tmp_path / f"part-{k}.parquet", row_group_size=150)
        df.iloc[a:b].to_csv(tmp_path / f"part-{k}.csv", index=False)
    for pattern in ("part-*.parquet", "part-*.csv"):
        report = validate([f"file://{tmp_path}/{pattern}"], ruleset, engine="dask", scheduler=scheduler)
        assert_same(memory, report)
        assert report.n_rows == len(df)


@pytest.mark.parametrize("url,why", [
    ("file:///nonexistent-dir/*.parquet", "the pattern matches no file"),
    ("file:///nonexistent-dir/x.parquet", "no such file"),
    ("file:///tmp/", "is a folder"),
])
def test_missing_urls_are_exit_3(url, why, capsys):
    code = cli(["--rules", str(ROOT / "rules" / "pretrain.yaml"), url, "--engine", "dask"])
    err = capsys.readouterr().err
    assert code == 3 and why in err and url in err and "Traceback" not in err


def test_dask_refuses_shards_with_other_columns_and_reads_relative_paths(tmp_path, scheduler, monkeypatch, capsys):
    pd.DataFrame({"x": ["a", "b"], "y": [1, 2]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"x": ["a", "c"], "z": [1, 2]}).to_parquet(tmp_path / "b.parquet")
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: r, metric: entropy, column: x, min: 0}\n")
    assert cli(["--rules", str(rules), str(tmp_path), "--engine", "dask", "--scheduler", scheduler]) == 3
    assert "b.parquet" in capsys.readouterr().err
    # a relative path is made absolute before it goes to the workers (their directory differs)
    (tmp_path / "b.parquet").unlink()
    monkeypatch.chdir(tmp_path)
    report = validate("a.parquet", load_rules(rules), engine="dask", scheduler=scheduler)
    assert report.results[-1].outcome == "passed" and report.n_rows == 2


def test_dask_weighted_and_differently_typed_shards_equal_memory(tmp_path, scheduler):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": pa.array([1, 2, 2, 3]), "w": [1.0, 2.0, 3.0, 4.0]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"x": pa.array(["1", "2", "01", "x"]), "w": [1.0, 1.0, 1.0, 1.0]}), tmp_path / "b.parquet")
    rules = load_rules({"version": 1, "rules": [
        {"id": "e", "metric": "entropy", "column": "x", "min": 0},
        {"id": "w", "metric": "entropy", "column": "x", "weight": "w", "min": 0}]})
    memory = validate(tmp_path, rules)
    assert [r.outcome for r in memory.results] == ["passed", "passed"]
    assert_same(memory, validate(tmp_path, rules, engine="dask", scheduler=scheduler))


def test_dask_names_the_first_unreadable_shard_in_path_order(tmp_path, scheduler, capsys):
    for k in range(4):
        pd.DataFrame({"x": ["a", "b"]}).to_parquet(tmp_path / f"shard-{k}.parquet")
    (tmp_path / "shard-2.parquet").write_bytes(b"garbage")
    (tmp_path / "shard-3.parquet").write_bytes(b"garbage too")
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: r, metric: entropy, column: x, min: 0}\n")
    for _ in range(3):  # tasks finish in any order; the message does not change
        assert cli(["--rules", str(rules), str(tmp_path), "--engine", "dask", "--scheduler", scheduler]) == 3
        err = capsys.readouterr().err
        assert "shard-2.parquet" in err and "shard-3" not in err


def test_shard_rows_are_counted_once_for_all_passes(tmp_path, monkeypatch):
    # two passes (CSV: the range of `bins: {count: k}` first), one count of the shards' rows
    from validator.summaries import dask_engine

    for k in range(2):
        pd.DataFrame({"v": np.arange(10.0) * (k + 1)}).to_csv(tmp_path / f"p{k}.csv", index=False)
    calls = []
    real = dask_engine.shard_info
    monkeypatch.setattr(dask_engine, "shard_info", lambda *a: calls.append(a[0]) or real(*a))
    rules = {"version": 1, "rules": [{"id": "h", "metric": "entropy", "column": "v", "bins": {"count": 4}, "min": 0}]}
    report = validate(tmp_path, rules, engine="dask")  # local scheduler: the monkeypatch is seen
    assert report.results[0].details["engine"].startswith("dask: 2 pass(es)")
    assert sorted(Path(c).name for c in calls) == ["p0.csv", "p1.csv"]
    assert_same(validate(tmp_path, rules), report)
