"""The engine: ``validate`` and its orchestration (the schema is :mod:`validator.pandera_schema`).

A DataFrame passed to ``validate`` runs through the rule set's pandera schema (``to_pandera``;
``inplace=True``: no copy of the frame); data read from files is measured from its summaries
with the same ``evaluate`` code, and pandera checks only its declared columns. Results are
built by our code from the summaries, not parsed back from pandera's messages; summaries are shared between rules, so each value count, histogram or sample is
computed once per run.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .checks import evaluate, failed_to_measure
from .errors import SkippedRuleWarning  # noqa: F401 - also importable from here, as before the errors room
from .pandera_schema import Evaluation, column_failures, column_results, to_pandera, validate_frame
from .plan import prefetch, run_passes
from .result import Report, Result
from .rules.loader import load_rules
from .rules.ruleset import RuleSet
from .summaries.dask_engine import INSTALL_HINT, DaskSummaries
from .summaries.io import TEXT_FORMATS, UTF8, DataReadError, Dialect, expand_paths, expand_urls, extension, is_url, read_dataset
from .summaries.keys import NeedsPass
from .summaries.references import ReferenceStore
from .summaries.stream import StreamedSummaries


def expand_inputs(paths) -> list:
    """Local paths (directories and globs expanded) and fsspec URLs (globs expanded), in the
    sorted order that numbers the rows of the dataset."""
    local = [p for p in paths if not is_url(str(p))]
    urls = [str(p) for p in paths if is_url(str(p))]
    return (expand_paths(local) if local else []) + (expand_urls(urls) if urls else [])


def _unstreamable(ruleset: RuleSet) -> list[str]:
    """Why rules cannot be measured from merged batch summaries (they need rows together)."""
    why = []
    for rule in ruleset.rules:
        if rule.where:
            why.append(f"rule {rule.id!r} uses 'where'")
        elif rule.group_by:
            why.append(f"rule {rule.id!r} uses 'group_by'")
        elif rule.confidence is not None and getattr(rule, "weight", None):
            why.append(f"rule {rule.id!r} bootstraps weighted rows")
        elif hasattr(rule, "reference") and ruleset.reference_for(rule).kind == "git":
            why.append(f"rule {rule.id!r} compares with a git revision")
    return why


def _text_files_only(paths, csv_sep, encoding) -> None:
    """Refuses --csv-sep / --encoding for data that is not CSV/TSV (Parquet and JSON Lines say
    their own layout and are UTF-8 by definition)."""
    for p in expand_inputs(paths):
        ext = extension(Path(str(p)))
        if ext not in TEXT_FORMATS:
            option = " and ".join(o for o, v in (("--csv-sep", csv_sep), ("--encoding", encoding)) if v is not None)
            raise ValueError(f"{option} applies to CSV/TSV data files only; {p} is {ext[1:] or 'not a table file'}")


def _validate_streaming(
    paths, ruleset: RuleSet, name: str, batch_rows: int, skip_bad_shards: bool = False, scheduler: str | None = None,
    engine: str = "stream", dialect: Dialect = UTF8, cache: bool = False, cache_dir=None,
) -> Report:
    """Measure files in record batches (or dask partitions), merging summaries
    (validator/summaries/stream.py, dask_engine.py) in the passes of validator.plan.run_passes."""

    data_paths = expand_inputs(paths)  # local files and fsspec URLs, globs expanded, sorted
    refs = ReferenceStore(ruleset, data_paths, paths, cache=cache, cache_dir=cache_dir)
    try:
        return _measure_streaming(data_paths, paths, ruleset, name, batch_rows, skip_bad_shards, scheduler, engine, dialect, refs)
    finally:
        refs.close()


def _measure_streaming(data_paths, paths, ruleset, name, batch_rows, skip_bad_shards, scheduler, engine, dialect, refs) -> Report:
    refs.preload()
    client = None
    if engine == "dask":
        try:
            import dask  # noqa: F401
        except ImportError:
            raise ValueError(INSTALL_HINT) from None
        if scheduler:
            from distributed import Client  # optional extra: dask

            try:
                client = Client(scheduler, set_as_default=True, timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise ValueError(f"cannot connect to the dask scheduler at {scheduler}: {type(exc).__name__}: {exc}") from None
        summaries = DaskSummaries(data_paths, name, ruleset.text_columns(), dialect)
        summaries.category_columns = ruleset.category_columns()
    else:
        summaries = StreamedSummaries(data_paths, name, ruleset.text_columns(), batch_rows, skip_bad_shards=skip_bad_shards,
                                      dialect=dialect)
        summaries.category_columns = ruleset.category_columns()
    column_state: dict = {}  # the first failure of each declared column, over all batches
    if ruleset.columns:
        schema = to_pandera(ruleset, state=Evaluation(ruleset, refs, name=name), rule_checks=False)

        def failures(df):
            return column_failures(ruleset, schema, df)

        if engine == "dask":  # run inside the tasks, gathered by the summaries
            summaries.column_failures = failures
            summaries.column_state = column_state
        else:
            summaries.on_batch = lambda df: [column_state.setdefault(r.rule_id, r) for r in failures(df)]

    results: dict = {}
    try:
        run_passes(summaries, ruleset, refs)  # the passes the rules' declarations require
    finally:
        if client is not None:
            client.close()
    for rule in ruleset.rules:
        try:
            results[rule.id] = evaluate(rule, ruleset, summaries, refs)
        except NeedsPass as exc:  # never a silent gap: a summary the rule's needs() did not declare
            results[rule.id] = failed_to_measure(
                rule, f"could not be measured in {summaries.passes} passes over the data: it read {exc.args[0]}, which its"
                " declaration (validator.checks needs) did not name")
    columns = []
    for col, spec in ruleset.columns.items():
        r = column_state.get(f"column:{col}") or Result(
            rule_id=f"column:{col}", metric="column", outcome="passed", params=spec.model_dump(), n=summaries.n_rows
        )
        r.n = summaries.n_rows
        columns.append(r)
    if summaries.skipped:
        for r in columns:
            r.details["partial_data"] = f"{len(summaries.skipped)} of {len(data_paths)} shards skipped (unreadable); checked on the others"
    skipped = [{"path": str(p), "error": e} for p, e in summaries.skipped.items()]
    for r in results.values():
        r.details.setdefault(
            "engine",
            f"dask: {summaries.passes} pass(es) over {summaries.batches} partition(s)" if engine == "dask"
            else f"stream: {summaries.passes} pass(es) over {summaries.batches} batch(es) of <= {batch_rows:,} rows",
        )
        if summaries.footer_ranges:
            r.details.setdefault("ranges_from_parquet_statistics", sorted(set(summaries.footer_ranges)))
        if skipped:
            r.details["partial_data"] = f"{len(skipped)} of {len(data_paths)} shards skipped (unreadable); measured on the others"
    return Report(results=columns + [results[r.id] for r in ruleset.rules], dataset=name, n_rows=summaries.n_rows,
                  rules_source=ruleset.source, skipped_shards=skipped)


def validate(
    data, rules, *, name: str | None = None, engine: str = "memory", batch_rows: int = 1 << 18, skip_bad_shards: bool = False,
    scheduler: str | None = None, csv_sep: str | None = None, encoding: str | None = None,
    cache: bool = True, cache_dir: str | Path | None = None,
) -> Report:
    """Validate a dataset against a rule set.

    Parameters
    ----------
    data : pandas.DataFrame, path, or list of paths
        A frame, or data file(s) (CSV, TSV, Parquet, JSON Lines; several paths are shards of
        one dataset, read in sorted path order).
    rules : RuleSet, path, or dict
        Rules, or anything :func:`~validator.rules.loader.load_rules` accepts.
    name : str, optional
        How the data is named in the report.
    engine : {"memory", "stream", "dask"}
        ``memory`` reads the files whole; ``stream`` in record batches of ``batch_rows`` rows,
        merging summaries (data larger than memory); ``dask`` computes the same summaries per
        dask partition (``scheduler``: the address of a running scheduler, else dask's local
        one). Rules that need rows together are measured in memory, with a warning.
    batch_rows : int
        Rows per batch for ``stream``.
    skip_bad_shards : bool
        ``stream`` only: leave out unreadable shards (listed in ``Report.skipped_shards``).
    scheduler : str, optional
        ``dask`` only.
    csv_sep, encoding : str, optional
        The field separator (one character) and the encoding (a Python codec name) of CSV/TSV
        data files, when not ``,`` / a tab by extension and UTF-8. Reference files are read
        by their own extension, as UTF-8.
    cache : bool, default True
        Read and store text embeddings in the persistent embedding cache
        (:mod:`validator.embed.cache`), so a text embedded by an earlier run with the same
        embedder is not embedded again; False bypasses it. It never changes a value.
    cache_dir : path, optional
        The cache's folder (default ``$XDG_CACHE_HOME/pretrain-validator``, else
        ``~/.cache/pretrain-validator``). An unusable folder gives a warning and the run goes
        on without the cache.

    Returns
    -------
    Report
        One result per declared column and per rule, in rule-file order.

    Raises
    ------
    RuleFileError
        Invalid rules (when given as a path or dict).
    DataReadError
        A data or reference file cannot be read.
    """
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, (int, np.integer)) or batch_rows < 1:
        raise ValueError(f"batch_rows must be an int >= 1, got {batch_rows!r}")
    if not isinstance(cache, (bool, np.bool_)):
        raise TypeError(f"cache must be True or False, got {cache!r}")
    ruleset = rules if isinstance(rules, RuleSet) else load_rules(rules)
    dialect = Dialect(csv_sep, "utf-8" if encoding is None else encoding)  # ValueError naming the option
    data_paths = None
    if isinstance(data, pd.DataFrame):
        df = data
        name = name or "DataFrame"
    else:
        if isinstance(data, (str, Path)):
            paths = [data]
        elif isinstance(data, (list, tuple)) and data and all(isinstance(p, (str, Path)) for p in data):
            paths = list(data)
        else:
            raise TypeError(
                "The 'data' parameter of validate must be a pandas DataFrame, a path or a non-empty list of paths. "
                f"Got {type(data).__name__} instead."
            )
        name = name or ", ".join(str(p) for p in paths)
        if not dialect.default:
            _text_files_only(paths, csv_sep, encoding)
        if engine in ("stream", "dask"):
            why = _unstreamable(ruleset)
            if not why:
                return _validate_streaming(paths, ruleset, name, batch_rows, skip_bad_shards, scheduler, engine, dialect,
                                           cache=cache, cache_dir=cache_dir)
            if skip_bad_shards:
                raise ValueError(f"--skip-bad-shards needs the streaming engine, but: {'; '.join(why)}")
            warnings.warn(f"measured in memory: {'; '.join(why)}", stacklevel=2)
        elif engine != "memory":
            raise ValueError(f"engine must be 'memory', 'stream' or 'dask', got {engine!r}")
        urls = [p for p in paths if is_url(p)]
        if urls:
            reason = "" if engine == "memory" else f" ({'; '.join(_unstreamable(ruleset))})"
            raise DataReadError(urls[0], "fsspec URLs are read by --engine stream or --engine dask, not in memory"
                                f"{reason}; use one of those engines, or copy the files locally")
        data_paths = expand_paths(paths)  # once: a glob that skips a symbolic link loop says so once
        df = read_dataset(data_paths, text_columns=ruleset.text_columns(), category_columns=ruleset.category_columns(), dialect=dialect,
                          columns=ruleset.data_columns())  # other columns may stay unread

    refs = ReferenceStore(ruleset, data_paths, None if data_paths is None else paths, cache=cache, cache_dir=cache_dir)
    try:
        return _validate_memory(data, df, ruleset, name, refs)
    finally:
        refs.close()


def _validate_memory(data, df: pd.DataFrame, ruleset: RuleSet, name: str, refs: ReferenceStore) -> Report:
    """The in-memory run of :func:`validate` on a frame (given, or read from ``data``'s files)."""
    state = Evaluation(ruleset, refs, name=name)
    state.references.preload()  # unreadable reference files and profiles fail fast (exit 3)

    if isinstance(data, pd.DataFrame):
        # A frame from the caller runs through the compiled pandera schema, rule checks included.
        schema = to_pandera(ruleset, state=state)
    elif ruleset.columns:
        # Data read from files is measured from its summaries directly (the path that chunked and
        # Dask reading extend); pandera checks only what it is for here, the declared columns.
        # Its schema and backend set-up cost ~0.3 s per run (bench/), paid only when needed.
        schema = to_pandera(ruleset, state=state, rule_checks=False)
    else:
        schema = None
    summaries = state.summaries_for(df)
    if not isinstance(data, pd.DataFrame):
        prefetch(summaries, ruleset, state.references)
    failure_cases = None
    if schema is not None:
        failure_cases = validate_frame(schema, df)
    results = column_results(ruleset, df, failure_cases)
    for rule in ruleset.rules:
        # a check pandera skipped (it should not) is measured here rather than lost
        results.append(state.results.get(rule.id) or evaluate(rule, ruleset, state.summaries_for(df), state.references))
    # pandera's registry keeps the schema until the frame is collected; the schema's checks must
    # not keep the frame alive in turn (that would keep every validated frame for good).
    state.summaries = None
    return Report(results=results, dataset=name, n_rows=len(df), rules_source=ruleset.source)
