"""Summaries: the only code that reads data. Readers (``io.py`` whole files, ``batches.py``
batch by batch, ``arrow_batch.py`` Arrow buffers), reference data (``references.py``: files,
git revisions, profiles read by ``profile_file.py``, embedders) and the sufficient statistics
the metrics need (value counts, histograms on frozen edges, seeded row samples, text
statistics), each named by a ``SummaryKey`` (``keys.py``) and computed and merged by one table
per kind (``merge.py``): for a frame in memory (``frame.py``), merged over record batches in
passes (``stream.py``) or dask partitions (``dask_engine.py``).

May import: :mod:`validator.errors`, :mod:`validator.rules` (the model, ``RuleSet``, the YAML
reader), :mod:`validator.metrics`
(numeric kernels), :mod:`validator.progress`, :mod:`validator.atomic_write`, :mod:`validator.embed` (frozen
embedders of references). Never checks, plan, engine, report or cli.
"""
