"""The Dask backend: the streaming engine's summaries computed by dask.dataframe partitions.

One task per shard (a local file, or an fsspec URL such as ``s3://...`` with s3fs, opened by
fsspec) streams it in record batches with the streaming engine's own per-shard code
(:class:`~validator.summaries.stream.ShardPass`: the project's reader, Arrow summaries for
Parquet, memory bounded by the batch, not the file), rows numbered globally; the shard
summaries are merged with the same exact merges, so both engines give the same results whatever
the partitioning (handed cases H20, H21). Row numbers need each shard's offset: the row counts
come first (Parquet footers; text files are counted by a read, one task per file), with each
shard's columns, which must be those of the first.
Needs the optional extra: ``pip install 'pretrain-validator[dask]'``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..progress import Progress
from .batches import columns_differ, iter_frames, shard_header
from .io import UTF8, DataReadError, Dialect
from .merge import merge
from .stream import ShardPass, StreamedSummaries, merge_dtypes

INSTALL_HINT = (
    "the dask engine needs the optional extra: pip install 'pretrain-validator[dask]'"
    " (in a checkout: pip install -e '.[dask]')"
)


def shard_info(path: str, text_columns=(), batch_rows: int = 1 << 18, dialect: Dialect = UTF8) -> tuple[int, list | None]:
    """Rows and columns of one local shard: a Parquet footer's count and schema, else a
    batch-by-batch read (CSV/TSV columns from the header, JSON Lines from the batches)."""

    p = path if "://" in path else Path(path)
    names, rows = shard_header(p, dialect)
    if rows is not None:  # a Parquet footer; an unreadable file is read below, naming the error
        return rows, names
    rows, seen = 0, {}
    # a CSV/TSV shard's rows counted from one column (every record is still parsed and checked)
    for df in iter_frames(p, text_columns, batch_rows, columns=names[:1] if names else None, dialect=dialect):
        rows += len(df)
        if names is None and len(df):  # JSON Lines: the keys of all its lines, in order of appearance
            seen.update(dict.fromkeys(df.columns))
    return rows, names if names is not None else (list(seen) or None)


def _or_error(fn):
    """``fn`` as a task that returns its DataReadError instead of raising it, so that the driver
    names the first unreadable shard in path order (tasks finish in any order)."""

    def task(*args):
        try:
            return fn(*args)
        except DataReadError as exc:
            return exc

    return task


def _first_error(outputs) -> None:
    for out in outputs:
        if isinstance(out, DataReadError):
            raise out


def summarise_shard(path: str, offset: int, keys, name: str, text_columns, batch_rows: int, project, failures,
                    all_columns=None, dialect: Dialect = UTF8):
    """One dask task: the wanted summaries of one local shard, streamed in record batches.

    Returns (summaries, dtypes, failing declared-column results, rows, columns)."""

    found: dict = {}

    def check(df):
        for r in failures(df):
            found.setdefault(r.rule_id, r)

    shard = ShardPass(keys, name, offset, check if failures is not None else None, all_columns=all_columns)
    for item in iter_frames(path if "://" in path else Path(path), text_columns, batch_rows, project, arrow=True, dialect=dialect):
        shard.add(item)
    return shard.values, shard.dtypes, list(found.values()), shard.n_rows, shard.columns


def compute_with_progress(tasks, description: str, unit: str = "shards") -> tuple:
    """``dask.compute(*tasks)`` with a progress bar of finished tasks on stderr (the project's
    Progress: terminal only, after 2 s, not with --quiet): futures as they complete on a
    distributed client, a scheduler callback on dask's local schedulers."""
    import dask  # optional extra: dask

    with Progress(description, unit=unit) as progress:
        try:
            from distributed import as_completed, get_client  # optional extra: dask

            client = get_client()
        except (ImportError, ValueError):  # no distributed client: dask's local scheduler
            client = None
        if client is not None:
            futures = client.compute(list(tasks))
            for done, _ in enumerate(as_completed(futures), start=1):
                progress(done, len(futures))
            return tuple(client.gather(futures))
        from dask.callbacks import Callback  # optional extra: dask

        class _Count(Callback):
            def _start(self, dsk):
                self.total, self.done = len(dsk), 0

            def _posttask(self, key, result, dsk, state, worker_id):
                self.done += 1
                progress(self.done, self.total)

        with _Count():
            return dask.compute(*tasks)


class DaskSummaries(StreamedSummaries):
    """:class:`StreamedSummaries` whose passes run as dask tasks, one per partition."""

    def __init__(self, paths, name: str, text_columns=(), dialect: Dialect = UTF8):
        super().__init__(paths, name, text_columns, dialect=dialect)
        self.column_failures = None  # df -> failing declared-column results, set by the engine
        self.column_state: dict = {}

    def compute_pass(self, keys) -> None:
        """One pass as dask tasks, one per shard, computing the summaries ``keys``."""
        if self.column_failures is not None:  # declared-column checks read every column
            self.on_batch = self.column_failures
        wanted, project = self._pass_of(keys)
        self.read_columns |= project or set()
        self.on_batch = None
        self._local_pass(wanted, project)

    def _local_pass(self, wanted, project) -> None:
        """A pass: row counts and columns, then one streaming task per shard."""
        import dask  # optional extra: dask

        # absolute: the workers of a cluster may run in another directory
        paths = [p if isinstance(p, str) else str(p.absolute()) for p in self.paths]
        info = getattr(self, "_shard_info", None)  # rows and columns do not change between passes
        if info is None:
            info = compute_with_progress(
                [dask.delayed(_or_error(shard_info))(p, tuple(self.text_columns), self.batch_rows, self.dialect) for p in paths],
                "dask: counting rows",
            )
            _first_error(info)
            self._shard_info = info
        first = next(((p, names) for p, (_, names) in zip(paths, info) if names is not None), None)
        for p, (_, names) in zip(paths, info):
            differ = columns_differ(p, names, *first) if first is not None else None
            if differ is not None:
                raise differ
        offsets = np.concatenate([[0], np.cumsum([rows for rows, _ in info])]).astype(np.int64)
        tasks = [
            dask.delayed(_or_error(summarise_shard))(p, int(o), wanted, self.name, tuple(self.text_columns), self.batch_rows,
                                                     project, self.column_failures, names, self.dialect)
            for p, o, (_, names) in zip(paths, offsets[:-1], info)
        ]
        outputs = compute_with_progress(tasks, f"dask pass {self.passes + 1}")
        _first_error(outputs)
        self.column_failures = None  # checked once
        merged: dict = {}
        dtypes: dict = {}
        columns = None
        for values, types, found, _, cols in outputs:
            for r in found:
                self.column_state.setdefault(r.rule_id, r)
            for key, value in values.items():
                merged[key] = value if key not in merged else merge(key, merged[key], value)
            merge_dtypes(dtypes, types)
            self._note_kinds(types)
            columns = columns if columns is not None else cols
        self.batches += len(paths)
        self._finish_pass(wanted, merged, dtypes, columns or list(dtypes), int(offsets[-1]), read_all=project is None)
