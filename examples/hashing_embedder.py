"""A frozen, model-free text embedder: character n-gram hashing + TF-IDF + SVD(8) + L2.

    texts -> HashingVectorizer(char_wb, 2-4 grams, 2**16 buckets, lowercase)
          -> sublinear tf * idf, row L2 norm          (idf frozen)
          -> @ components.T  (8 x 2**16)            (TruncatedSVD components, frozen)
          -> row L2 norm                              -> e0..e7

The idf vector and the SVD components are fitted ONCE (``fit``) on a reference sample of
texts that appears in none of the example data sets, saved to ``examples/embedder/`` and
then only applied (``FrozenEmbedder.load(...).transform(texts)``): refitting on each data set
would make the spreads of different data sets incomparable. Distance thresholds in
``rules/pretrain.yaml`` are specific to this embedder.

Needs numpy, scipy and scikit-learn (for the hashing function only, when applying).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

N_FEATURES = 2**16
NGRAM_RANGE = (2, 4)
N_COMPONENTS = 8
MODEL_FILE = "hashing_char_wb_svd8.npz"
CONFIG_FILE = "config.json"


def _hasher():
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAM_RANGE,
        n_features=N_FEATURES,
        alternate_sign=False,
        norm=None,
        lowercase=True,
        dtype=np.float64,
    )


def _tf(texts):
    """Sparse sublinear term frequencies 1 + log(count) of the hashed n-grams."""
    x = _hasher().transform(list(texts)).tocsr()
    x.data = 1.0 + np.log(x.data)
    return x


def _l2_rows(m):
    from sklearn.preprocessing import normalize

    return normalize(m, norm="l2", axis=1, copy=True)


@dataclass(frozen=True)
class FrozenEmbedder:
    idf: np.ndarray  # (N_FEATURES,) float32
    components: np.ndarray  # (N_COMPONENTS, N_FEATURES) float32
    config: dict

    @classmethod
    def fit(cls, texts, seed: int = 0, n_iter: int = 10) -> "FrozenEmbedder":
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfTransformer

        texts = list(texts)
        tf = _tf(texts)
        tfidf = TfidfTransformer(norm=None, use_idf=True, smooth_idf=True, sublinear_tf=False).fit(tf)
        idf = tfidf.idf_.astype(np.float32)
        x = _l2_rows(tf.multiply(idf.astype(np.float64)).tocsr())
        svd = TruncatedSVD(n_components=N_COMPONENTS, algorithm="randomized", n_iter=n_iter, random_state=seed)
        svd.fit(x)
        import sklearn

        config = {
            "kind": "char_wb n-gram hashing + tf-idf + truncated SVD + L2",
            "analyzer": "char_wb",
            "ngram_range": list(NGRAM_RANGE),
            "n_features": N_FEATURES,
            "lowercase": True,
            "alternate_sign": False,
            "tf": "sublinear (1 + log count)",
            "idf": "smooth: ln((1 + n) / (1 + df)) + 1",
            "n_components": N_COMPONENTS,
            "svd": {"algorithm": "randomized", "n_iter": n_iter, "random_state": seed},
            "n_reference_texts": len(texts),
            "explained_variance_ratio": [round(float(v), 6) for v in svd.explained_variance_ratio_],
            "fitted_with_scikit_learn": sklearn.__version__,
        }
        return cls(idf=idf, components=svd.components_.astype(np.float32), config=config)

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(directory / MODEL_FILE, idf=self.idf, components=self.components)
        (directory / CONFIG_FILE).write_text(json.dumps(self.config, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> "FrozenEmbedder":
        directory = Path(directory)
        with np.load(directory / MODEL_FILE) as z:
            idf, components = z["idf"], z["components"]
        config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        if idf.shape != (N_FEATURES,) or components.shape != (N_COMPONENTS, N_FEATURES):
            raise ValueError(f"{directory}: embedder arrays have unexpected shapes {idf.shape}, {components.shape}")
        return cls(idf=idf, components=components, config=config)

    def transform(self, texts) -> np.ndarray:
        """Embed texts with the frozen pieces (no refitting): an (n, 8) float64 array, rows of norm 1."""
        x = _l2_rows(_tf(texts).multiply(self.idf.astype(np.float64)).tocsr())
        z = np.asarray(x @ self.components.astype(np.float64).T)
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return z / norms
