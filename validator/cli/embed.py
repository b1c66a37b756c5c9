"""The ``validate-embed`` command: fit the hashing embedder once on a reference sample, or show
what an artefact holds.

    validate-embed fit REFERENCE... --column text --output rules/hashing-embedder.npz
    validate-embed info rules/hashing-embedder.npz

Exit codes as ``validate``: 0 done, 2 bad invocation (nothing written), 3 an input unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..embed.hashing import DEFAULT_BUCKETS, DEFAULT_COMPONENTS, HashingEmbedder
from ..errors import DataReadError, EmbedderError, ExitCode, OutputError
from ..summaries.io import expand_paths, read_dataset
from ..summaries.text import text_rows
from .common import add_version, output_problem


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="validate-embed",
        description="Fit the model-free hashing embedder (char n-gram hashing + TF-IDF + SVD) once on a reference "
        "sample of texts and save it as a small .npz artefact that rules name with embed: {embedder: hashing, "
        "artefact: FILE}. Applying it never refits, so spreads measured with one artefact are comparable.",
    )
    add_version(p)
    sub = p.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="fit an artefact on reference texts")
    fit.add_argument("reference", nargs="+", metavar="REFERENCE", help="files, directories or globs holding the reference texts")
    fit.add_argument("--column", "-c", required=True, help="the text column")
    fit.add_argument("--output", "-o", required=True, metavar="FILE.npz", help="artefact to write")
    fit.add_argument("--components", type=int, default=DEFAULT_COMPONENTS, help=f"embedding dimension (default {DEFAULT_COMPONENTS})")
    fit.add_argument("--buckets", type=int, default=DEFAULT_BUCKETS, help=f"hash buckets, a power of two (default {DEFAULT_BUCKETS})")
    fit.add_argument("--seed", type=int, default=0, help="seed of the randomized SVD (default 0)")
    fit.add_argument("--force", action="store_true", help="replace an existing artefact (thresholds measured with it no longer apply)")
    info = sub.add_parser("info", help="print an artefact's content hash and how it was fitted (JSON)")
    info.add_argument("artefact", metavar="FILE.npz")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "info":
        return _info(args)
    return _fit(args)


def _info(args) -> int:
    try:
        emb = HashingEmbedder.load(args.artefact)
    except EmbedderError as exc:
        print(f"validate-embed: cannot read embedder file {exc}", file=sys.stderr)
        return ExitCode.DATA
    print(json.dumps({"sha256": emb.sha256, "dimension": emb.dimension, "config": emb.config}, indent=2, ensure_ascii=False))
    return ExitCode.PASS


def _fit(args) -> int:
    out = Path(args.output)
    if out.suffix != ".npz":
        print(f"validate-embed: --output {args.output}: an artefact is a .npz file; name it FILE.npz", file=sys.stderr)
        return ExitCode.USAGE
    if not 0 <= args.seed <= 2**32 - 1:
        print(f"validate-embed: --seed must be between 0 and 2**32 - 1, got {args.seed}", file=sys.stderr)
        return ExitCode.USAGE
    try:
        files = expand_paths(args.reference)
    except DataReadError as exc:
        print(f"validate-embed: cannot read {exc.kind} file {exc}", file=sys.stderr)
        return ExitCode.DATA
    problem = output_problem(args.output, files)
    if problem is None and out.exists() and not args.force:
        problem = "it exists; an artefact is fitted once (rules' thresholds depend on it): give --force to replace it"
    if problem:
        print(f"validate-embed: cannot write --output {args.output}: {problem}", file=sys.stderr)
        return ExitCode.USAGE
    try:
        df = read_dataset(files, text_columns={args.column})
    except DataReadError as exc:
        print(f"validate-embed: cannot read {exc.kind} file {exc}", file=sys.stderr)
        return ExitCode.DATA
    if args.column not in df.columns:
        print(f"validate-embed: column {args.column!r} not found in {', '.join(map(str, files))} (columns: {', '.join(map(str, df.columns))})", file=sys.stderr)
        return ExitCode.USAGE
    rows = text_rows(df[args.column], None)
    try:
        emb = HashingEmbedder.fit(
            rows.texts,
            n_components=args.components,
            n_features=args.buckets,
            seed=args.seed,
            extra_config={"reference_files": [str(f) for f in files], "reference_column": args.column,
                          "excluded_rows": rows.excluded},
        )
    except ValueError as exc:
        skipped = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in rows.excluded.items() if v)
        print(f"validate-embed: {exc}" + (f" (rows left out: {skipped})" if skipped else ""), file=sys.stderr)
        return ExitCode.USAGE
    try:
        sha = emb.save(out)
    except OutputError as exc:
        print(f"validate-embed: cannot write --output {exc}", file=sys.stderr)
        return ExitCode.USAGE
    skipped = ", ".join(f"{v} {k}" for k, v in rows.excluded.items() if v)
    print(
        f"fitted on {len(rows.texts):,} texts{f' (left out: {skipped})' if skipped else ''}: {emb.dimension} dimensions,"
        f" {args.buckets} buckets -> {out} ({out.stat().st_size / 1024:.0f} KiB, sha256 {sha})"
    )
    return ExitCode.PASS


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
