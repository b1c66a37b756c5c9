"""The Dask backend: the streaming engine's summaries computed by dask.dataframe partitions.

Local shards: one task per file streams it in record batches with the streaming engine's own
per-shard code (:class:`~validator.summaries.stream.ShardPass`: Arrow summaries for Parquet,
memory bounded by the batch, not the file), rows numbered globally; the shard summaries are
merged with the same exact merges, so both engines give the same results whatever the
partitioning (handed cases H20, H21). Row numbers need each shard's offset: the row counts come
first (Parquet footers; text files are counted by a read, one task per file).

fsspec URLs (``s3://...`` with s3fs, ``file://...``) go to dask.dataframe's readers, and each
partition is summarised as one batch (:func:`~validator.summaries.stream._on_batch`).
Needs the optional extra: ``pip install 'pretrain-validator[dask]'``.
"""

from __future__ import annotations

import numpy as np

from .frame import FrameSummaries
from .io import JSONL, PARQUET, TEXT_FORMATS, DataReadError, _extension
from .stream import ShardPass, StreamedSummaries, _key_columns, _merge, _merge_dtypes, _on_batch, iter_frames

INSTALL_HINT = (
    "the dask engine needs the optional extra: pip install 'pretrain-validator[dask]'"
    " (in a checkout: pip install -e '.[dask]')"
)


def read_dask(urls, text_columns=(), columns=None):
    """A dask DataFrame over fsspec URLs (``s3://...``, ``file://...``; globs allowed), read by
    dask.dataframe's own reader for their extension (one format per dataset), with the
    project's value rules for text (only an empty field is missing; ``text_columns`` stay text).
    """
    import dask.dataframe as dd

    urls = [str(p) for p in urls]
    ext = _extension(__import__("pathlib").Path(urls[0]))
    if ext in PARQUET:
        return dd.read_parquet(urls, columns=None if columns is None else sorted(columns), split_row_groups=True)
    if ext in TEXT_FORMATS:
        return dd.read_csv(
            urls, sep=TEXT_FORMATS[ext], keep_default_na=False, na_values=[""], dtype={c: str for c in text_columns} or None,
            blocksize=None, usecols=None if columns is None else (lambda c: c in columns),
        )
    if ext in JSONL:
        return dd.read_json(urls, lines=True, dtype=False, blocksize=None)
    raise DataReadError(urls[0], f"unknown file type {ext or '(no extension)'!r} for the dask engine")


def check_urls(urls) -> None:
    """Every fsspec URL names a file, or a glob that matches some (DataReadError otherwise,
    naming the URL): a missing input is exit 3, never an empty dataset."""
    import fsspec

    for url in urls:
        try:
            fs, _, found = fsspec.core.get_fs_token_paths(url, mode="rb", expand=True)
            folders = [f for f in found if fs.isdir(f)]
            missing = not found or not all(fs.isfile(f) for f in found)
        except ImportError as exc:  # the protocol's package (s3fs, gcsfs, ...) is not installed
            raise DataReadError(url, f"cannot be opened: {exc}") from None
        except Exception as exc:  # fsspec's file systems raise their own types
            raise DataReadError(url, f"cannot be opened: {type(exc).__name__}: {exc}") from None
        if folders:
            raise DataReadError(url, "is a folder; name its files with a glob (e.g. .../*.parquet)")
        if missing:
            raise DataReadError(url, "the pattern matches no file" if any(c in url for c in "*?[") else "no such file")


def count_rows(path: str, text_columns=(), batch_rows: int = 1 << 18) -> int:
    """Rows of one local shard: a Parquet footer's count, else a batch-by-batch read."""
    from pathlib import Path

    p = Path(path)
    if _extension(p) in PARQUET and p.is_file():
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(p).metadata.num_rows
        except Exception:  # unreadable: the summary task reads it and names the error
            pass
    return sum(len(df) for df in iter_frames(p, text_columns, batch_rows))


def summarise_shard(path: str, offset: int, keys, name: str, text_columns, batch_rows: int, project, failures):
    """One dask task: the wanted summaries of one local shard, streamed in record batches.

    Returns (summaries, dtypes, failing declared-column results, rows, columns)."""
    from pathlib import Path

    found: dict = {}

    def check(df):
        for r in failures(df):
            found.setdefault(r.rule_id, r)

    shard = ShardPass(keys, name, offset, check if failures is not None else None)
    for item in iter_frames(Path(path), text_columns, batch_rows, project, arrow=True):
        shard.add(item)
    return shard.values, shard.dtypes, list(found.values()), shard.n_rows, shard.columns


