"""Tests of summaries and their readers: CSV/TSV/JSON Lines/Parquet reading, Arrow batches, streaming, dask, row samples, histograms, git references (validator/summaries/)."""
