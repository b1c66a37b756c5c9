"""Summaries: the only code that reads data. Readers (``io.py``, ``arrow_batch.py``) and the
sufficient statistics the metrics need (value counts, histograms on frozen edges, seeded row
samples, text statistics), for a frame in memory (``frame.py``), merged over record batches
(``stream.py``) or dask partitions (``dask_engine.py``).

May import: :mod:`validator.errors`, :mod:`validator.rules.model`, :mod:`validator.metrics`
(numeric kernels), :mod:`validator.progress`, :mod:`validator.atomic_write`. Never checks,
engine, report or cli.
"""
