#!/usr/bin/env python3
"""An ETL step gated by pretrain-validator: read, transform, gate, write.

    python examples/etl_job.py examples/data/pretrain_good.csv out/pretrain.parquet

Reads a raw shard, drops texts that are too short and exact duplicate texts, validates the
result against rules/pretrain.yaml through the Python API, and writes it as Parquet only when
every error-severity rule passes. On a failed gate nothing is written, the report goes to
stderr and the process exits with 1 (ValidationFailure carries the whole report).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from validator import DataReadError, ValidationFailure, load_rules, read_table, validate

ROOT = Path(__file__).resolve().parents[1]


def transform(df: pd.DataFrame, min_chars: int = 20) -> pd.DataFrame:
    """Drop short texts and exact duplicate texts (the first occurrence stays)."""
    kept = df[df["text"].str.len() >= min_chars]
    return kept.drop_duplicates(subset="text").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="raw shard (CSV, TSV, Parquet, JSON Lines)")
    parser.add_argument("target", help="where to write the cleaned Parquet file")
    parser.add_argument("--rules", default=str(ROOT / "rules" / "pretrain.yaml"))
    args = parser.parse_args(argv)

    rules = load_rules(args.rules)
    try:
        raw = read_table(args.source)
    except DataReadError as exc:
        print(f"cannot read {exc}", file=sys.stderr)
        return 3
    clean = transform(raw)
    report = validate(clean, rules, name=f"{args.source} (cleaned)")
    try:
        report.raise_for_failures()
    except ValidationFailure as failure:
        print(f"gate failed, nothing written: {failure}", file=sys.stderr)
        print(failure.report.to_json(), file=sys.stderr)
        return 1
    target = Path(args.target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean.to_parquet(target, index=False)
    except OSError as exc:
        print(f"gate passed, but {target} cannot be written: {exc.strerror or exc}", file=sys.stderr)
        return 2

    print(f"{len(raw)} rows read, {len(clean)} kept, gate passed ({len(report.results)} checks), wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
