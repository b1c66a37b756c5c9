"""The ``validate`` command: parse arguments, run the engine, print, exit with the documented code.

Exit codes (docs/DESIGN.md; :class:`validator.errors.ExitCode`):
  0  every error-severity rule passed
  1  at least one error-severity rule failed or could not be measured
  2  bad invocation or invalid rule file (nothing measured)
  3  a data or reference file could not be read
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from .. import progress
from ..atomic_write import write_output
from ..summaries.references import ReferenceStore
from ..engine import validate
from ..errors import DataReadError, ExitCode, OutputError, RuleFileError
from ..report.html import render_html
from ..report.text import render_json, render_junit, render_markdown, render_text, render_unreadable_markdown
from ..rules.loader import load_rules
from ..summaries.io import expand_paths
from .common import add_version, output_problem



def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="validate",
        description="Measure a dataset against diversity and representativeness rules (entropy, distance "
        "spread, KL divergence from a reference) and exit non-zero when a rule fails.",
        epilog="Exit codes: 0 all error-severity rules passed; 1 a rule failed or could not be measured; "
        "2 bad invocation or invalid rule file; 3 a data or reference file could not be read.",
    )
    p.add_argument("--rules", "-r", required=True, metavar="RULES.yaml", help="rule file (YAML, version 1)")
    p.add_argument("data", nargs="+", metavar="DATA", help="data files (CSV, TSV, Parquet, JSON Lines), directories or globs: shards of one dataset")
    p.add_argument("--each", action="store_true", help="validate each file as its own dataset")
    p.add_argument("--format", "-f", choices=["text", "json", "junit", "markdown", "html"], default="text", help="report format (default text)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout (with another format than text, the text table still goes to stdout)")
    p.add_argument("--engine", choices=["memory", "stream", "dask"], default="memory",
                   help="memory: read the data whole (default); stream: read it in record batches, merging summaries"
                   " (data larger than memory); dask: the same summaries computed by dask.dataframe partitions"
                   " (extra [dask])")
    p.add_argument("--scheduler", metavar="ADDRESS", help="with --engine dask: the address of a running dask scheduler"
                   " (default: dask's local scheduler)")
    p.add_argument("--batch-rows", type=int, default=None, metavar="N", help="rows per batch with --engine stream (default 262144)")
    p.add_argument("--skip-bad-shards", action="store_true",
                   help="with --engine stream: leave out shards that cannot be read (named in the report) instead of stopping with exit 3")
    p.add_argument("--csv-sep", metavar="CHAR", help="field separator of the CSV/TSV data files (default: ',' for .csv,"
                   " a tab for .tsv/.tab); e.g. ';' for spreadsheet exports")
    p.add_argument("--encoding", metavar="CODEC", help="text encoding of the CSV/TSV data files (default utf-8; e.g. cp1252, latin-1)")
    p.add_argument("--cache-dir", metavar="DIR", help="folder of the embedding cache (default $XDG_CACHE_HOME/pretrain-validator,"
                   " else ~/.cache/pretrain-validator): texts embedded by an earlier run are read back, not embedded again")
    p.add_argument("--no-cache", action="store_true", help="embed every text, neither reading nor writing the embedding cache")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars on stderr (they show only on a terminal, after 2 s)")
    add_version(p)
    return p


def _inputs(args, ruleset) -> list:
    """Every file the run reads: the rule file, reference files and the data files that exist."""
    inputs = [Path(args.rules)] + ReferenceStore(ruleset).files()
    inputs += [ruleset.resolve(r.embed.artefact) for r in ruleset.rules if getattr(r, "embed", None) and r.embed.artefact]
    for arg in args.data:  # one path at a time: a missing one must not hide the others
        try:
            inputs += expand_paths([arg])
        except DataReadError:
            pass  # reported (exit 3) when the data is read
    return inputs


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it).

    As the console script (``argv is None``) the process ends with ``os._exit`` after flushing
    its output: tearing down a multi-GB DataFrame and every module at interpreter exit cost
    ~0.2-0.4 s per run (bench/) and changes nothing a user can see.
    """
    code = run(argv)
    if argv is None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # argparse exits with 2 on usage errors
    progress.set_quiet(args.quiet)  # through the module: tests replace progress.set_quiet
    warnings.showwarning = lambda message, *rest, **kw: print(f"validate: {message}", file=sys.stderr)
    if args.scheduler and args.engine != "dask":
        print("validate: --scheduler needs --engine dask", file=sys.stderr)
        return ExitCode.USAGE
    if args.skip_bad_shards and args.engine != "stream":
        print("validate: --skip-bad-shards needs --engine stream", file=sys.stderr)
        return ExitCode.USAGE
    if args.batch_rows is not None and args.engine != "stream":
        print("validate: --batch-rows needs --engine stream", file=sys.stderr)
        return ExitCode.USAGE
    args.batch_rows = 1 << 18 if args.batch_rows is None else args.batch_rows
    if args.batch_rows < 1:
        print(f"validate: --batch-rows must be >= 1, got {args.batch_rows}", file=sys.stderr)
        return ExitCode.USAGE
    if args.no_cache and args.cache_dir is not None:
        print("validate: --no-cache and --cache-dir exclude each other", file=sys.stderr)
        return ExitCode.USAGE
    if args.cache_dir is not None and not args.cache_dir.strip():
        print("validate: --cache-dir needs a folder path, got an empty string", file=sys.stderr)
        return ExitCode.USAGE
    if not args.rules.strip():
        print("validate: --rules needs a rule file path, got an empty string", file=sys.stderr)
        return ExitCode.USAGE
    try:
        ruleset = load_rules(args.rules)
    except RuleFileError as exc:
        print(f"validate: invalid rule file\n{exc}", file=sys.stderr)
        return ExitCode.USAGE
    except OSError as exc:
        print(f"validate: cannot read rule file {args.rules}: {exc.strerror or exc}", file=sys.stderr)
        return ExitCode.USAGE

    if args.output is not None:
        problem = output_problem(args.output, _inputs(args, ruleset))
        if problem:  # said before anything is measured
            print(f"validate: cannot write --output {args.output}: {problem}", file=sys.stderr)
            return ExitCode.USAGE

    unreadable: list[DataReadError] = []
    try:
        if args.each:
            reports = []
            files = []
            for arg in args.data:  # a missing path is one unreadable entry, not the end of the run
                try:
                    files.extend(expand_paths([arg]))
                except DataReadError as exc:
                    unreadable.append(exc)
                    print(f"validate: cannot read {exc.kind} file {exc}", file=sys.stderr)
            for p in sorted(set(files), key=str):
                try:
                    reports.append(validate([p], ruleset, name=str(p), engine=args.engine, batch_rows=args.batch_rows, skip_bad_shards=args.skip_bad_shards, scheduler=args.scheduler, csv_sep=args.csv_sep, encoding=args.encoding, cache=not args.no_cache, cache_dir=args.cache_dir))
                except DataReadError as exc:
                    if exc.kind in ("reference", "embedder"):
                        raise  # the same for every file: stop
                    unreadable.append(exc)  # the other files are still validated and reported
                    print(f"validate: cannot read {exc.kind} file {exc}", file=sys.stderr)
        else:
            reports = [validate(args.data, ruleset, name=", ".join(args.data), engine=args.engine, batch_rows=args.batch_rows, skip_bad_shards=args.skip_bad_shards, scheduler=args.scheduler, csv_sep=args.csv_sep, encoding=args.encoding, cache=not args.no_cache, cache_dir=args.cache_dir)]
    except DataReadError as exc:
        print(f"validate: cannot read {exc.kind} file {exc}", file=sys.stderr)
        return ExitCode.DATA
    except ValueError as exc:  # options the rules cannot honour (--skip-bad-shards with in-memory rules)
        print(f"validate: {exc}", file=sys.stderr)
        return ExitCode.USAGE

    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    text = "\n".join(render_text(r, colour=colour) for r in reports)
    if args.format == "text" and args.output is not None:
        text = "\n".join(render_text(r) for r in reports)  # a file gets no colour codes
    if args.format == "json":
        body = render_json(reports, each=args.each, unreadable=unreadable)
    elif args.format == "junit":
        body = render_junit(reports, unreadable)
    elif args.format == "html":
        body = render_html(reports, unreadable)
    elif args.format == "markdown":
        body = "\n".join([render_markdown(r) for r in reports] + [render_unreadable_markdown(e) for e in unreadable])
    else:
        body = text
    if args.output is not None:
        try:
            write_output(args.output, body)
        except OutputError as exc:
            print(f"validate: cannot write --output {exc}", file=sys.stderr)
            return ExitCode.USAGE
        if args.format != "text":
            sys.stdout.write(text)
    else:
        sys.stdout.write(body)
    if unreadable:
        return ExitCode.DATA
    return ExitCode.PASS if all(r.passed for r in reports) else ExitCode.FAIL


if __name__ == "__main__":  # pragma: no cover
    main()
