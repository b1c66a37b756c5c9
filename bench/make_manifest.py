"""Build the benchmark's synthetic pretraining manifest: a ~2M-row, ~250 MB CSV.

Columns (one row per document, like a pretraining data manifest):

* ``doc_id``       unique string ``<source>/<16 hex digits>`` (a hash of the row number)
* ``language``     30 language tags, Zipf-like skew (``en`` ~50 %)
* ``source``       6 sources, skewed
* ``token_count``  int, heavy-tailed (log-normal body x Pareto tail), >= 1
* ``quality``      float in [0, 1] (Beta(5, 2)), 6 decimals
* ``e0``..``e7``   float embedding features (language-dependent cluster centre + noise), 6 decimals

Deterministic: the same ``--seed``/``--rows`` give byte-identical output (each chunk of rows
has its own generator spawned from the seed, so the chunk layout is part of the definition and
fixed at ``CHUNK_ROWS``). The file is written with ``pyarrow.csv`` (fast, multi-threaded); its
floats are the shortest round-trip text of the 6-decimal-rounded values.

Usage::

    python bench/make_manifest.py                      # -> bench/out/manifest.csv
    python bench/make_manifest.py --rows 200000 --out bench/out/small.csv
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out" / "manifest.csv"
DEFAULT_ROWS = 2_000_000
DEFAULT_SEED = 20240601
CHUNK_ROWS = 250_000  # part of the data's definition (per-chunk generators)
DIM = 8

# 30 tags; weights ~ 1 / rank^1.1 with English boosted 2.5x (web crawls are English-heavy).
LANGUAGES = [
    "en", "zh", "de", "ru", "es", "fr", "ja", "it", "pt", "pl",
    "nl", "tr", "ko", "vi", "id", "ar", "fa", "sv", "cs", "uk",
    "hi", "el", "hu", "ro", "da", "fi", "th", "he", "bn", "sw",
]
SOURCES = ["common_crawl", "c4", "wikipedia", "github", "books", "arxiv"]
SOURCE_WEIGHTS = np.array([0.52, 0.20, 0.09, 0.08, 0.07, 0.04])


def language_weights() -> np.ndarray:
    w = 1.0 / np.arange(1, len(LANGUAGES) + 1) ** 1.1
    w[0] *= 2.5
    return w / w.sum()


def _centres() -> np.ndarray:
    """One fixed embedding centre per language (seeded independently of the row seed)."""
    rng = np.random.default_rng(7)
    return rng.normal(0.0, 0.35, size=(len(LANGUAGES), DIM))


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijection of uint64, so distinct rows get distinct ids."""
    z = z.copy()
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def make_chunk(rng: np.random.Generator, start: int, n: int, centres: np.ndarray, seed_key: int) -> pa.Table:
    lang_idx = rng.choice(len(LANGUAGES), size=n, p=language_weights())
    src_idx = rng.choice(len(SOURCES), size=n, p=SOURCE_WEIGHTS)
    # Heavy tail: log-normal body, 2 % of documents from a Pareto(1.3) tail (books, code dumps).
    tokens = rng.lognormal(mean=6.3, sigma=1.1, size=n)
    tail = rng.random(n) < 0.02
    tokens[tail] = 2_000.0 * (1.0 + rng.pareto(1.3, size=int(tail.sum())))
    tokens = np.clip(np.rint(tokens), 1, 50_000_000).astype(np.int64)
    quality = np.round(rng.beta(5.0, 2.0, size=n), 6)
    emb = centres[lang_idx] + rng.normal(0.0, 0.25, size=(n, DIM))
    emb = np.round(emb, 6)

    h = _mix(np.arange(start, start + n, dtype=np.uint64) + np.uint64(seed_key))
    names = [s + "/" for s in SOURCES]
    ids = [names[s] + f"{x:016x}" for s, x in zip(src_idx.tolist(), h.tolist())]
    lang = pa.DictionaryArray.from_arrays(pa.array(lang_idx.astype(np.int32)), pa.array(LANGUAGES)).cast(pa.string())
    src = pa.DictionaryArray.from_arrays(pa.array(src_idx.astype(np.int32)), pa.array(SOURCES)).cast(pa.string())
    cols = {
        "doc_id": pa.array(ids, type=pa.string()),
        "language": lang,
        "source": src,
        "token_count": pa.array(tokens),
        "quality": pa.array(quality),
    }
    for j in range(DIM):
        cols[f"e{j}"] = pa.array(emb[:, j])
    return pa.table(cols)


def build(out: Path, rows: int, seed: int) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    centres = _centres()
    n_chunks = -(-rows // CHUNK_ROWS)
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    opts = pacsv.WriteOptions(include_header=True, quoting_style="none")
    writer = None
    try:
        for k, ss in enumerate(children):
            start = k * CHUNK_ROWS
            n = min(CHUNK_ROWS, rows - start)
            table = make_chunk(np.random.default_rng(ss), start, n, centres, seed % (1 << 63))
            if writer is None:
                writer = pacsv.CSVWriter(str(tmp), table.schema, write_options=opts)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, out)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--force", action="store_true", help="rebuild even if the file exists")
    ap.add_argument("--sha256", action="store_true", help="print the file's SHA-256 (determinism check)")
    ap.add_argument("--parquet", type=Path, default=None,
                    help="also write the manifest as this Parquet file (pyarrow, one row group per 256k rows)")
    args = ap.parse_args(argv)
    stamp = args.out.with_name(args.out.name + ".params")
    params = f"rows={args.rows} seed={args.seed} chunk={CHUNK_ROWS} v=3\n"
    if args.out.exists() and not args.force and stamp.exists() and stamp.read_text() == params:
        print(f"{args.out} exists ({args.out.stat().st_size / 1e6:.1f} MB); --force rebuilds it")
    else:
        t0 = time.perf_counter()
        build(args.out, args.rows, args.seed)
        stamp.write_text(params)
        print(f"wrote {args.out}: {args.rows:,} rows, {args.out.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
    if args.parquet is not None:
        # the same rows as Parquet, every column typed as the CSV reader types it (the floats'
        # shortest round-trip text parses back to the same doubles)
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        t0 = time.perf_counter()
        pq.write_table(pacsv.read_csv(args.out), args.parquet, row_group_size=1 << 18)
        print(f"wrote {args.parquet}: {args.parquet.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
    if args.sha256:
        h = hashlib.sha256()
        with open(args.out, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        print(f"sha256 {h.hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
