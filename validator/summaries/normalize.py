"""Normalising text categories before they are counted (``normalize_values`` in a rule).

"South Sudan " and "South Sudan", or "Café" written with a precomposed é and with e + U+0301,
are one category once normalised (handed case H14). The same function is applied to the
data's categories and to a reference's keys, and categories that become equal are merged.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

_WHITESPACE = re.compile(r"\s+")


def normalize_text(value: str, spec) -> str:
    """One text value under a ``NormalizeValues`` spec: Unicode form, white space, case."""
    if spec.unicode != "none":
        value = unicodedata.normalize(spec.unicode, value)
    if spec.collapse_whitespace and spec.strip:
        value = " ".join(value.split())  # the same as the two steps below (str.split and re's \s: str.isspace), 3x faster
    else:
        if spec.collapse_whitespace:
            value = _WHITESPACE.sub(" ", value)
        if spec.strip:
            value = value.strip()
    if spec.casefold:
        value = value.casefold()
    return value


def merge_normalized(keys: list, counts: np.ndarray, spec, keep=()) -> tuple[list, np.ndarray]:
    """Normalise the text keys (others, and those in ``keep``, unchanged) and add the counts of
    keys that become equal. Returns keys in first-seen order and their counts, shape (K',)."""
    index: dict = {}
    merged: list[float] = []
    out_keys: list = []
    for key, count in zip(keys, counts.tolist()):
        new = normalize_text(key, spec) if isinstance(key, str) and key not in keep else key
        if new in index:
            merged[index[new]] += count
        else:
            index[new] = len(out_keys)
            out_keys.append(new)
            merged.append(count)
    return out_keys, np.asarray(merged, dtype=counts.dtype if counts.dtype.kind == "f" else np.float64)


def normalize_counts(counts: dict, spec, keep=()) -> dict:
    """:func:`merge_normalized` for a ``{key: count}`` mapping."""
    keys, values = merge_normalized(list(counts), np.asarray(list(counts.values()), dtype=np.float64), spec, keep)
    return dict(zip(keys, values.tolist()))
