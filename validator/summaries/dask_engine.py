"""The Dask backend: the streaming engine's summaries computed by dask.dataframe partitions.

Each partition is summarised by the same code as a batch of the streaming engine
(:func:`~validator.summaries.stream._on_batch`, rows numbered globally) and the partition
summaries are merged with the same exact merges, so both engines give the same results for the
same data whatever the partitioning (handed cases H20, H21). Row numbers need each partition's
offset: the lengths of the partitions are computed first (one task per partition).

Inputs are local paths or fsspec URLs that dask reads (``s3://...`` with s3fs, ...).
Needs the optional extra: ``pip install 'pretrain-validator[dask]'``.
"""

from __future__ import annotations

import numpy as np

from .frame import FrameSummaries
from .io import JSONL, PARQUET, TEXT_FORMATS, DataReadError, _extension
from .stream import StreamedSummaries, _key_columns, _merge, _merge_dtypes, _on_batch

INSTALL_HINT = (
    "the dask engine needs the optional extra: pip install 'pretrain-validator[dask]'"
    " (in a checkout: pip install -e '.[dask]')"
)


def read_dask(paths, text_columns=(), columns=None):
    """A dask DataFrame over the shards (sorted), read with the project's value rules.

    Local files become one partition each, read by :func:`~validator.summaries.io.read_table`
    (any mix of CSV/TSV, Parquet and JSON Lines, .gz/.zst; a read error names its shard). URLs
    (``s3://...``) go to dask's own readers by extension (one format per dataset).
    """
    import dask
    import dask.dataframe as dd

    from .io import read_table

    paths = [str(p) for p in paths]
    if not any("://" in p for p in paths):
        def read(path):
            df = read_table(path, text_columns)
            return df if columns is None else df[[c for c in df.columns if c in columns]]

        return dd.from_delayed([dask.delayed(read)(p) for p in paths], verify_meta=False)
    ext = _extension(__import__("pathlib").Path(paths[0]))
    if ext in PARQUET:
        return dd.read_parquet(paths, columns=None if columns is None else sorted(columns), split_row_groups=True)
    if ext in TEXT_FORMATS:
        return dd.read_csv(
            paths, sep=TEXT_FORMATS[ext], keep_default_na=False, na_values=[""], dtype={c: str for c in text_columns} or None,
            blocksize=None, usecols=None if columns is None else (lambda c: c in columns),
        )
    if ext in JSONL:
        return dd.read_json(paths, lines=True, dtype=False, blocksize=None)
    raise DataReadError(paths[0], f"unknown file type {ext or '(no extension)'!r} for the dask engine")


class DaskSummaries(StreamedSummaries):
    """:class:`StreamedSummaries` whose passes run as dask tasks, one per partition."""

    def __init__(self, paths, name: str, text_columns=()):
        super().__init__(paths, name, text_columns)
        self.column_failures = None  # df -> failing declared-column results, set by the engine
        self.column_state: dict = {}

    def compute_pass(self) -> None:
        import dask

        wanted = [k for k in self.wanted if k not in self._cache]
        self.wanted = {}
        project = None
        if wanted and self.column_failures is None:  # declared-column checks read every column
            project = set(self.always_columns)
            for key in wanted:
                project |= _key_columns(key)
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
        outputs = dask.compute(*tasks)
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
