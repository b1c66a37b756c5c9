"""The ``validate-profile`` and ``validate-suggest`` commands (the library is :mod:`validator.profile`).

Exit codes as ``validate``: 0 written, 2 bad invocation or unwritable output (nothing written),
3 a data file or the profile unreadable.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..atomic_write import write_output
from ..errors import DataReadError, ExitCode, OutputError, RuleFileError
from ..profile import dump_yaml, load_profile, profile, suggest
from ..rules.loader import load_rules
from ..summaries.io import expand_paths
from .common import output_problem


def main_profile(argv: list[str] | None = None) -> int:
    """``validate-profile``: profile trusted data into a reference file."""
    p = argparse.ArgumentParser(prog="validate-profile", description="Profile a trusted dataset into a reference file (YAML).")
    p.add_argument("data", nargs="+", help="data files, directories or globs: shards of one dataset")
    p.add_argument("--output", "-o", required=True, help="reference file to write")
    p.add_argument("--max-bins", type=int, default=50, help="cap on numeric bins (default 50)")
    p.add_argument("--max-categories", type=int, default=1000, help="cap on categories per column (default 1000)")
    args = p.parse_args(argv)
    if args.max_bins < 1:
        p.error(f"--max-bins must be >= 1, got {args.max_bins}")
    if args.max_categories < 2:
        p.error(f"--max-categories must be >= 2, got {args.max_categories}")
    try:
        files = expand_paths(args.data)
        problem = output_problem(args.output, files)
        if problem:
            print(f"validate-profile: cannot write --output {args.output}: {problem}", file=sys.stderr)
            return ExitCode.USAGE
        prof = profile(files, args.max_bins, args.max_categories)
    except DataReadError as exc:
        print(f"validate-profile: cannot read data file {exc}", file=sys.stderr)
        return ExitCode.DATA
    try:
        write_output(args.output, dump_yaml(prof))
    except OutputError as exc:
        print(f"validate-profile: cannot write --output {exc}", file=sys.stderr)
        return ExitCode.USAGE
    print(f"profiled {prof['source']['rows']:,} rows, {len(prof['columns'])} columns -> {args.output}"
          + (f" (not profiled: {', '.join(prof['skipped'])})" if prof["skipped"] else ""))
    return ExitCode.PASS


def main_suggest(argv: list[str] | None = None) -> int:
    """``validate-suggest``: a starter rule file from a profile."""
    p = argparse.ArgumentParser(prog="validate-suggest", description="Write a starter rule file from a profile.")
    p.add_argument("profile", help="a reference file written by validate-profile")
    p.add_argument("--output", "-o", required=True, help="rule file to write")
    p.add_argument("--margin", type=float, default=0.1, help="entropy minimum this fraction below the profile (default 0.1)")
    p.add_argument("--js-max", type=float, default=0.05, help="largest JS divergence from the profile, bits (default 0.05)")
    args = p.parse_args(argv)
    if not 0 <= args.margin < 1:
        p.error(f"--margin must be in [0, 1) (a fraction of the profile's entropy), got {args.margin}")
    if not 0 < args.js_max <= 1:
        p.error(f"--js-max must be in (0, 1] bits (the range of the JS divergence), got {args.js_max}")
    problem = output_problem(args.output, [args.profile])
    if problem:
        print(f"validate-suggest: cannot write --output {args.output}: {problem}", file=sys.stderr)
        return ExitCode.USAGE
    try:
        prof = load_profile(args.profile)
    except OSError as exc:
        print(f"validate-suggest: cannot read {args.profile}: {exc.strerror or exc}", file=sys.stderr)
        return ExitCode.DATA
    except ValueError as exc:
        print(f"validate-suggest: {exc}", file=sys.stderr)
        return ExitCode.DATA
    out = Path(args.output)
    if not prof["columns"]:
        why = f" (not profiled: {', '.join(map(str, prof['skipped']))})" if prof.get("skipped") else ""
        print(f"validate-suggest: the profile {args.profile} has no profiled columns{why}: no rules to suggest", file=sys.stderr)
        return ExitCode.DATA
    # relative to the rule file, which is how rule files resolve reference paths: the pair moves together
    relative = os.path.relpath(Path(args.profile).resolve(), out.resolve().parent)
    doc = suggest(relative, prof, args.margin, args.js_max)
    text = f"# Starter rules from {args.profile} (margin {args.margin:g}, JS max {args.js_max:g} bits): review before use.\n" + dump_yaml(doc)
    try:
        load_rules(text=text, source=args.output)  # checked before it is written
    except RuleFileError as exc:  # pragma: no cover - a bug if it happens
        print(f"validate-suggest: the suggested file does not load: {exc}", file=sys.stderr)
        return ExitCode.FAIL
    try:
        write_output(out, text)
    except OutputError as exc:
        print(f"validate-suggest: cannot write --output {exc}", file=sys.stderr)
        return ExitCode.USAGE
    print(f"{len(doc['rules'])} rules -> {args.output}")
    return ExitCode.PASS
