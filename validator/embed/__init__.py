"""Text embedders: rows of text -> feature vectors for the distance and diversity rules.

- ``hashing.py``: the frozen, model-free hashing embedder (char n-gram hashing + TF-IDF + SVD),
  fitted once into a ``.npz`` artefact (``validate-embed``, whose command is :mod:`validator.cli.embed`);
- ``models.py``: the optional pretrained embedders (``minilm``, ``e5``), imported only when a
  rule names one (extras ``[minilm]``, ``[e5]``).

May import: :mod:`validator.errors`, :mod:`validator.atomic_write`, numpy, scikit-learn and the
optional extras. Never rules, summaries, checks, engine or cli.
"""