def compute_with_progress(tasks, description: str, unit: str = "shards") -> tuple:
    """``dask.compute(*tasks)`` with a progress bar of finished tasks on stderr (the project's
    Progress: terminal only, after 2 s, not with --quiet): futures as they complete on a
    distributed client, a scheduler callback on dask's local schedulers."""
    import dask

    from ..progress import Progress

    with Progress(description, unit=unit) as progress:
        try:
            from distributed import as_completed, get_client

            client = get_client()
        except (ImportError, ValueError):  # no distributed client: dask's local scheduler
            client = None
        if client is not None:
            futures = client.compute(list(tasks))
            for done, _ in enumerate(as_completed(futures), start=1):
                progress(done, len(futures))
            return tuple(client.gather(futures))
        from dask.callbacks import Callback

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

    def __init__(self, paths, name: str, text_columns=()):
        super().__init__(paths, name, text_columns)
        check_urls([p for p in self.paths if isinstance(p, str)])
        self.column_failures = None  # df -> failing declared-column results, set by the engine
        self.column_state: dict = {}

    def compute_pass(self) -> None:
        import dask

        wanted = [k for k in self.wanted if k not in self._cache]
        self.wanted = {}
        project = None
        if wanted and self.column_failures is None:  # declared-column checks read every column
            project = {c for c in self.always_columns if c not in self.dtypes}  # dtypes not known yet
            for key in wanted:
                project |= _key_columns(key)
        if not any("://" in str(p) for p in self.paths):
            self._local_pass(wanted, project)
            return
        try:
            ddf = read_dask(self.paths, self.text_columns, project if project else None)
            parts = ddf.to_delayed()
            lengths = dask.compute(*[dask.delayed(len)(p) for p in parts])
        except DataReadError:
            raise
        except Exception as exc:  # dask, fsspec and pyarrow raise their own types (URL inputs)
            where = ", ".join(map(str, self.paths[:3])) + (" ..." if len(self.paths) > 3 else "")
            raise DataReadError(where, f"cannot be read by dask: {type(exc).__name__}: {exc}") from None
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        name = self.name

        failures = self.column_failures  # declared-column checks, run where each partition is

        def summarise(df, offset, keys):
            fs = FrameSummaries(df, name=name, row_ids=np.arange(offset, offset + len(df)))
            dtypes = {c: df[c].dtype for c in df.columns}
            found = failures(df) if failures is not None else []
            if len(df) == 0:  # an empty partition adds nothing (its summaries would be errors)
                return {}, dtypes, found
            return {key: _on_batch(fs, key) for key in keys}, dtypes, found

        tasks = [dask.delayed(summarise)(p, int(o), wanted) for p, o in zip(parts, offsets[:-1])]
        outputs = compute_with_progress(tasks, f"dask pass {self.passes + 1}", unit="partitions")
        self.column_failures = None  # checked once
        merged: dict = {}
        dtypes: dict = {}
        for out, types, found in outputs:
            for r in found:
                self.column_state.setdefault(r.rule_id, r)
            for key, value in out.items():
                merged[key] = value if key not in merged else _merge(key, merged[key], value)
            _merge_dtypes(dtypes, types)
        self.batches += len(parts)
        self._finish_pass(wanted, merged, dtypes, list(dtypes), int(offsets[-1]), read_all=project is None)

    def _local_pass(self, wanted, project) -> None:
        """A pass over local shards: row counts, then one streaming task per shard."""
        import dask

        paths = [str(p) for p in self.paths]
        lengths = compute_with_progress(
            [dask.delayed(count_rows)(p, tuple(self.text_columns), self.batch_rows) for p in paths], "dask: counting rows"
        )
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        tasks = [
            dask.delayed(summarise_shard)(p, int(o), wanted, self.name, tuple(self.text_columns), self.batch_rows, project,
                                          self.column_failures)
            for p, o in zip(paths, offsets[:-1])
        ]
        outputs = compute_with_progress(tasks, f"dask pass {self.passes + 1}")
        self.column_failures = None  # checked once
        merged: dict = {}
        dtypes: dict = {}
        columns = None
        for values, types, found, _, cols in outputs:
            for r in found:
                self.column_state.setdefault(r.rule_id, r)
            for key, value in values.items():
                merged[key] = value if key not in merged else _merge(key, merged[key], value)
            _merge_dtypes(dtypes, types)
            columns = columns if columns is not None else cols
        self.batches += len(paths)
        self._finish_pass(wanted, merged, dtypes, columns or list(dtypes), int(offsets[-1]), read_all=project is None)
