"""Progress bars: on stderr, only on a terminal, only after the delay, never with --quiet."""

from __future__ import annotations

import io

import pytest

from validator import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def drive(monkeypatch, stream, delay=0.0, quiet=False):
    monkeypatch.setattr(progress.sys, "stderr", stream)
    monkeypatch.setattr(progress, "DELAY_SECONDS", delay)
    progress.set_quiet(quiet)
    try:
        with progress.Progress("embedding 'text' (hashing)") as p:
            for done in range(0, 101, 10):
                p(done, 100)
    finally:
        progress.set_quiet(False)
    return stream.getvalue()


def test_bar_on_a_terminal(monkeypatch):
    out = drive(monkeypatch, Terminal())
    assert "embedding 'text' (hashing)" in out and "/100 [" in out


def test_no_bar_off_a_terminal_or_when_quiet_or_before_the_delay(monkeypatch):
    assert drive(monkeypatch, io.StringIO()) == ""
    assert drive(monkeypatch, Terminal(), quiet=True) == ""
    assert drive(monkeypatch, Terminal(), delay=60.0) == ""  # a quick step shows nothing


def test_cli_quiet_flag(monkeypatch, tmp_path):
    from validator.cli import run

    data = tmp_path / "d.csv"
    data.write_text("text\na b\nc d\n")
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: d, metric: duplicate_fraction, column: text, max: 0.5}\n")
    seen = []
    monkeypatch.setattr(progress, "set_quiet", lambda q: seen.append(q))
    assert run(["--rules", str(rules), str(data), "--quiet"]) == 0
    assert seen == [True]


def test_stream_bar_per_shard_with_the_footer_row_count(monkeypatch, tmp_path):
    import pandas as pd

    from validator import validate

    pd.DataFrame({"lang": ["en", "de"] * 50}).to_parquet(tmp_path / "part-0.parquet")
    pd.DataFrame({"lang": ["fr"] * 30}).to_parquet(tmp_path / "part-1.parquet")
    stream = Terminal()
    monkeypatch.setattr(progress.sys, "stderr", stream)
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    rules = {"version": 1, "rules": [{"id": "e", "metric": "entropy", "column": "lang", "min": 0}]}
    validate(tmp_path, rules, engine="stream", batch_rows=16)
    out = stream.getvalue()
    assert "pass 1: part-0.parquet" in out and "/100 [" in out  # out of the rows its footer gives
    assert "pass 1: part-1.parquet" in out and "/30 [" in out


def test_dask_bar_counts_finished_tasks(monkeypatch, tmp_path):
    pytest.importorskip("dask", reason="needs the optional extra: pip install 'pretrain-validator[dask]'")
    import pandas as pd

    from validator import validate

    for k in range(3):
        pd.DataFrame({"lang": ["en", "de"] * (k + 1)}).to_parquet(tmp_path / f"part-{k}.parquet")
    stream = Terminal()
    monkeypatch.setattr(progress.sys, "stderr", stream)
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    rules = {"version": 1, "rules": [{"id": "e", "metric": "entropy", "column": "lang", "min": 0}]}
    validate(tmp_path, rules, engine="dask")  # dask's local scheduler: a callback counts tasks
    out = stream.getvalue()
    assert "dask pass 1" in out and "/3 [" in out
