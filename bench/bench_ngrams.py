#!/usr/bin/env python3
"""n-gram entropy benchmark (issue 13, item 2): char-trigram ``ngram_entropy`` on 200,000
generated texts of ~60 characters, the code of before (a Python dict per n-gram, from ``git
archive`` of --old-ref) against this tree's vectorised counts, each in its own process, side by
side in the same run: wall time of the measurement, its value, and the child's own peak RSS
(os.wait4) beside a child that only generates the texts (the baseline).

    .venv/bin/python bench/bench_ngrams.py                  # 200,000 texts, old ref "main"
    .venv/bin/python bench/bench_ngrams.py --rows 50000 --old-ref HEAD~1

Texts: words drawn Zipf-like from 5,000 generated words over a Latin alphabet with accents and
a few CJK and emoji code points, joined by spaces to ~60 characters (seeded). Measured per tree:
``validate`` of one rule on the DataFrame (the memory engine: summaries, merge, entropy) for
char 3-grams, and for the new tree also char 5-grams and word 3-grams (exact within the default
budget of 2^22 distinct n-grams), and word 3-grams under a budget of 2^18 (the estimator: its
value with its guaranteed bounds). Prints a Markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run_bench import run_child  # noqa: E402  (never imports numpy or pandas in this process)

ROOT = HERE.parent

CHILD = r"""
import json, sys, time
import numpy as np, pandas as pd
rows, what = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(13)
alphabet = list("abcdefghijklmnopqrstuvwxyzéèàüöçñ") + ["\u4e2d", "\u6587", "\U0001F600"]
lengths = rng.integers(2, 9, size=5000)
vocab = ["".join(rng.choice(alphabet, size=k)) for k in lengths]
p = 1.0 / np.arange(1, 5001) ** 1.05; p /= p.sum()
draws = rng.choice(5000, size=rows * 14, p=p)
texts, i = [], 0
for _ in range(rows):
    words = []
    while sum(len(w) + 1 for w in words) < 60:
        words.append(vocab[draws[i % draws.size]]); i += 1
    texts.append(" ".join(words))
df = pd.DataFrame({"text": texts})
if what == "baseline":
    print(json.dumps({"seconds": 0.0, "chars": int(df.text.str.len().sum())}))
    raise SystemExit(0)
from validator import load_rules, validate
from validator.checks import text as text_checks
what, _, budget = what.partition("@")
if budget:
    text_checks.NGRAM_BUDGET = int(budget)  # a smaller memory budget: the estimator past it
unit, n = what.split(":")
rules = load_rules({"version": 1, "rules": [{"id": "e", "metric": "ngram_entropy", "column": "text", "unit": unit, "n": int(n), "min": 0}]})
t0 = time.perf_counter()
r = validate(df, rules).results[0]
sec = time.perf_counter() - t0
print(json.dumps({"seconds": sec, "observed": r.observed, "outcome": r.outcome, "method": r.details.get("method", ""),
                  "distinct": r.details.get("distinct_ngrams", r.details.get("distinct_ngrams_estimated")),
                  "bounds": r.details.get("value_bounds")}))
"""


def measure(tree: Path, rows: int, what: str) -> dict:
    run = run_child([sys.executable, "-c", CHILD, str(rows), what], cwd=tree)
    if run["rc"] != 0:
        raise SystemExit(f"{what} in {tree} failed: {run['stderr'].strip().splitlines()[-1:]}")
    out = json.loads(run["stdout"].strip().splitlines()[-1])
    return {**out, "rss_mb": run["rss_mb"], "wall": run["wall"]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--old-ref", default="main", help="git ref of the code of before (default: main)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as old:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.old_ref, "validator"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", old], input=archive.stdout, check=True)
        base = measure(ROOT, args.rows, "baseline")
        runs = {("old", "char:3"): measure(Path(old), args.rows, "char:3")}
        for what in ("char:3", "char:5", "word:3", "word:3@262144"):
            runs[("new", what)] = measure(ROOT, args.rows, what)
    print(f"{args.rows} texts, {base['chars']} characters; baseline child (generate the texts only): "
          f"{base['wall']:.2f} s wall, peak RSS {base['rss_mb']:.0f} MB\n")
    print("| code | n-grams | measure (s) | child wall (s) | peak RSS (MB) | RSS over baseline (MB) | value (bits) | distinct |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for (code, what), r in runs.items():
        print(f"| {code} | {what} | {r['seconds']:.2f} | {r['wall']:.2f} | {r['rss_mb']:.0f} | {r['rss_mb'] - base['rss_mb']:.0f} "
              f"| {r['observed']!r}{'' if not r['bounds'] else ' in [%.4f, %.4f]' % tuple(r['bounds'])} | {r['distinct']} |")
    old, new = runs[("old", "char:3")], runs[("new", "char:3")]
    print(f"\nchar 3-grams, new vs old: {old['seconds'] / new['seconds']:.1f}x faster, peak RSS over baseline "
          f"{new['rss_mb'] - base['rss_mb']:.0f} MB vs {old['rss_mb'] - base['rss_mb']:.0f} MB; "
          f"same value: {old['observed'] == new['observed']}; "
          f"throughput {base['chars'] / new['seconds'] / 1e6:.1f} M characters/s ({len and args.rows / new['seconds']:.0f} texts/s)")
    print(f"word 3-grams: {runs[('new', 'word:3')]['method']}")
    print(f"word 3-grams, budget 262,144 distinct: {runs[('new', 'word:3@262144')]['method']}")


if __name__ == "__main__":
    main()
