"""The model-free text embedder: character n-gram hashing + TF-IDF + truncated SVD + L2.

::

    texts -> HashingVectorizer(char_wb, 2-4 grams, B buckets, lowercase)    (no vocabulary)
          -> sublinear tf (1 + ln count) * idf, row L2 norm                  (idf frozen)
          -> @ components.T   (k x B)                                        (SVD frozen)
          -> row L2 norm                                                     -> (n, k) float64

The idf vector and the SVD components are fitted ONCE on a reference sample
(:meth:`HashingEmbedder.fit`, command ``validate-embed fit``) and saved as one ``.npz``
artefact; applying it (:meth:`HashingEmbedder.transform`) never refits, so the spreads of
different datasets measured with one artefact are comparable, and thresholds are specific to
the artefact. Character n-grams inside word boundaries need no tokenizer or vocabulary, so the
embedder works for every script.

Sources: feature hashing, Weinberger et al. (2009), "Feature Hashing for Large Scale Multitask
Learning", ICML; TF-IDF, Manning, Raghavan & Schuetze (2008), *Introduction to Information
Retrieval*, ch. 6; latent semantic analysis by truncated SVD, Deerwester et al. (1990),
randomized as in Halko, Martinsson & Tropp (2011), SIAM Review 53(2).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic_write import atomic_writer
from ..errors import EmbedderError

FORMAT = "pretrain-validator/hashing-embedder"
FORMAT_VERSION = 1
NGRAM_RANGE = (2, 4)
DEFAULT_BUCKETS = 2**16
MAX_BUCKETS = 2**18
DEFAULT_COMPONENTS = 8
MAX_ARTEFACT_BYTES = 10 * 2**20  # uncompressed arrays; the .npz on disk is smaller


def _hasher(n_features: int):
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAM_RANGE,
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        lowercase=True,
        dtype=np.float64,
    )


def _tf(texts: list[str], n_features: int):
    """Sparse (n, B) sublinear term frequencies ``1 + ln(count)`` of the hashed n-grams."""
    x = _hasher(n_features).transform(texts).tocsr()
    x.data = 1.0 + np.log(x.data)
    return x


def _l2_rows(m):
    from sklearn.preprocessing import normalize

    return normalize(m, norm="l2", axis=1, copy=True)


#: The config entries that change what :meth:`HashingEmbedder.transform` computes; provenance
#: (reference files, fitting statistics, library versions) is kept in the artefact but not hashed,
#: so refitting the same sample with the same parameters gives the same hash.
TRANSFORM_KEYS = ("format", "format_version", "analyzer", "ngram_range", "n_features", "lowercase", "alternate_sign", "tf", "n_components")


def _content_hash(idf: np.ndarray, components: np.ndarray, config: dict) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({k: config.get(k) for k in TRANSFORM_KEYS}, sort_keys=True, ensure_ascii=True).encode())
    for a in (idf, components):
        a = np.ascontiguousarray(a, dtype="<f4")
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class HashingEmbedder:
    """A frozen hashing + TF-IDF + SVD embedder.

    Attributes
    ----------
    idf : ndarray of float32, shape (B,)
        Smoothed inverse document frequency of each hash bucket, ``ln((1 + N) / (1 + df)) + 1``.
    components : ndarray of float32, shape (k, B)
        Right singular vectors of the reference sample's TF-IDF matrix.
    config : dict
        How it was fitted (JSON-serialisable); includes the format and its version.
    sha256 : str
        Content hash of the arrays and the transform's settings (not of the file's zip metadata
        or provenance): the identity reported with every result measured with this embedder.
    """

    idf: np.ndarray
    components: np.ndarray
    config: dict
    sha256: str = field(default="", compare=False)
    path: str | None = field(default=None, compare=False)

    name = "hashing"

    def encode(self, texts, progress=None) -> np.ndarray:
        """:meth:`transform` under the name every embedder shares."""
        return self.transform(texts, progress=progress)

    @property
    def dimension(self) -> int:
        return int(self.components.shape[0])

    @property
    def identity(self) -> dict:
        """What a report records about the embedder."""
        return {
            "embedder": "hashing",
            "artefact": self.path,
            "sha256": self.sha256,
            "dimension": self.dimension,
            "n_features": int(self.idf.shape[0]),
            "n_reference_texts": self.config.get("n_reference_texts"),
        }

    @classmethod
    def fit(
        cls,
        texts,
        *,
        n_components: int = DEFAULT_COMPONENTS,
        n_features: int = DEFAULT_BUCKETS,
        seed: int = 0,
        n_iter: int = 10,
        extra_config: dict | None = None,
    ) -> "HashingEmbedder":
        """Fit the idf and SVD on a reference sample of texts (the only fit; never on the data).

        Parameters
        ----------
        texts : sequence of str, length N
            The reference sample; at least ``n_components + 1`` non-empty texts.
        n_components : int
            Output dimension k.
        n_features : int
            Hash buckets B, a power of two at most 2**18; ``k * B * 4`` bytes must stay under
            10 MiB so that the artefact is small enough to ship beside the rules.
        seed, n_iter : int
            Randomized SVD seed and power iterations (deterministic for a given seed).

        Raises
        ------
        ValueError
            Too few texts, a bucket count that is not a power of two or too large, or an
            artefact that would exceed 10 MiB.
        """
        from sklearn.decomposition import TruncatedSVD

        texts = [t for t in texts]
        if n_features & (n_features - 1) or not 2**10 <= n_features <= MAX_BUCKETS:
            raise ValueError(f"the number of hash buckets must be a power of two between 1024 and {MAX_BUCKETS}; got {n_features}")
        if n_components < 1:
            raise ValueError(f"the number of components must be at least 1; got {n_components}")
        size = (n_components + 1) * n_features * 4
        if size > MAX_ARTEFACT_BYTES:
            raise ValueError(
                f"{n_components} components x {n_features} buckets take {size / 2**20:.1f} MiB; the artefact must stay under"
                f" {MAX_ARTEFACT_BYTES / 2**20:.0f} MiB: use fewer buckets or components"
            )
        if len(texts) <= n_components:
            raise ValueError(f"fitting {n_components} components needs more than {n_components} reference texts; got {len(texts)}")
        tf = _tf(texts, n_features)
        n = tf.shape[0]
        df = np.bincount(tf.indices, minlength=n_features)
        idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        x = _l2_rows(tf.multiply(idf.astype(np.float64)).tocsr())
        svd = TruncatedSVD(n_components=n_components, algorithm="randomized", n_iter=n_iter, random_state=seed)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the checks below say what went wrong
            svd.fit(x)
        ratios = np.asarray(svd.explained_variance_ratio_, dtype=np.float64)
        if not np.isfinite(ratios).all() or not np.any(svd.components_, axis=1).all() or np.min(svd.singular_values_) <= 1e-9:
            raise ValueError(
                f"the reference texts are too alike to fit {n_components} components (their TF-IDF vectors span fewer"
                " dimensions): use a larger, more varied reference sample or fewer --components"
            )
        import sklearn

        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": "char_wb n-gram hashing + tf-idf + truncated SVD + L2",
            "analyzer": "char_wb",
            "ngram_range": list(NGRAM_RANGE),
            "n_features": n_features,
            "lowercase": True,
            "alternate_sign": False,
            "tf": "sublinear (1 + ln count)",
            "idf": "smooth: ln((1 + n) / (1 + df)) + 1",
            "n_components": n_components,
            "svd": {"algorithm": "randomized", "n_iter": n_iter, "random_state": seed},
            "n_reference_texts": n,
            "explained_variance_ratio": [round(float(v), 6) for v in svd.explained_variance_ratio_],
            "fitted_with_scikit_learn": sklearn.__version__,
            **(extra_config or {}),
        }
        return cls.from_arrays(idf, svd.components_.astype(np.float32), config)

    @classmethod
    def from_arrays(cls, idf, components, config: dict, path: str | None = None) -> "HashingEmbedder":
        idf = np.asarray(idf, dtype=np.float32)
        components = np.asarray(components, dtype=np.float32)
        return cls(idf=idf, components=components, config=config, sha256=_content_hash(idf, components, config), path=path)

    def save(self, path: str | Path) -> str:
        """Write the artefact (one compressed ``.npz``, whole or not at all); returns its content hash.

        Raises
        ------
        validator.errors.OutputError
            It cannot be written (the target is then unchanged).
        """
        # written next to the target and renamed: a failed write never leaves a truncated artefact
        with atomic_writer(path) as fh:
            np.savez_compressed(fh, idf=self.idf, components=self.components, config=np.array(json.dumps(self.config, sort_keys=True)))
        return self.sha256

    @classmethod
    def load(cls, path: str | Path) -> "HashingEmbedder":
        """Read an artefact written by :meth:`save`.

        Raises
        ------
        EmbedderError
            The file is missing, not an embedder artefact, corrupt, or of another format version.
        """
        path = Path(path)
        if path.is_dir():
            raise EmbedderError(path, "is a directory, not an embedder artefact (.npz)")
        if not path.is_file():
            raise EmbedderError(path, f"embedder artefact not found (fit one with: validate-embed fit REFERENCE --column TEXT --output {path})")
        if not zipfile.is_zipfile(path):
            raise EmbedderError(path, "corrupt or not an embedder artefact: not a readable .npz (zip) archive (truncated, or another kind of file)")
        try:
            with zipfile.ZipFile(path) as archive:  # sizes as the archive declares them: no decompression bomb is read
                declared = sum(info.file_size for info in archive.infolist())
            if declared > 2 * MAX_ARTEFACT_BYTES:
                raise EmbedderError(path, f"corrupt or not an embedder artefact: its arrays take {declared / 2**20:.0f} MiB"
                                          f" uncompressed, an artefact at most {MAX_ARTEFACT_BYTES / 2**20:.0f} MiB")
            with np.load(path, allow_pickle=False) as z:
                names = set(z.files)
                if not {"idf", "components", "config"} <= names:
                    raise EmbedderError(
                        path, f"not a hashing-embedder artefact: expected arrays idf, components, config; found {sorted(names)}"
                    )
                idf, components, config = z["idf"], z["components"], json.loads(str(z["config"]))
        except EmbedderError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile, zlib.error, KeyError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            kind = "zlib.error" if isinstance(exc, zlib.error) else type(exc).__name__  # a bad compressed stream
            raise EmbedderError(path, f"corrupt or not an embedder artefact ({kind}: {exc})") from None
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise EmbedderError(path, f"not a hashing-embedder artefact (format {config.get('format') if isinstance(config, dict) else None!r})")
        version = config.get("format_version")
        if version != FORMAT_VERSION:
            raise EmbedderError(
                path, f"artefact format version {version!r}, this version of the tool reads version {FORMAT_VERSION};"
                " refit it with validate-embed fit (thresholds measured with the old one no longer apply)"
            )
        b = config.get("n_features")
        k = config.get("n_components")
        if (
            not isinstance(b, int) or isinstance(b, bool) or b & (b - 1) or not 2**10 <= b <= MAX_BUCKETS
            or not isinstance(k, int) or isinstance(k, bool) or k < 1 or (k + 1) * b * 4 > MAX_ARTEFACT_BYTES
        ):
            raise EmbedderError(
                path, f"corrupt artefact: its config gives n_features {b!r} and n_components {k!r}; expected a power of two"
                f" from 1024 to {MAX_BUCKETS} and k >= 1 with (k + 1) x n_features x 4 bytes under 10 MiB"
            )
        if idf.dtype != np.float32 or components.dtype != np.float32 or idf.shape != (b,) or components.ndim != 2 or components.shape[1] != b:
            raise EmbedderError(
                path, f"corrupt artefact: expected idf float32 ({b},) and components float32 (k, {b}); found"
                f" {idf.dtype} {idf.shape} and {components.dtype} {components.shape}"
            )
        if components.shape[0] != k:
            raise EmbedderError(path, f"corrupt artefact: config gives {k} components, the array holds {components.shape[0]}")
        if not (np.isfinite(idf).all() and np.isfinite(components).all()):
            raise EmbedderError(path, "corrupt artefact: non-finite values in its arrays")
        if not np.any(components, axis=1).all():
            raise EmbedderError(path, "corrupt artefact: a component is all zeros (every text would embed alike)")
        return cls.from_arrays(idf, components, config, path=str(path))

    def transform(self, texts, batch_size: int = 4096, progress=None) -> np.ndarray:
        """Embed texts with the frozen pieces (no refitting).

        Parameters
        ----------
        texts : sequence of str, length n
        batch_size : int
            Texts hashed at a time (memory is O(batch_size x mean text length)).
        progress : callable(done, total), optional
            Called after each batch.

        Returns
        -------
        numpy.ndarray, shape (n, k), float64
            Rows of Euclidean norm 1; a text with no character n-gram (empty, or one
            character) maps to the zero vector.
        """
        texts = list(texts)
        n = len(texts)
        b = self.idf.shape[0]
        idf = self.idf.astype(np.float64)
        comp_t = self.components.astype(np.float64).T
        out = np.empty((n, self.dimension), dtype=np.float64)
        for s in range(0, n, batch_size):
            x = _l2_rows(_tf(texts[s : s + batch_size], b).multiply(idf).tocsr())
            out[s : s + batch_size] = np.asarray(x @ comp_t)
            if progress is not None:
                progress(min(s + batch_size, n), n)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms
